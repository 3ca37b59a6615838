import pytest
from celery.contrib.testing.tasks import ping
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from smartvillage import celery_app


def test_tasks_run_in_process_when_no_broker_is_configured():
    assert celery_app.conf.task_always_eager is (settings.CELERY_BROKER_URL == "memory://")


@pytest.mark.redis
def test_a_real_worker_runs_a_task_sent_through_redis():
    assert celery_app.conf.broker_url.startswith("redis://")
    # perform_ping_check sends celery.ping through Redis and waits for the worker's answer.
    with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=10):
        assert ping.apply_async(ignore_result=False).get(timeout=10) == "pong"
