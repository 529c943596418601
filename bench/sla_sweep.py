#!/usr/bin/env python
"""SLA timer sweep at scale: an empty tick, and a tick with 10,000 timers due.

    .venv/bin/python bench/generate.py --db aftersales_bench_sla_open --all-active   # 1M open tickets, once (~2 min)
    .venv/bin/python bench/generate.py --db aftersales_bench_sla_open_100k --tickets 100000 --all-active
    .venv/bin/python bench/sla_sweep.py --db aftersales_bench_sla_open_100k
    .venv/bin/python bench/sla_sweep.py --db aftersales_bench_sla_open [--drain]

Timers are loaded the way the services would have made them: the four SLA timers (pending,
due in the future) for every active ticket, two finished ones for every resolved/closed ticket.
Then:
  * empty tick: timers_sweep() with nothing due (reaper + claim query), --runs times;
  * 10,000 due: that many resolution-breach timers of tickets whose clock runs and whose
    resolution is overdue (so each one really fires) moved into the past, one real tick: claim
    in batches with SKIP LOCKED, enqueue the fire tasks on Redis (a private queue, purged after);
  * --drain: two real Celery workers (prefork, concurrency 1 each) are started and pinged
    until both answer, THEN the tick runs; reported: the tick, the time from the start of the
    tick until every timer is done, timers/s, what the timers did, and (in-process, one chunk
    of SLA_TASK_CHUNK more timers) the statements per timer. Each shop gets a webhook endpoint
    for `ticket.sla_breached` (so the outbox is written; nothing consumes the delivery tasks)
    and has its bootstrap supervisor and admin; the rows written are removed afterwards.

Use your own Redis DB: BENCH_CELERY_BROKER_URL=redis://127.0.0.1:6379/6 (see bench/common.py).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DB, ROOT, VENV_PY, bench_env, setup_django

DUE = 10_000


def load_timers(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_timer")
        cursor.execute(
            """
            INSERT INTO sla_timer (ticket_id, kind, due_at, state, attempts, result, data, created_at)
            SELECT t.id, k.kind, now() + interval '1 day' + (t.id % 5000) * interval '1 minute', 'pending', 0, '', '{}', now()
            FROM tickets_ticket t
            CROSS JOIN (VALUES ('first_response_warning'), ('first_response_breach'),
                               ('resolution_warning'), ('resolution_breach')) AS k(kind)
            WHERE t.status IN ('new', 'open', 'pending_internal')
            """
        )
        cursor.execute(
            """
            INSERT INTO sla_timer (ticket_id, kind, due_at, state, attempts, done_at, result, data, created_at)
            SELECT t.id, k.kind, t.created_at + interval '1 hour', 'done', 1, t.created_at + interval '1 hour', 'fired', '{}', t.created_at
            FROM tickets_ticket t
            CROSS JOIN (VALUES ('first_response_warning'), ('resolution_warning')) AS k(kind)
            WHERE t.status IN ('resolved', 'closed')
            """
        )
    # Autovacuum is off on the bench server: clear what earlier runs left (their breaches updated
    # 10,000 tickets and wrote rows that were deleted again), or each run is slower than the last.
    with connection.cursor() as cursor:
        for table in (
            "sla_timer",
            "tickets_ticket",
            "tickets_ticketevent",
            "notifications_notification",
            "webhooks_webhookevent",
            "webhooks_webhookdelivery",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def make_due(cursor, n: int) -> None:
    """n resolution breaches that really fire: clock running, resolution overdue, one per ticket."""
    cursor.execute(
        "UPDATE sla_timer SET due_at = now() - interval '1 minute' WHERE id IN "
        "(SELECT s.id FROM sla_timer s JOIN tickets_ticket t ON t.id = s.ticket_id "
        " WHERE s.state = 'pending' AND s.kind = 'resolution_breach' AND s.due_at > now()"
        "   AND t.status IN ('new', 'open', 'pending_internal') AND t.sla_paused_at IS NULL"
        "   AND t.resolution_due_at <= now() - interval '1 minute' ORDER BY s.ticket_id LIMIT %s)",
        [n],
    )
    assert cursor.rowcount == n, f"only {cursor.rowcount} overdue tickets to breach"


def add_endpoints() -> list[int]:
    from shops.models import Shop
    from webhooks.models import WebhookEndpoint

    return [
        WebhookEndpoint.objects.create(
            shop=shop,
            url="https://127.0.0.1:9/bench-hook",
            events=["ticket.sla_breached"],
            secret="whsec_bench",
        ).pk
        for shop in Shop.objects.all()
    ]


def start_workers(app, queue: str, env: dict) -> list[subprocess.Popen]:
    """Two workers on the bench queue, returned once both answer a ping."""
    names = [f"bench{i}-{queue}@{socket.gethostname()}" for i in range(2)]
    workers = [
        subprocess.Popen(
            [
                str(VENV_PY),
                "-m",
                "celery",
                "-A",
                "aftersales",
                "worker",
                "-Q",
                queue,
                "-n",
                name,
                "--concurrency=1",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
    ]
    t0 = time.perf_counter()
    while True:
        replies = app.control.ping(destination=names, timeout=0.5) or []
        if {name for reply in replies for name in reply} >= set(names):
            break
        if time.perf_counter() - t0 > 60:
            stop_workers(workers)
            raise SystemExit("the workers did not answer a ping within 60 s")
    print(f"  2 workers ready in {time.perf_counter() - t0:.1f} s")
    return workers


def cpu_seconds(pids) -> float:
    """user + system CPU of live processes (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def pool_pids(workers) -> list[int]:
    """The prefork pool processes (children of the worker processes): where the tasks run."""
    parents = {w.pid for w in workers}
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) in parents:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def backend_pids(connection) -> list[int]:
    """This connection's PostgreSQL backend (its CPU is read from /proc)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return [cursor.fetchone()[0]]


def other_backends(connection, own) -> list[int]:
    """The other client backends of this database (the workers' connections)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> ALL(%s)",
            [own],
        )
        return [row[0] for row in cursor.fetchall()]


