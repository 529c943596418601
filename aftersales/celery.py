import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_startup_objects(**_kwargs):
    # As gunicorn.conf.py does: what the app loaded at start moves out of the collector's way,
    # so the generation-2 passes a chunk of timers triggers (thousands of rows) do not rescan it.
    gc.freeze()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **_kwargs):
    # What Django does at the start and end of each request: drop a connection that broke (the
    # database restarted) or outlived CONN_MAX_AGE, and health-check it on its next use. Not for
    # a task run eagerly: it runs inside its caller's transaction, on the caller's connection.
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return

    close_old_connections()
