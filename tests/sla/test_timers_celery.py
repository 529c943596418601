"""Timers with real Redis and real Celery workers against the test database: each timer acts
exactly once as users see it, through duplicate deliveries, concurrent sweeps, a worker killed
with SIGKILL mid-task, and Redis stopped for 30 s."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.db import connection, connections
from django.db.models import Count

from sla import services as sla
from sla.models import Timer, TimerState
from sla.tasks import fire_timers
from tests.factories import ShopFactory, make_ticket, staff_member, ticket_payload
from tickets.models import Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[2]
PAST = dt.datetime(
    2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))
)  # every SLA timer is long due

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="needs CELERY_BROKER_URL=redis://...",
)


def db_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Workers:
    """Real `celery worker` processes (solo pool: the process killed is the one running the task)."""

    def __init__(self, tmp_path, queue: str, broker: str):
        self.tmp_path, self.queue, self.broker, self.procs = tmp_path, queue, broker, []

    def start(self, name: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": db_url(),
            "CELERY_BROKER_URL": self.broker,
            "LOG_LEVEL": "WARNING",
        }
        log = open(self.tmp_path / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "aftersales",
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{name}@%h",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def workers(transactional_db, tmp_path, dispute_types_seeded):
    pool = Workers(
        tmp_path, queue=f"test-{uuid.uuid4().hex[:8]}", broker=os.environ["CELERY_BROKER_URL"]
    )
    yield pool
    pool.stop_all()


def due_tickets(shop, n: int, prefix: str) -> list[Ticket]:
    tickets = []
    with time_machine.travel(PAST, tick=False):
        for i in range(n):
            payload = ticket_payload()
            payload["order"]["order_no"] = f"{prefix}{i}"
            tickets.append(make_ticket(shop, order=payload["order"]))
    return tickets


def wait_until_settled(timeout: float = 90):
    deadline = time.monotonic() + timeout
    while Timer.objects.filter(state__in=[TimerState.PENDING, TimerState.CLAIMED]).exists():
        assert time.monotonic() < deadline, list(
            Timer.objects.filter(state__in=["pending", "claimed"]).values(
                "id", "kind", "state", "attempts"
            )
        )
        time.sleep(0.3)


def assert_each_acted_once(tickets):
    ids = [t.pk for t in tickets]
    assert Timer.objects.filter(ticket_id__in=ids).exclude(state=TimerState.DONE).count() == 0
    assert Timer.objects.filter(ticket_id__in=ids).count() == 4 * len(ids)
    per_ticket = (
        TicketEvent.objects.filter(ticket_id__in=ids, kind="sla")
        .values("ticket_id", "data__what", "data__target")
        .annotate(n=Count("id"))
    )
    # The sweep comes after the deadlines: the breach of first response and resolution is reported,
    # their warnings finish without a word (an 80 % warning is never sent after its deadline).
    assert len(per_ticket) == 2 * len(ids)
    assert {row["data__what"] for row in per_ticket} == {"breached"}
    assert set(
        Timer.objects.filter(ticket_id__in=ids, kind__endswith="warning").values_list(
            "result", flat=True
        )
    ) == {"skipped: already due"}
    assert {row["n"] for row in per_ticket} == {1}
    from notifications.models import Notification

    assert Notification.objects.filter(ticket_id__in=ids, kind="sla_breached").count() == 2 * len(
        ids
    )  # one supervisor
    assert Ticket.objects.filter(pk__in=ids, sla_breached_at__isnull=True).count() == 0


def test_two_workers_and_two_concurrent_sweeps_fire_each_of_many_timers_once(workers):
    shop = ShopFactory(code="celery")
    staff_member(shop, "supervisor", username="sup")
    tickets = due_tickets(shop, 150, "A")  # 600 due timers
    workers.start("w1")
    workers.start("w2")

    claimed = []

    def sweeper():
        try:
            claimed.append(sla.timers_sweep(queue=workers.queue, batch=100))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claimed) == 600  # SKIP LOCKED: the two sweeps split the rows, none claimed twice
    # Every task delivered a second time, as a broker may redeliver: still once.
    ids = list(Timer.objects.values_list("id", flat=True))
    for start in range(0, len(ids), 50):
        fire_timers.apply_async(args=[ids[start : start + 50]], queue=workers.queue)
    wait_until_settled()
    time.sleep(2)  # let the duplicate deliveries finish too
    assert_each_acted_once(tickets)
    assert set(Timer.objects.values_list("attempts", flat=True)) == {1}


def _worker_waiting_on_a_lock(dbname: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
            [dbname],
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_task_loses_nothing_and_the_restart_fires_once(workers, settings):
    shop = ShopFactory(code="celery")
    staff_member(shop, "supervisor", username="sup")
    [ticket] = due_tickets(shop, 1, "K")
    # Hold the ticket's row lock from another connection: the worker's task claims its timer,
    # then waits for the ticket inside its transaction - that is where it gets killed.
    db = connection.settings_dict
    blocker = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    cursor = blocker.cursor()
    cursor.execute("SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE", [ticket.pk])
    first = workers.start("victim")
    assert sla.timers_sweep(queue=workers.queue) == 4
    deadline = time.monotonic() + 30
    while not _worker_waiting_on_a_lock(db["NAME"]):
        assert time.monotonic() < deadline, "the worker never reached the ticket lock"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    blocker.rollback()
    blocker.close()
    time.sleep(1)
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla").count() == 0  # nothing half-done
    assert Timer.objects.filter(ticket=ticket, state=TimerState.CLAIMED).count() == 4

    workers.start("restarted")
    settings.SLA_CLAIM_TIMEOUT_SECONDS = 0  # the reaper frees the dead worker's claims at once
    assert sla.timers_sweep(queue=workers.queue) == 4
    wait_until_settled()
    # The killed task's message may still come back (Redis visibility timeout): send it again now.
    fire_timers.apply_async(
        args=[list(Timer.objects.values_list("id", flat=True))], queue=workers.queue
    )
    time.sleep(2)
    assert_each_acted_once([ticket])
    assert sorted(Timer.objects.values_list("attempts", flat=True)) == [2, 2, 2, 2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, tmp_path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)


def sweep_via(broker: str, queue: str) -> subprocess.CompletedProcess:
    """A sweep from its own process (as beat would run it), publishing to `broker`."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "sla_sweep", "--queue", queue],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_redis_stopped_for_30_seconds_loses_no_timer(
    transactional_db, tmp_path, dispute_types_seeded
):
    port = free_port()
    redis = start_redis(port, tmp_path)
    broker = f"redis://127.0.0.1:{port}/0"
    pool = Workers(tmp_path, queue=f"test-{uuid.uuid4().hex[:8]}", broker=broker)
    try:
        shop = ShopFactory(code="celery")
        staff_member(shop, "supervisor", username="sup")
        before = due_tickets(shop, 20, "B")
        pool.start("w1")
        pool.start("w2")
        assert sweep_via(broker, pool.queue).stdout.strip() == "80"
        wait_until_settled()

        redis.terminate()
        redis.wait(timeout=10)
        stopped = time.monotonic()
        during = due_tickets(shop, 20, "D")  # due while the broker is down
        result = sweep_via(broker, pool.queue)  # claims, cannot publish, gives the claims back
        assert result.returncode == 0, result.stderr
        assert Timer.objects.filter(ticket__in=during, state=TimerState.PENDING).count() == 80
        time.sleep(max(0, 30 - (time.monotonic() - stopped)))

        redis = start_redis(port, tmp_path)  # empty: nothing survived in Redis
        assert sweep_via(broker, pool.queue).stdout.strip() == "80"
        wait_until_settled(timeout=120)  # the workers reconnect by themselves
        assert_each_acted_once(before + during)
    finally:
        pool.stop_all()
        redis.terminate()
        redis.wait(timeout=10)
