"""A real Celery worker on real Redis runs the project's tasks against the test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import ShopFactory
from tickets.models import IdempotencyRecord
from tickets.tasks import purge_expired_idempotency_records

ROOT = Path(__file__).resolve().parent.parent
WORKER_APP_NAME = "aftersales-test-worker"


@pytest.fixture
def celery_worker_process(transactional_db):
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    db = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # libpq names the worker's connections, so they are told apart from any other session on
        # the test database (an earlier test's live server or browser thread).
        "PGAPPNAME": WORKER_APP_NAME,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aftersales",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield queue
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_worker_runs_purge_task_on_redis(celery_worker_process):
    shop = ShopFactory(code="celery")
    old = timezone.now() - timedelta(hours=25)
    IdempotencyRecord.objects.create(
        shop=shop,
        key="old",
        request_hash="x",
        response_status=201,
        response_body={},
        created_at=old,
    )
    IdempotencyRecord.objects.create(
        shop=shop,
        key="fresh",
        request_hash="x",
        response_status=201,
        response_body={},
        created_at=timezone.now(),
    )

    purge_expired_idempotency_records.apply_async(queue=celery_worker_process)

    deadline = time.monotonic() + 30
    while IdempotencyRecord.objects.filter(key="old").exists():
        assert time.monotonic() < deadline, "the worker did not run the task within 30 s"
        time.sleep(0.2)
    assert IdempotencyRecord.objects.filter(key="fresh").exists()


def _purge_once(queue: str, key: str) -> None:
    IdempotencyRecord.objects.create(
        shop=ShopFactory(code=key),
        key=key,
        request_hash="x",
        response_status=201,
        response_body={},
        created_at=timezone.now() - timedelta(hours=25),
    )
    purge_expired_idempotency_records.apply_async(queue=queue)
    deadline = time.monotonic() + 30
    while IdempotencyRecord.objects.filter(key=key).exists():
        assert time.monotonic() < deadline, "the worker did not run the task within 30 s"
        time.sleep(0.1)


def _worker_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND backend_type = 'client backend'",
            [WORKER_APP_NAME],
        )
        return {row[0] for row in cursor.fetchall()}


def test_worker_keeps_its_database_connection_and_replaces_a_broken_one(celery_worker_process):
    # Celery's Django fixup would close it after every task (CELERY_DB_REUSE_MAX unset): a new
    # PostgreSQL backend per task. aftersales.celery checks it around each task instead.
    _purge_once(celery_worker_process, "first")
    first = _worker_backends()
    _purge_once(celery_worker_process, "second")
    assert _worker_backends() == first and len(first) == 1
    with connection.cursor() as cursor:  # the database drops the worker's connection
        cursor.execute("SELECT pg_terminate_backend(%s)", [first.pop()])
    _purge_once(celery_worker_process, "third")
    _purge_once(celery_worker_process, "fourth")
