from django.apps import AppConfig


class PublicConfig(AppConfig):
    """The top layer, beside portal: the public transparency pages and open data (/publik/), no login."""

    name = "public"
