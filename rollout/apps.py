from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = _("Rollout")

    def ready(self):
        # Registers the tasks in every process (web, worker, beat): rollout.services queues its recompute
        # task by name (services.RECOMPUTE_TASK), so that the task module alone imports the services.
        from rollout import tasks  # noqa: F401
