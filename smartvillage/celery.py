import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")

app = Celery("smartvillage")
# Every Celery option lives in Django settings under the CELERY_ prefix, so
# the embedded (eager) and production (Redis) modes are decided in one place.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
