#!/usr/bin/env python
"""One create-ticket request, taken apart: statements, where the time goes, the top functions.

    .venv/bin/python bench/create_profile.py [--db aftersales_bench --creates 300 --top 25 --list --save FILE]

Sends `POST /api/v1/tickets/` with the shop's API key in-process (django.test.Client, the whole
Django stack: middleware, authentication, throttle, validation, the service, rendering, the
after-commit work), each request a new order as bench/run.py's create load does (six dispute
types in turn, customers from a pool of 5,000). Prints:

- statements per create as PostgreSQL receives them: the queries Django sends (incl. SAVEPOINT /
  RELEASE) plus BEGIN and COMMIT of each transaction and the connection health check, listed;
- ms per create: wall, this process's CPU (Python, incl. the Redis client), the CPU of the
  PostgreSQL backend serving it (/proc of pg_backend_pid(), so run it on the database's host), and
  the wall spent waiting in cursor.execute;
- each feature app's share of a create (the wall time of its hooks, its queries included: risk's
  flags in the answer, assignment's choice, sla's timers, automation's rules, analytics' batch
  check …) against the budgets the issues gave (assignment < 5 ms, automation < 20 %);
- cProfile's top functions of the same creates (own time and cumulative).

The tickets it makes (order numbers `LOAD-P…`) are deleted at the end.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DB, setup_django

TYPES = (
    "damaged_on_arrival",
    "wrong_item",
    "missing_item",
    "late_shipment",
    "lost_parcel",
    "quality_defect",
)
MARK = "LOAD-P"


def payload(n: int) -> dict:
    """The body bench/run.py's wrk script sends."""
    return {
        "dispute_type": TYPES[n % len(TYPES)],
        "description": "bench",
        "channel": "api",
        "requested_resolution": "refund",
        "customer": {
            "external_id": f"bench-c-{n % 5000}",
            "name": "压测",
            "phone": f"138{n % 5000:08d}",
        },
        "order": {
            "order_no": f"{MARK}{os.getpid()}-{n}",
            "amount": "21.00",
            "paid_at": "2026-11-20T10:00:00+08:00",
            "courier": "SF",
            "tracking_no": "SF123",
            "items": [
                {
                    "sku": "GLASS-500",
                    "name": "glass",
                    "batch_no": "B2311",
                    "unit_price": "10.50",
                    "quantity": 2,
                }
            ],
        },
        "affected_items": [{"sku": "GLASS-500", "quantity": 1}],
    }


