"""What bench/generate.py and bench/run.py share: the bench environment and Django setup."""

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
OUT_DIR = ROOT / "bench" / "out"  # git-ignored

DEFAULT_DB = "aftersales_bench"
PG = "postgres://postgres@127.0.0.1:5432"


def bench_env(db: str = DEFAULT_DB) -> dict:
    """Environment for everything that touches the bench database (in-process, manage.py, gunicorn)."""
    return {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"{PG}/{db}"),
        # Redis, not the database cache: throttle counters must not add queries.
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/2"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/2"),
        "SHOP_KEY_THROTTLE_RATE": "100000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "AFTERSALES_VAR_DIR": str(OUT_DIR / "var"),
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
    }


def setup_django(db: str = DEFAULT_DB) -> None:
    os.environ.update(bench_env(db))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()


def database_ready(db: str) -> None:
    """The bench's own database: created when missing, migrated, and Django set up on it."""
    import subprocess

    import psycopg2

    admin = psycopg2.connect(f"{PG}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{db}"')
    admin.close()
    subprocess.run(
        [str(VENV_PY), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **bench_env(db)},
        check=True,
    )
    setup_django(db)


@contextmanager
def timed(label: str, timings: list | None = None):
    start = time.perf_counter()
    print(f"  {label} ...", flush=True)
    yield
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    if timings is not None:
        timings.append((label, elapsed))


def rows_snapshot(cursor) -> dict[str, int]:
    """The highest id of every table with an integer id: what rows_delete_since leaves."""
    cursor.execute(
        "SELECT c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = 'public' AND c.column_name = 'id' AND t.table_type = 'BASE TABLE' "
        "AND c.data_type IN ('integer', 'bigint') AND c.table_name <> 'django_migrations'"
    )
    tables = [row[0] for row in cursor.fetchall()]
    snapshot = {}
    for table in tables:
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
        snapshot[table] = cursor.fetchone()[0]
    return snapshot


def rows_delete_since(cursor, snapshot: dict[str, int]) -> dict[str, int]:
    """Delete every row a benchmark added since `snapshot` (rows of every table, whatever feature
    wrote them: timers, outbox, alerts, markers), so the bench database stays as generated. Foreign
    keys are not checked while deleting (all the new rows go, children and parents alike); the
    tables written are VACUUM ANALYZEd (autovacuum is off on the bench server)."""
    deleted = {}
    cursor.execute("SET session_replication_role = replica")
    try:
        for table, max_id in snapshot.items():
            cursor.execute(f'DELETE FROM "{table}" WHERE id > %s', [max_id])
            if cursor.rowcount:
                deleted[table] = cursor.rowcount
    finally:
        cursor.execute("SET session_replication_role = DEFAULT")
    if deleted:
        cursor.execute("VACUUM ANALYZE " + ", ".join(f'"{t}"' for t in deleted))
    return deleted


def service_ticket_creator(shop, *, order_prefix: str, description: str = ""):
    """A function that creates (and returns) one ticket of `shop` per call through `ticket_create`:
    no HTTP; a new order each time (two items), customers from a pool of 500 sharing one phone.
    What the in-process benches (assignment, automation, the rollup triggers) time."""
    from tickets import services

    actor = services.Actor.shop(shop)
    counter = iter(range(10**9))

    def create():
        n = next(counter)
        return services.ticket_create(
            shop=shop,
            actor=actor,
            dispute_type_code="damaged_on_arrival",
            description=description,
            customer={"external_id": f"c-{n % 500}", "name": "张三", "phone": "13800000000"},
            order={
                "order_no": f"{order_prefix}{time.time_ns()}-{n}",
                "courier": "SF",
                "amount": "21.00",
                "items": [
                    {"sku": "GLASS-500", "unit_price": "10.50", "quantity": 1},
                    {"sku": "CAP-1", "unit_price": "10.50", "quantity": 1},
                ],
            },
        )

    return create


def alternating_blocks(names, *, blocks: int, per_block: int, prepare, create) -> dict:
    """ms per create of each configuration, one block of `per_block` creates at a time, the
    configurations taking turns (`prepare(name)` before each block) so that all of them see the
    same noise: name -> [ms per create of each of its `blocks` blocks]."""
    names = list(names)
    times = {name: [] for name in names}
    for block in range(blocks * len(names)):
        name = names[block % len(names)]
        prepare(name)
        start = time.perf_counter()
        for _ in range(per_block):
            create()
        times[name].append((time.perf_counter() - start) * 1000 / per_block)
    return times


def cpu_snapshot(gunicorn_pgids=()) -> dict:
    """CPU seconds used so far, by process: (group, pid) -> seconds, where the group is one of the
    gunicorn process groups named, PostgreSQL or Redis; plus this process's waited-for children
    (wrk) and the whole machine (/proc/stat, kernel and interrupts included). cpu_used() turns
    two snapshots into each group's CPU over a load's requests."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # ended meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[2]) in gunicorn_pgids:
            used["gunicorn", pid] = seconds
        elif comm == "postgres" or comm.startswith("postgres:"):
            used["postgres", pid] = seconds
        elif comm.startswith("redis-server"):
            used["redis", pid] = seconds
    children = os.times()
    used["wrk", 0] = children.children_user + children.children_system
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    used["machine", 0] = (sum(values[:8]) - idle) / tick
    return used


CPU_GROUPS = ("gunicorn", "postgres", "redis", "wrk", "machine")


def cpu_used(before: dict, after: dict) -> dict:
    """Each group's CPU seconds between two snapshots. A process that ended in between (a
    database connection closed after CONN_MAX_AGE) is left out, and one that started counts
    from zero, so a connection's whole life never comes off the figure."""
    used = dict.fromkeys(CPU_GROUPS, 0.0)
    for key, seconds in after.items():
        used[key[0]] += seconds - before.get(key, 0.0)
    return used
