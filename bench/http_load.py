#!/usr/bin/env python
"""The product over HTTP, as a peer would be measured: gunicorn + wrk on loopback, several rounds.

    .venv/bin/python bench/http_load.py                     # 100k and 1M, 4 rounds of 10 s per figure
    .venv/bin/python bench/http_load.py --db aftersales_bench --rounds 2 --seconds 5
    git worktree add --detach ../before <commit> && ln -s $PWD/.venv ../before/.venv
    .venv/bin/python bench/http_load.py --baseline ../before      # before/after in one run

For each bench database (bench/generate.py) a gunicorn with --workers sync workers (2, as the
peer was measured; gunicorn.conf.py's hooks apply) serves the product, and wrk drives it over
127.0.0.1 for each figure:

  create       POST /api/v1/tickets/ as the shop's key, a new order per request    (c4)
  queue        GET / as the logged-in agent `agent`, the default view              (c1, c4)
  ticket page  GET /tickets/<number>/, 50 tickets rotated                           (c1)
  list API     GET /api/v1/tickets/?page_size=25 as the shop's key                  (c1)

All servers run at once and the figures alternate — round 1 runs every figure on every database,
then round 2 … — so every figure sees the same noise; the table gives the median of the rounds
and their range (min–max), p50/p95/p99 latency (medians of the rounds' wrk percentiles), the
queries one request makes (counted in-process with CaptureQueriesContext) and the 1-minute load
average when each run started (median and range). The tickets the create load made are deleted
at the end, so the databases stay as generated.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CPU_GROUPS, OUT_DIR, ROOT, VENV_PY, cpu_snapshot, cpu_used

DEFAULT_DBS = ("aftersales_bench_100k", "aftersales_bench")

from bench.run import WRK_CREATE as _WRK_CREATE  # noqa: E402

# run.py's create load, its order numbers also marked by round and server ("t1", "b2"), so rounds
# and the baseline never send the same order number twice.
WRK_CREATE = _WRK_CREATE.replace('"LOAD-%d-%d"', '"LOAD-__ROUND__-%d-%d"')
assert "__ROUND__" in WRK_CREATE

WRK_GET = r"""
local paths = {__PATHS__}
local counter = 0
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {__HEADERS__})
end
"""


@dataclass
class Figure:
    name: str
    connections: int
    kind: str  # create | queue | ticket | list
    runs: dict = field(default_factory=dict)  # db -> list of wrk results


FIGURES = [
    Figure("create (POST /api/v1/tickets/)", 4, "create"),
    Figure("queue page (agent, default view)", 1, "queue"),
    Figure("queue page (agent, default view)", 4, "queue"),
    Figure("ticket page (50 rotated)", 1, "ticket"),
    Figure("list API (page_size=25)", 1, "list"),
]


# --- the in-process part: one subprocess per database (Django is set up for one database) -------


def prepare(db: str) -> dict:
    """Make the run's API key and agent session, pick the tickets, count each figure's queries."""
    from bench.common import setup_django

    setup_django(db)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from shops.models import Shop, ShopAPIKey

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit(f"{db} has unapplied migrations: run bench/generate.py --db {db}")
    from bench.common import rows_snapshot

    with connection.cursor() as cur:  # what cleanup() leaves: the rows the run adds go
        (OUT_DIR / f"snapshot-{db}.json").write_text(json.dumps(rows_snapshot(cur)))
    shop = Shop.objects.get(code="demo")
    key_row, key = ShopAPIKey.objects.create_key(name="bench http", shop=shop)
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="agent"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={staff.cookies[settings.SESSION_COOKIE_NAME].value}"
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket")
        total = cur.fetchone()[0]
        # active tickets spread over the last weeks, the ones an agent opens
        cur.execute(
            "SELECT number FROM tickets_ticket WHERE shop_id = %s AND id %% 97 = 0 "
            "AND status IN ('new','open','pending_customer','pending_internal') "
            "ORDER BY id DESC LIMIT 50",
            [shop.id],
        )
        numbers = [row[0] for row in cur.fetchall()]

    api = Client()
    api_headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}

    def count(call) -> int:
        call()  # warm (first-use imports, caches; a first use may change the configuration)
        call()  # (shops.config: the request after a change reads it again)
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        assert response.status_code in (200, 201), (response.status_code, response.content[:300])
        return len(ctx.captured_queries)

    from bench.create_profile import TYPES, payload

    def create(dispute_type: str):
        # The wrk load's body (bench/run.py), one dispute type; a batch of its own, so that no
        # count is the one that crosses a batch alert's threshold.
        body = payload(0)
        body["dispute_type"] = dispute_type
        body["order"]["order_no"] = f"LOAD-count-{time.time_ns()}"
        body["order"]["items"][0]["batch_no"] = f"COUNT-{time.time_ns()}"
        return api.post("/api/v1/tickets/", body, content_type="application/json", **api_headers)

    per_type = sorted(count(lambda t=t: create(t)) for t in TYPES)
    queries = {
        # the load's six dispute types: fewest–most (the quality types add the batch check)
        "create": f"{per_type[0]}–{per_type[-1]}",
        "queue": count(lambda: staff.get("/")),
        "ticket": count(lambda: staff.get(f"/tickets/{numbers[0]}/")),
        "list": count(lambda: api.get("/api/v1/tickets/?page_size=25", **api_headers)),
    }
    return {
        "db": db,
        "tickets": total,
        "key": key,
        "key_id": str(key_row.pk),
        "cookie": cookie,
        "numbers": numbers,
        "queries": queries,
    }


def cleanup(db: str, key_id: str) -> int:
    from bench.common import rows_delete_since, setup_django

    setup_django(db)
    from django.db import connection

    from shops.models import ShopAPIKey

    ShopAPIKey.objects.filter(pk=key_id).delete()
    snapshot = json.loads((OUT_DIR / f"snapshot-{db}.json").read_text())
    with connection.cursor() as cur:
        return rows_delete_since(cur, snapshot).get("tickets_ticket", 0)


def in_subprocess(*args) -> dict:
    out = subprocess.run(
        [str(VENV_PY), __file__, *args], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the load: wrk against gunicorn ---------------------------------------------------------------


def lua_list(values) -> str:
    return ", ".join(json.dumps(v) for v in values)


def script_for(figure: Figure, setup: dict, round_no: int) -> str:
    if figure.kind == "create":
        return WRK_CREATE.replace("__KEY__", setup["key"]).replace("__ROUND__", str(round_no))
    if figure.kind == "list":
        paths, headers = (
            ["/api/v1/tickets/?page_size=25"],
            {"Authorization": f"Api-Key {setup['key']}"},
        )
    elif figure.kind == "queue":
        paths, headers = ["/"], {"Cookie": setup["cookie"]}
    else:
        paths, headers = [f"/tickets/{n}/" for n in setup["numbers"]], {"Cookie": setup["cookie"]}
    lua_headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    return WRK_GET.replace("__PATHS__", lua_list(paths)).replace("__HEADERS__", lua_headers)


def run_wrk(base: str, seconds: int, connections: int, script_text: str, pgid: int) -> dict:
    """One wrk run, with the load average before it and the CPU per request it cost, by process:
    this server's gunicorn, PostgreSQL, Redis, wrk, and the machine in all (kernel included)."""
    from bench.run import run_wrk as wrk_run

    load = os.getloadavg()[0]
    before = cpu_snapshot({pgid})
    result = wrk_run(base, seconds, connections, script_text)
    used = cpu_used(before, cpu_snapshot({pgid}))
    requests = max(result["requests"], 1)
    cpu = {group: seconds * 1000 / requests for group, seconds in used.items()}
    return {**result, "load": load, "cpu": cpu}


