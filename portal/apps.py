from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top layer: the pages that read across apps (dashboard, audit trail) and the URLconf."""

    name = "portal"
