"""The broker restarts under a running worker (issue 12): a private redis-server is killed while
a task runs and started again, empty, on the same port; the same worker process, untouched,
goes on firing SLA timers and delivering webhooks."""

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.db import connection
from kombu import pools as kombu_pools

from aftersales.celery import app
from sla.models import Timer, TimerState
from sla.tasks import sweep_timers
from tests.factories import ShopFactory, make_ticket, ticket_payload
from tests.webhooks.receiver import Receiver
from webhooks import services as webhooks
from webhooks.models import WebhookDelivery

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(6440, 6450)  # the ports this project's tests may give a private redis-server
PAST = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WAIT = 30  # seconds for a round of work to complete

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart starts it empty."""

    def __init__(self, port: int, tmp_path: Path):
        self.port, self.tmp_path, self.proc = port, tmp_path, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.tmp_path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            assert self.proc.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # as a crash: no goodbye to the clients
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def _publish_to(url: str | None) -> None:
    """Publish from this test process to `url`; None: back to the configured broker. (The write
    URL: Celery reads broker_url from the CELERY_BROKER_URL environment variable first.)"""
    app.conf.update(broker_write_url=url)
    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _start_worker(broker_url: str, log_path: Path, **env) -> subprocess.Popen:
    """A `celery worker` as deployed (prefork pool, gossip, mingle and heartbeats), consuming the
    default queue."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "aftersales", "worker"),
                *("--concurrency=1", "--loglevel=INFO"),
            ],
            cwd=ROOT,
            env={**os.environ, "CELERY_BROKER_URL": broker_url, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proc.log_path = log_path
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def worker(transactional_db, dispute_types_seeded, redis_server, tmp_path):
    """A worker on the private broker, against the test database."""
    db = connection.settings_dict
    proc = _start_worker(
        redis_server.url,
        tmp_path / "worker.log",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        WEBHOOK_ALLOW_LOOPBACK_HTTP="true",
    )
    _publish_to(redis_server.url)
    yield proc
    _publish_to(None)
    _stop(proc)


def _log(worker) -> str:
    return worker.log_path.read_text(errors="replace")[-4000:]


def _due_ticket(shop, order_no: str):
    """A ticket whose SLA timers are all due; its creation is a webhook event."""
    payload = ticket_payload()
    payload["order"]["order_no"] = order_no
    with time_machine.travel(PAST, tick=False):
        return make_ticket(shop, order=payload["order"])  # commits: deliver_webhook is queued


def _wait_for(what: str, done, worker) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        assert time.monotonic() < deadline, (
            f"not within {WAIT} s: {what} (worker alive: {worker.poll() is None})\n{_log(worker)}"
        )
        time.sleep(0.2)


def _timers_fired(ticket) -> bool:
    timers = Timer.objects.filter(ticket=ticket)
    return timers.exists() and not timers.exclude(state=TimerState.DONE).exists()


def _round_of_work(shop, order_no: str, receiver: Receiver, worker) -> None:
    """The beat's sweep task fires a new ticket's due timers, and the worker delivers the
    ticket.created webhook to the receiver."""
    ticket = _due_ticket(shop, order_no)
    sweep_timers.delay()
    _wait_for(f"{order_no}'s timers fired", lambda: _timers_fired(ticket), worker)
    _wait_for(
        f"{order_no}'s webhook delivered",
        lambda: any(
            r["event"]["type"] == "ticket.created" and r["event"]["data"]["number"] == ticket.number
            for r in receiver.received
        ),
        worker,
    )
    delivery = WebhookDelivery.objects.get(
        event__type="ticket.created", event__data__number=ticket.number
    )
    assert delivery.status == WebhookDelivery.Status.DELIVERED


def _a_query_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_the_worker_rides_out_a_broker_restart(worker, redis_server, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True  # the worker has it from its environment
    shop = ShopFactory(code="broker")
    with Receiver() as receiver:
        endpoint = webhooks.endpoint_create(shop=shop, url=receiver.url, events=["*"])
        receiver.secret = endpoint.secret
        _round_of_work(shop, "BEFORE1", receiver, worker)

        # A task is running when the broker goes away (its message unacknowledged, acks_late):
        # the worker's fire_timers waits for a ticket row another connection holds.
        busy = _due_ticket(shop, "BUSY1")
        db = connection.settings_dict
        blocker = psycopg2.connect(
            dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"]
        )
        try:
            blocker.cursor().execute(
                "SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE", [busy.pk]
            )
            sweep_timers.delay()
            _wait_for("a timer task waits for the ticket", _a_query_waits_on_a_lock, worker)

            redis_server.stop()  # the broker goes away, and with it every queued message
            time.sleep(3)
        finally:
            blocker.rollback()  # the running task goes on
            blocker.close()
        time.sleep(5)  # the worker keeps trying to reconnect
        assert worker.poll() is None, f"the worker exited without its broker\n{_log(worker)}"
        redis_server.start()  # same port, empty

        _round_of_work(shop, "AFTER1", receiver, worker)
        _wait_for(
            "the task running during the outage finished", lambda: _timers_fired(busy), worker
        )
        assert worker.poll() is None
    assert "Unrecoverable error" not in worker.log_path.read_text(errors="replace")


def test_a_worker_started_before_its_broker_waits_for_it_without_a_limit(tmp_path):
    # Celery's default gives up after 100 attempts (about 46 minutes) and the worker exits.
    redis_server = PrivateRedis(_free_port(), tmp_path)
    worker = _start_worker(redis_server.url, tmp_path / "worker.log")
    try:
        _wait_for("a first retry", lambda: "Trying again" in _log(worker), worker)
        assert "(1/None)" in _log(worker)  # attempt 1 of no maximum
        assert worker.poll() is None
        redis_server.start()
        _wait_for("the worker ready", lambda: " ready." in _log(worker), worker)
    finally:
        _stop(worker)
        redis_server.stop()