def cpu_text(runs) -> str:
    """Median CPU ms per request: gunicorn / PostgreSQL / Redis / wrk / the machine in all."""
    parts = [statistics.median(r["cpu"][k] for r in runs) for k in CPU_GROUPS]
    return " / ".join(f"{v:.2f}" for v in parts)


def spread(values, fmt="{:.0f}") -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return fmt.format(median)
    return f"{fmt.format(median)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", action="append", help="bench database (repeatable)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per figure and round")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of each figure's load on each server before the rounds, not counted (a "
        "worker's first requests import views and templates; a peer kept running is warm)",
    )
    parser.add_argument("--only", help="only figures whose name contains this text")
    parser.add_argument(
        "--baseline",
        help="another checkout of the product (e.g. a `git worktree` of an older commit, with its "
        ".venv) served beside this one on the same databases, so before/after are one run's ratios",
    )
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--cleanup", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    if args.prepare:
        print(json.dumps(prepare(args.prepare)))
        return
    if args.cleanup:
        print(json.dumps({"removed": cleanup(*args.cleanup)}))
        return

    import shutil

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    from bench.run import Gunicorn

    dbs = args.db or list(DEFAULT_DBS)
    codes = {"this": ROOT, **({"baseline": Path(args.baseline).resolve()} if args.baseline else {})}
    targets = [(code, db) for db in dbs for code in codes]  # what each figure runs against
    figures = [f for f in FIGURES if not args.only or args.only in f.name]
    setups, servers = {}, {}
    try:
        for db in dbs:
            print(f"preparing {db} ...", flush=True)
            setups[db] = in_subprocess("--prepare", db)
            for code, root in codes.items():
                server = Gunicorn(db, args.workers, root=root, log_name=f"gunicorn-{code}-{db}.log")
                servers[code, db] = server
                server.wait_ready()
        print(
            f"gunicorn: {args.workers} sync workers per server ({', '.join(codes)} × "
            f"{', '.join(dbs)}); wrk -t1, {args.seconds} s per run, {args.rounds} rounds; "
            f"{os.cpu_count()} CPUs\n",
            flush=True,
        )
        for figure in figures if args.warmup else ():
            for code, db in targets:
                run_wrk(
                    servers[code, db].base,
                    args.warmup,
                    figure.connections,
                    script_for(figure, setups[db], f"{code[0]}0"),
                    servers[code, db].proc.pid,
                )
        for round_no in range(1, args.rounds + 1):
            for figure in figures:
                for code, db in targets if round_no % 2 else reversed(targets):
                    result = run_wrk(
                        servers[code, db].base,
                        args.seconds,
                        figure.connections,
                        script_for(figure, setups[db], f"{code[0]}{round_no}"),
                        servers[code, db].proc.pid,
                    )
                    figure.runs.setdefault((code, db), []).append(result)
                    print(
                        f"  round {round_no} {code} {db} {figure.name} c{figure.connections}: "
                        f"{result['rps']:.0f} req/s, p50 {result['p50']:.1f} p95 {result['p95']:.1f} "
                        f"p99 {result['p99']:.1f} ms, {result['errors']} errors, "
                        f"load {result['load']:.2f}; CPU ms/req "
                        + " / ".join(f"{k} {result['cpu'][k]:.2f}" for k in CPU_GROUPS),
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.stop()
        for db, setup in setups.items():
            removed = in_subprocess("--cleanup", db, setup["key_id"])["removed"]
            print(f"  {db}: removed the {removed} tickets the create load made", flush=True)

    lines = [
        f"# bench/http_load.py ({time.strftime('%Y-%m-%d %H:%M')}): gunicorn {args.workers} sync workers, "
        f"wrk -t1 on 127.0.0.1, {args.rounds} alternating rounds of {args.seconds} s, "
        f"{os.cpu_count()} CPUs; median (min–max) over the rounds\n",
        "| figure | conn | tickets | code | req/s | p50 ms | p95 ms | p99 ms | queries/req | errors "
        "| load avg | CPU ms/req: gunicorn / postgres / redis / wrk / machine |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for figure in figures:
        for code, db in targets:
            runs = figure.runs.get((code, db), [])
            if not runs:
                continue
            # queries are counted with this checkout's code only
            queries = setups[db]["queries"][figure.kind] if code == "this" else "–"
            ratio = ""
            if code == "baseline" and figure.runs.get(("this", db)):
                this = statistics.median(r["rps"] for r in figure.runs["this", db])
                ratio = f" (this: {this / statistics.median(r['rps'] for r in runs):.2f}×)"
            lines.append(
                f"| {figure.name} | {figure.connections} | {setups[db]['tickets']:,} | {code} | "
                f"{spread([r['rps'] for r in runs])}{ratio} | "
                f"{statistics.median(r['p50'] for r in runs):.1f} | "
                f"{statistics.median(r['p95'] for r in runs):.1f} | "
                f"{statistics.median(r['p99'] for r in runs):.1f} | "
                f"{queries} | {sum(r['errors'] for r in runs)} | "
                f"{spread([r['load'] for r in runs], '{:.2f}')} | {cpu_text(runs)} |"
            )
    table = "\n".join(lines)
    print("\n" + table)
    (OUT_DIR / "http_load.md").write_text(table + "\n")
    print(f"\n(written to {OUT_DIR / 'http_load.md'})")


if __name__ == "__main__":
    main()