def stop_workers(workers) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def one_chunk_in_process(services, connection) -> str:
    """SLA_TASK_CHUNK more due breaches, claimed and fired here: statements and time per timer."""
    from django.conf import settings
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    n = settings.SLA_TASK_CHUNK
    with connection.cursor() as cursor:
        make_due(cursor, n)
    ids = services.timers_claim_due(now=timezone.now(), limit=n)
    backend = backend_pids(connection)
    with CaptureQueriesContext(connection) as queries:
        t0, python0, pg0 = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        results = services.timers_fire(timer_ids=ids)
        elapsed, python, pg = (
            time.perf_counter() - t0,
            time.process_time() - python0,
            cpu_seconds(backend) - pg0,
        )
    fired = sum(1 for r in results.values() if r == "fired")
    return (
        f"{len(ids)} timers ({fired} fired) in {elapsed * 1000:.0f} ms, {len(queries)} statements "
        f"= {len(queries) / max(len(ids), 1):.2f} per timer; CPU {(python + pg) / len(ids) * 1000:.2f} ms per timer "
        f"(Python {python / len(ids) * 1000:.2f}, PostgreSQL {pg / len(ids) * 1000:.2f})"
    )


def cleanup(connection, endpoints) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM webhooks_webhookdelivery WHERE endpoint_id = ANY(%s)", [endpoints]
        )
        cursor.execute("DELETE FROM webhooks_webhookendpoint WHERE id = ANY(%s)", [endpoints])
        cursor.execute("DELETE FROM notifications_notification")
        cursor.execute("DELETE FROM tickets_ticketevent WHERE kind = 'sla'")
        cursor.execute(
            "UPDATE tickets_ticket SET sla_breached_at = NULL WHERE sla_breached_at IS NOT NULL"
        )
        cursor.execute("DELETE FROM webhooks_webhookevent WHERE type = 'ticket.sla_breached'")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--drain", action="store_true", help="also fire the 10,000 with two real Celery workers"
    )
    parser.add_argument(
        "--chunk",
        type=int,
        help="SLA_TASK_CHUNK for the tick, the workers and the in-process chunk",
    )
    args = parser.parse_args()
    if args.chunk:
        os.environ["SLA_TASK_CHUNK"] = str(args.chunk)

    subprocess.run(
        [str(VENV_PY), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **bench_env(args.db)},
        check=True,
    )
    setup_django(args.db)
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from aftersales.celery import app
    from notifications.models import Notification
    from sla import services
    from sla.models import Timer
    from tickets.models import Ticket, TicketEvent
    from webhooks.models import WebhookEvent

    connection.ensure_connection()
    connection.connection.autocommit = True
    start = time.perf_counter()
    load_timers(connection)
    tickets = Timer.objects.none().model._meta.apps.get_model("tickets", "Ticket").objects.count()
    pending = Timer.objects.filter(state="pending").count()
    total = Timer.objects.count()
    print(
        f"{args.db}: {tickets:,} tickets, {total:,} timers ({pending:,} pending), loaded in {time.perf_counter() - start:.1f} s"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM sla_timer WHERE state = 'pending' AND due_at <= now() "
            "ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP LOCKED"
        )
        plan = [row[0] for row in cursor.fetchall()]
    print("  claim query plan:\n    " + "\n    ".join(plan))

    # Empty tick: reaper + one claim query that finds nothing.
    for _ in range(5):
        services.timers_sweep(enqueue=lambda ids: None)
    samples = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        claimed = services.timers_sweep(enqueue=lambda ids: None)
        samples.append((time.perf_counter() - t0) * 1000)
        assert claimed == 0
    samples.sort()
    print(
        f"  empty tick: p50 {statistics.median(samples):.2f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms, max {samples[-1]:.2f} ms ({args.runs} runs)"
    )

    # 10,000 due: one real tick, enqueueing on Redis.
    with connection.cursor() as cursor:
        make_due(cursor, DUE)
        cursor.execute("ANALYZE sla_timer")
    queue = f"bench-sla-{uuid.uuid4().hex[:6]}"
    workers = []
    if args.drain:
        endpoints = add_endpoints()
        workers = start_workers(app, queue, env={**os.environ, **bench_env(args.db)})
    own_backend = backend_pids(connection)
    here_before = cpu_seconds(own_backend) + time.process_time()
    t0 = time.perf_counter()
    claimed = services.timers_sweep(queue=queue, now=timezone.now())
    tick = time.perf_counter() - t0
    if not args.drain:
        with app.connection_for_write() as conn:
            messages = conn.default_channel.queue_declare(queue, passive=True).message_count
        print(
            f"  tick with {DUE:,} due: {claimed:,} claimed and {messages} tasks enqueued in {tick * 1000:.0f} ms "
            f"(chunk {settings.SLA_TASK_CHUNK})"
        )

    if args.drain:
        try:
            while Timer.objects.filter(state="claimed").exists():
                time.sleep(0.05)
            drained = time.perf_counter() - t0
            # CPU spent (less sensitive than wall time to what else runs on the machine): the
            # workers' pool processes, every backend of the bench database, this process.
            # The workers' PostgreSQL backends live as long as their connections (CONN_MAX_AGE), i.e.
            # were opened for this drain: their CPU is the database's share of the firing.
            here_cpu = cpu_seconds(own_backend) + time.process_time() - here_before
            worker_cpu = cpu_seconds(pool_pids(workers))
            workers_pg_cpu = cpu_seconds(other_backends(connection, own_backend))
        finally:
            stop_workers(workers)
        results = dict(
            Timer.objects.filter(due_at__lt=timezone.now(), kind="resolution_breach")
            .values_list("result")
            .annotate(n=Count("id"))
            .values_list("result", "n")
        )
        written = {
            "events": TicketEvent.objects.filter(kind="sla", data__what="breached").count(),
            "notifications": Notification.objects.filter(kind="sla_breached").count(),
            "webhook events": WebhookEvent.objects.filter(type="ticket.sla_breached").count(),
            "breached tickets": Ticket.objects.filter(sla_breached_at__isnull=False).count(),
        }
        print(
            f"  tick with {DUE:,} due: {claimed:,} claimed and enqueued in {tick * 1000:.0f} ms (chunk {settings.SLA_TASK_CHUNK})"
        )
        print(
            f"  2 workers (ready before the tick) fired them: all done {drained:.2f} s after the tick started "
            f"({claimed / drained:.0f} timers/s)"
        )
        print(f"    timers: {results}; written: {written}")
        print(
            f"    CPU: worker pools {worker_cpu:.2f} s = {worker_cpu / claimed * 1000:.2f} ms per timer, "
            f"their PostgreSQL backends {workers_pg_cpu:.2f} s = {workers_pg_cpu / claimed * 1000:.2f} ms per timer; "
            f"the tick and the polling here (with its backend) {here_cpu:.2f} s"
        )
        per_timer = one_chunk_in_process(services, connection)
        print(f"  one chunk in-process: {per_timer}")
        cleanup(connection, endpoints)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
        if args.drain and os.environ.get("BENCH_CELERY_BROKER_URL"):
            # A private Redis DB: drop the webhook delivery tasks nobody consumed (their rows are gone).
            conn.default_channel.queue_purge("celery")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_timer SET state = 'pending', claimed_at = NULL, due_at = now() + interval '1 day' "
            "WHERE due_at < now() AND kind = 'resolution_breach'"
        )


if __name__ == "__main__":
    main()
