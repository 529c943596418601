import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_startup_objects(**_kwargs):
    # As gunicorn.conf.py does: what the app loaded at start moves out of the collector's way,
    # so the generation-2 passes a chunk of timers triggers (thousands of rows) do not rescan it.
    gc.freeze()
