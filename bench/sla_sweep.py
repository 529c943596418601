#!/usr/bin/env python
"""SLA timer sweep at scale: an empty tick, and a tick with 10,000 timers due.

    .venv/bin/python bench/generate.py --db aftersales_bench_sla               # 1M tickets, once (~60 s)
    .venv/bin/python bench/generate.py --db aftersales_bench_sla_100k --tickets 100000
    .venv/bin/python bench/sla_sweep.py --db aftersales_bench_sla_100k
    .venv/bin/python bench/sla_sweep.py --db aftersales_bench_sla [--drain]

Timers are loaded the way the services would have made them: the four SLA timers (pending,
due in the future) for every active ticket, two finished ones for every resolved/closed ticket.
Then:
  * empty tick: timers_sweep() with nothing due (reaper + claim query), --runs times;
  * 10,000 due: that many pending timers moved into the past, one real tick: claim in
    batches with SKIP LOCKED, enqueue the fire tasks on Redis (a private queue, purged after);
  * --drain: two real Celery workers (prefork, concurrency 1 each) fire the 10,000 and the time
    until all are done is reported; the rows they wrote are removed afterwards.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DB, ROOT, VENV_PY, bench_env, setup_django  # noqa: E402

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
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sla_timer")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--drain", action="store_true", help="also fire the 10,000 with two real Celery workers")
    args = parser.parse_args()

    subprocess.run([str(VENV_PY), "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env={**os.environ, **bench_env(args.db)}, check=True)
    setup_django(args.db)
    from django.db import connection
    from django.utils import timezone

    from aftersales.celery import app
    from sla import services
    from sla.models import Timer

    connection.ensure_connection()
    connection.connection.autocommit = True
    start = time.perf_counter()
    load_timers(connection)
    tickets = Timer.objects.none().model._meta.apps.get_model("tickets", "Ticket").objects.count()
    pending = Timer.objects.filter(state="pending").count()
    total = Timer.objects.count()
    print(f"{args.db}: {tickets:,} tickets, {total:,} timers ({pending:,} pending), loaded in {time.perf_counter() - start:.1f} s")

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
    print(f"  empty tick: p50 {statistics.median(samples):.2f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms, max {samples[-1]:.2f} ms ({args.runs} runs)")

    # 10,000 due: one real tick, enqueueing on Redis.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_timer SET due_at = now() - interval '1 minute' WHERE id IN "
            "(SELECT id FROM sla_timer WHERE state = 'pending' AND kind = 'first_response_breach' ORDER BY id LIMIT %s)",
            [DUE],
        )
        cursor.execute("ANALYZE sla_timer")
    queue = f"bench-sla-{uuid.uuid4().hex[:6]}"
    t0 = time.perf_counter()
    claimed = services.timers_sweep(queue=queue, now=timezone.now())
    tick = time.perf_counter() - t0
    with app.connection_for_write() as conn:
        messages = conn.default_channel.queue_declare(queue, passive=True).message_count
    print(f"  tick with {DUE:,} due: {claimed:,} claimed and {messages} tasks enqueued in {tick * 1000:.0f} ms")

    if args.drain:
        env = {**os.environ, **bench_env(args.db)}
        workers = [
            subprocess.Popen([str(VENV_PY), "-m", "celery", "-A", "aftersales", "worker", "-Q", queue, "-n", f"bench{i}@%h",
                              "--concurrency=1", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(2)
        ]
        t0 = time.perf_counter()
        while Timer.objects.filter(state="claimed").exists():
            time.sleep(0.2)
        drained = time.perf_counter() - t0
        print(f"  2 workers fired the {DUE:,} (breach: event, notifications, webhook outbox) in {drained:.1f} s "
              f"({DUE / drained:.0f}/s, including worker start-up)")
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM notifications_notification")
            cursor.execute("DELETE FROM tickets_ticketevent WHERE kind = 'sla'")
            cursor.execute("UPDATE tickets_ticket SET sla_breached_at = NULL WHERE sla_breached_at IS NOT NULL")
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sla_timer SET state = 'pending', claimed_at = NULL, due_at = now() + interval '1 day' WHERE state IN ('claimed', 'done') AND due_at < now() AND kind = 'first_response_breach'")


if __name__ == "__main__":
    main()