def backend_cpu_ms(pid: int) -> float:
    """utime + stime of a local process, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class Statements:
    """Counts what reaches PostgreSQL: Django's queries plus the transaction control psycopg2 sends
    on its own (BEGIN before the first statement of a transaction, COMMIT/ROLLBACK) and the
    health check (`SELECT 1`) Django runs on a reused connection after each request."""

    def __init__(self, connection):
        self.connection = connection
        self.log: list[str] = []
        self.execute_s = 0.0

    @contextmanager
    def capture(self):
        connection = self.connection
        originals = {
            name: getattr(connection, name) for name in ("_commit", "_rollback", "is_usable")
        }

        def wrap(name, label):
            def inner(*args, **kwargs):
                if label and (name != "_commit" or not connection.get_autocommit()):
                    self.log.append(label)
                return originals[name](*args, **kwargs)

            return inner

        connection._commit = wrap("_commit", "COMMIT")
        connection._rollback = wrap("_rollback", "ROLLBACK")
        connection.is_usable = wrap("is_usable", "SELECT 1 (health check)")

        def execute(execute_, sql, params, many, context):
            if connection.in_atomic_block and not getattr(connection, "_bench_in_tx", False):
                self.log.append("BEGIN")
                connection._bench_in_tx = True
            start = time.perf_counter()
            try:
                return execute_(sql, params, many, context)
            finally:
                self.execute_s += time.perf_counter() - start
                self.log.append(" ".join(sql.split())[:150])

        def on_end(*args, **kwargs):
            connection._bench_in_tx = False

        ends = {name: getattr(connection, name) for name in ("_commit", "_rollback")}

        def ending(name):
            def inner(*args, **kwargs):
                on_end()
                return ends[name](*args, **kwargs)

            return inner

        connection._commit = ending("_commit")
        connection._rollback = ending("_rollback")
        try:
            with connection.execute_wrapper(execute):
                yield self
        finally:
            for name, fn in originals.items():
                setattr(connection, name, fn)
            connection._bench_in_tx = False


# What the issues allow a feature per create (issue 14: assignment < 5 ms; issue 15: rules < 20 %).
BUDGETS = {"assignment": ("ms", 5.0), "automation": ("%", 20.0)}


@contextmanager
def feature_clock():
    """Every feature's hooks (aftersales.hooks: subscribers, after-commit subscribers, providers)
    timed while the block runs, wall time with their queries, by app. A hook called inside another
    feature's hook counts for the outer one, so the shares add up."""
    from aftersales import hooks

    spent = defaultdict(float)
    depth = [0]

    def timed(fn):
        app = fn.__module__.split(".")[0]

        def wrapper(*args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[app] += time.perf_counter() - start

        wrapper.__qualname__ = getattr(fn, "__qualname__", "hook")
        wrapper.__module__ = fn.__module__
        return wrapper

    registries = (hooks._providers, hooks._in_transaction, hooks._after_commit)
    saved = [{name: list(fns) for name, fns in registry.items()} for registry in registries]
    for registry in registries:
        for fns in registry.values():
            fns[:] = [timed(fn) for fn in fns]
    try:
        yield spent
    finally:
        for registry, original in zip(registries, saved, strict=True):
            for name, fns in original.items():
                registry[name][:] = fns


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--creates", type=int, default=300, help="timed creates")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--top", type=int, default=25, help="functions listed from the profile")
    parser.add_argument("--list", action="store_true", help="list the statements of one create")
    parser.add_argument("--save", metavar="FILE", help="write the profile (pstats) to FILE too")
    args = parser.parse_args()
    setup_django(args.db)

    import gc

    from django.db import connection
    from django.test import Client

    from bench.common import rows_delete_since, rows_snapshot
    from shops.models import Shop, ShopAPIKey

    shop = Shop.objects.get(code="demo")
    with connection.cursor() as cur:
        snapshot = rows_snapshot(cur)
    key_row, api_key = ShopAPIKey.objects.create_key(name="bench create profile", shop=shop)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    counter = iter(range(10**9))

    def create():
        response = client.post(
            "/api/v1/tickets/", payload(next(counter)), content_type="application/json", **headers
        )
        if response.status_code != 201:
            raise SystemExit(f"create -> {response.status_code}: {response.content[:400]!r}")

    try:
        for _ in range(args.warmup):
            create()
        gc.collect()
        gc.freeze()  # as gunicorn.conf.py does in each worker

        # 1) statements, over a few creates (one per dispute type: the quality types do more)
        per_create = []
        listing = None
        for _ in range(len(TYPES)):
            stmts = Statements(connection)
            with stmts.capture():
                create()
            per_create.append(len(stmts.log))
            if listing is None or len(stmts.log) > len(listing):
                listing = stmts.log
        # 2) time: wall, this process's CPU, the backend's CPU, time waiting on execute
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        walls, execute_ms = [], []
        cpu0, pg0 = time.process_time(), backend_cpu_ms(backend)
        start_all = time.perf_counter()
        for _ in range(args.creates):
            stmts = Statements(connection)
            start = time.perf_counter()
            with stmts.capture():
                create()
            walls.append((time.perf_counter() - start) * 1000)
            execute_ms.append(stmts.execute_s * 1000)
            gc.collect()  # gunicorn.conf.py collects before the next request; here outside the timing
        total_s = time.perf_counter() - start_all
        cpu_ms = (time.process_time() - cpu0) * 1000 / args.creates
        pg_ms = (backend_cpu_ms(backend) - pg0) / args.creates
        # 3) each feature's share of a create: the same creates with the hooks timed
        with feature_clock() as spent:
            start = time.perf_counter()
            for _ in range(args.creates):
                create()
            clocked_ms = (time.perf_counter() - start) * 1000 / args.creates
        shares = {app: seconds * 1000 / args.creates for app, seconds in spent.items()}
        # 4) the profile
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.creates):
            create()
        profiler.disable()
    finally:
        key_row.delete()
        with connection.cursor() as cur:
            removed = rows_delete_since(cur, snapshot)

    print(
        f"create-ticket in-process against {args.db}, {args.creates} creates after {args.warmup} "
        f"warm-up; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"  statements per create (incl. BEGIN/COMMIT/SAVEPOINT, health check): "
        f"{min(per_create)}–{max(per_create)} over the six dispute types"
    )
    print(
        f"  wall per create: p50 {statistics.median(walls):.2f} ms "
        f"(p95 {sorted(walls)[int(len(walls) * 0.95)]:.2f}); mean {total_s * 1000 / args.creates:.2f} incl. gc"
    )
    print(
        f"  CPU per create: Python (this process) {cpu_ms:.2f} ms, PostgreSQL backend {pg_ms:.2f} ms; "
        f"waiting in cursor.execute {statistics.median(execute_ms):.2f} ms (p50)"
    )
    print(
        f"\n  the features' share of a create ({clocked_ms:.2f} ms each in that pass; their hooks, queries included):"
    )
    for app, ms in sorted(shares.items(), key=lambda item: -item[1]):
        unit, limit = BUDGETS.get(app, (None, None))
        share = ms * 100 / clocked_ms
        budget = ""
        if unit == "ms":
            budget = f"   budget < {limit:g} ms {'✔' if ms < limit else '✘'}"
        elif unit == "%":
            budget = f"   budget < {limit:g} % {'✔' if share < limit else '✘'}"
        print(f"    {app:12s} {ms:6.2f} ms  {share:5.1f} %{budget}")
    features = sum(shares.values())
    print(
        f"    {'all':12s} {features:6.2f} ms  {features * 100 / clocked_ms:5.1f} %  (the rest: the core, DRF, auth)"
    )
    if args.list:
        print("\n  statements of the longest create:")
        for n, line in enumerate(listing, 1):
            print(f"   {n:2d}. {line}")
    if args.save:
        profiler.dump_stats(args.save)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top * 2)
    text = out.getvalue()
    print(f"\n  cProfile of {args.creates} creates (ms are totals over all of them):")
    print("\n".join(line for line in text.splitlines() if line.strip()))
    print(f"\n  removed what it wrote: {removed}")


if __name__ == "__main__":
    main()
