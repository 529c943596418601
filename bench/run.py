#!/usr/bin/env python
"""Benchmarks against the bench database (bench/generate.py); prints the figures table.

    .venv/bin/python bench/run.py                                  # everything, ~5 minutes at 1M tickets
    .venv/bin/python bench/run.py --compare-db aftersales_bench_100k   # + query counts at another size
    .venv/bin/python bench/run.py --skip-load                      # in-process figures only

a) queue page `/` (agent logged in) and its variants, b) list API, c) ticket page: in-process
   with django.test.Client; the p50/p95 are of the wall time of client.get (the whole Django
   stack, middleware, database and rendering: server-side time, no network or HTTP parsing),
   over --requests requests after --warmup; queries per request are counted with
   CaptureQueriesContext in a separate pass (so the timings carry no debug-cursor overhead).
d) create-ticket API under gunicorn (4 sync workers) on 127.0.0.1 with wrk (or a Python
   thread pool if wrk is not installed), next to GET /api/v1/ping/ on the same server.

Writes the table and the slowest query of each figure with its EXPLAIN (ANALYZE, BUFFERS)
to bench/out/results.md.
"""

import argparse
import atexit
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DB,
    OUT_DIR,
    ROOT,
    bench_env,
    rows_delete_since,
    rows_snapshot,
    setup_django,
)

TARGET_P95_MS = 100.0
TARGET_TICKET_P50_MS = 25.0
MAX_LIST_QUERIES = 10
MAX_TICKET_QUERIES = 15
# The customer page shows what four features know of the customer (tickets, orders, compensation,
# judgments, contacts, risk): a fixed number of queries however long the history.
MAX_CUSTOMER_QUERIES = 20
LOAD_MARK = "LOAD-"
GC_PER_REQUEST = (
    False  # gc.collect() after each request, outside the timing (off with --no-gc-hooks)
)


GC_PAUSES: list = []  # ms of each generation-2 collection during the timed requests
GC_PAUSES_ON = [False]


def _gc_callback(phase, info):
    if phase == "start":
        _gc_callback.start = time.perf_counter()
    elif info["generation"] == 2 and GC_PAUSES_ON[0]:
        GC_PAUSES.append((time.perf_counter() - _gc_callback.start) * 1000)


gc.callbacks.append(_gc_callback)


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- in-process measurements ---------------------------------------------------------------------


class Case:
    """One figure: a GET measured in-process."""

    def __init__(
        self,
        group,
        label,
        path,
        client,
        *,
        page_size=None,
        headers=None,
        target_p95=TARGET_P95_MS,
        max_queries=MAX_LIST_QUERIES,
        target_p50=None,
        paths=None,
    ):
        self.group, self.label, self.path, self.client = group, label, path, client
        self.page_size = page_size
        self.headers = headers or {}
        self.target_p95, self.target_p50, self.max_queries = target_p95, target_p50, max_queries
        self.paths = paths or [path]  # rotate over these (e.g. several tickets)
        self.result = None

    def get(self, i):
        response = self.client.get(self.paths[i % len(self.paths)], **self.headers)
        if response.status_code != 200:
            raise SystemExit(
                f"{self.label}: GET {self.paths[i % len(self.paths)]} -> {response.status_code}\n"
                f"{response.content[:500]!r}"
            )
        return response

    def measure(self, requests, warmup):
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        for i in range(warmup):
            self.get(i)
        times = []
        GC_PAUSES.clear()
        GC_PAUSES_ON[0] = True
        for i in range(requests):
            start = time.perf_counter()
            self.get(i)
            times.append((time.perf_counter() - start) * 1000)
            if GC_PER_REQUEST:
                GC_PAUSES_ON[0] = False
                gc.collect()  # gunicorn.conf.py frees a request's garbage before the next; here untimed
                GC_PAUSES_ON[0] = True
        GC_PAUSES_ON[0] = False
        counts, slowest = [], (0.0, "")
        for i in range(min(20, max(3, len(self.paths)))):
            with CaptureQueriesContext(connection) as ctx:
                self.get(i)
            counts.append(len(ctx.captured_queries))
            for q in ctx.captured_queries:
                if float(q["time"]) > slowest[0]:
                    slowest = (float(q["time"]), q["sql"])
        reset_queries()
        gc_pauses = list(GC_PAUSES)
        self.result = {
            "gc2_count": len(gc_pauses),
            "gc2_ms": sum(gc_pauses) / len(gc_pauses) if gc_pauses else 0.0,
            "p50": pct(times, 50),
            "p95": pct(times, 95),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "slowest_sql": slowest[1],
            "slowest_ms": slowest[0] * 1000,
        }
        return self.result

    def count_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.get(0)
        counts = []
        for i in range(min(5, len(self.paths)) or 1):
            with CaptureQueriesContext(connection) as ctx:
                self.get(i)
            counts.append(len(ctx.captured_queries))
        return max(counts)


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def plan_summary(plan: str) -> str:
    """The first node lines and the execution time: enough to see the access path."""
    lines = [
        ln
        for ln in plan.splitlines()
        if "->" in ln or ln.startswith(("Limit", "Sort", "Nested", "Hash", "Seq", "Index"))
    ]
    keep = [ln.strip() for ln in lines[:6]]
    total = next((ln for ln in plan.splitlines() if ln.startswith("Execution Time")), "")
    return " | ".join(keep + [total])


def queue_routes() -> dict:
    """What the workspace offers: {'queue': bool, 'ticket': name-or-None} (views are being written)."""
    from django.urls import NoReverseMatch, get_resolver, resolve, reverse
    from django.views.generic import RedirectView

    found = {"queue": False, "ticket": None}
    try:
        match = resolve("/")
        view_class = getattr(match.func, "view_class", None)
        found["queue"] = not (view_class and issubclass(view_class, RedirectView))
    except Exception:
        pass
    resolver = get_resolver()
    for name in (
        "workspace:ticket",
        "workspace:ticket_detail",
        "workspace:ticket-detail",
        "workspace:detail",
    ):
        try:
            reverse(name, kwargs={"number": "X"})
            found["ticket"] = name
            break
        except NoReverseMatch:
            continue
    if found["ticket"] is None:
        for pattern in getattr(resolver.url_patterns[-1], "url_patterns", []):
            if "number" in str(getattr(pattern, "pattern", "")) and "/" in str(pattern.pattern):
                found["ticket"] = f"workspace:{pattern.name}"
                break
    return found


def queue_form_fields() -> set:
    try:
        from tickets.forms import QueueFilterForm
    except ImportError:
        return set()
    return set(QueueFilterForm.base_fields)


def build_cases(args, shop, agent, api_key):
    """The figures measured in-process."""
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    api = Client()
    api_headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    staff = Client()
    staff.force_login(agent)

    with connection.cursor() as cur:
        cur.execute(
            # a demo ticket about a week old (ids follow created_at), the same one on every run
            "SELECT o.order_no FROM tickets_ticket t JOIN tickets_order o ON o.id = t.order_id "
            "WHERE t.shop_id = %s AND t.id <= (SELECT max(id) * 0.98 FROM tickets_ticket) ORDER BY t.id DESC LIMIT 1",
            [shop.id],
        )
        order_no = cur.fetchone()[0]
        cur.execute(
            "SELECT max(updated_at) - interval '1 day' FROM tickets_ticket WHERE shop_id = %s",
            [shop.id],
        )
        updated_after = cur.fetchone()[0].isoformat()
        # Tickets with 6 events (the page's usual worst case) and, to show the query count does not
        # depend on the timeline's length, with 2; active ones first, spread over time.
        by_events = {}
        for n_events in (6, 2):
            cur.execute(
                """
                SELECT t.number FROM tickets_ticket t
                WHERE t.shop_id = %s AND t.id %% 997 = 0
                  AND (SELECT count(*) FROM tickets_ticketevent e WHERE e.ticket_id = t.id) = %s
                ORDER BY t.status IN ('new','open','pending_customer','pending_internal') DESC, t.id DESC LIMIT 50
                """,
                [shop.id, n_events],
            )
            by_events[n_events] = [row[0] for row in cur.fetchall()]
        six_event_tickets = by_events[6]
        # Customers for the customer page: the one with the most tickets in the shop (its history
        # is longest) and one with a single ticket, to show the query count does not depend on it.
        cur.execute(
            "SELECT c.external_id, count(*) FROM tickets_ticket t JOIN tickets_customer c ON c.id = t.customer_id "
            "WHERE t.shop_id = %s GROUP BY c.external_id ORDER BY count(*) DESC, c.external_id LIMIT 1",
            [shop.id],
        )
        busiest_customer = cur.fetchone()
        cur.execute(
            "SELECT c.external_id FROM tickets_customer c WHERE c.shop_id = %s AND "
            "(SELECT count(*) FROM tickets_ticket t WHERE t.customer_id = c.id) = 1 "
            "ORDER BY c.id DESC LIMIT 1",
            [shop.id],
        )
        single_customer = cur.fetchone()[0]

    cases = []
    routes = queue_routes()
    if routes["queue"]:
        from tickets.models import DisputeType

        lost_parcel = DisputeType.objects.get(code="lost_parcel", shop__isnull=True).pk
        form_fields = queue_form_fields()
        size_param = next((f for f in ("page_size", "per_page", "size") if f in form_fields), None)
        variants = [
            ("default view (active, due first)", {}),
            ("status=open", {"status": "open"}),
            ("dispute_type=lost_parcel", {"dispute_type": lost_parcel}),
            ("mine", {"tab": "mine"}),
            ("unassigned", {"tab": "unassigned"}),
            ("all statuses, newest", {"status": "all", "sort": "newest"}),
            ("search q=<order no>", {"q": order_no}),
            ("page 40 (offset 975)", {"page": 40}),
        ]
        for label, params in variants:
            for size in [25, 100] if size_param else [None]:
                query = dict(params)
                if size:
                    query[size_param] = size
                path = "/" + ("?" + urlencode(query) if query else "")
                cases.append(
                    Case(
                        "a) queue page",
                        label + (f", {size}/page" if size else ""),
                        path,
                        staff,
                        page_size=size,
                    )
                )
    else:
        cases.append(Case("a) queue page", "not implemented yet (/ redirects)", None, None))

    filters = [
        ("first page", {}),
        ("status=open", {"status": "open"}),
        ("dispute_type=lost_parcel", {"dispute_type": "lost_parcel"}),
        ("order_no=<a week-old order>", {"order_no": order_no}),
        ("updated_after=1 day ago", {"updated_after": updated_after}),
    ]
    for label, params in filters:
        for size in (25, 100):
            path = "/api/v1/tickets/?" + urlencode({**params, "page_size": size})
            cases.append(
                Case(
                    "b) list API",
                    f"{label}, {size}/page",
                    path,
                    api,
                    page_size=size,
                    headers=api_headers,
                )
            )
    # the second page through the cursor
    for size in (25, 100):
        first = api.get(f"/api/v1/tickets/?page_size={size}", **api_headers).json()
        parts = urlsplit(first["next"])
        cases.append(
            Case(
                "b) list API",
                f"next page (cursor), {size}/page",
                f"{parts.path}?{parts.query}",
                api,
                page_size=size,
                headers=api_headers,
            )
        )

    if routes["ticket"]:
        for n_events, numbers in by_events.items():
            paths = [reverse(routes["ticket"], kwargs={"number": n}) for n in numbers]
            cases.append(
                Case(
                    "c) ticket page",
                    f"tickets, {n_events} events ({len(paths)} rotated)",
                    paths[0],
                    staff,
                    paths=paths,
                    page_size=n_events,
                    target_p95=None,
                    target_p50=TARGET_TICKET_P50_MS,
                    max_queries=MAX_TICKET_QUERIES,
                )
            )
    else:
        cases.append(
            Case("c) ticket page", "not implemented yet (no workspace ticket route)", None, None)
        )
    from urllib.parse import quote

    for group, base, client, headers in (
        ("e) customer page", f"/customers/{shop.code}/", staff, {}),
        ("e) customer API", "/api/v1/customers/", api, api_headers),
    ):
        for n_tickets, external_id in (
            (busiest_customer[1], busiest_customer[0]),
            (1, single_customer),
        ):
            cases.append(
                Case(
                    group,
                    f"history, {'the longest' if n_tickets > 1 else 'one ticket'} "
                    f"({n_tickets} ticket{'s' if n_tickets > 1 else ''})",
                    f"{base}{quote(external_id)}/",
                    client,
                    headers=headers,
                    page_size=n_tickets,
                    max_queries=MAX_CUSTOMER_QUERIES,
                )
            )
    # The API's ticket detail, for reference next to the page.
    api_paths = [f"/api/v1/tickets/{n}/" for n in six_event_tickets]
    cases.append(
        Case(
            "c) ticket page",
            "(API GET /api/v1/tickets/<number>/, for reference)",
            api_paths[0],
            api,
            paths=api_paths,
            headers=api_headers,
            target_p95=None,
            target_p50=TARGET_TICKET_P50_MS,
            max_queries=MAX_TICKET_QUERIES,
        )
    )
    return cases


# --- load test under gunicorn -------------------------------------------------------------------------

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"errors\": %d, \"non2xx\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""

WRK_CREATE = r"""
local counter = 0
local threadid = 0
local types = {"damaged_on_arrival", "wrong_item", "missing_item", "late_shipment", "lost_parcel", "quality_defect"}
function setup(thread)
  thread:set("threadid", threadid)
  threadid = threadid + 1
end
function request()
  counter = counter + 1
  local body = string.format([[{"dispute_type": "%s", "description": "bench", "channel": "api",
    "requested_resolution": "refund",
    "customer": {"external_id": "bench-c-%d", "name": "压测", "phone": "138%08d"},
    "order": {"order_no": "LOAD-%d-%d", "amount": "21.00", "paid_at": "2026-11-20T10:00:00+08:00",
      "courier": "SF", "tracking_no": "SF123",
      "items": [{"sku": "GLASS-500", "name": "glass", "batch_no": "B2311", "unit_price": "10.50", "quantity": 2}]},
    "affected_items": [{"sku": "GLASS-500", "quantity": 1}]}]],
    types[(counter %% #types) + 1], counter %% 5000, counter %% 5000, threadid, counter)
  return wrk.format("POST", "/api/v1/tickets/", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Api-Key __KEY__"}, body)
end
""".replace("%%", "%")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The product under gunicorn on a free port; `root`: another checkout's code (its own .venv)."""

    def __init__(self, db, workers, conf=None, root=ROOT, log_name="gunicorn.log"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **bench_env(db)}
        self.log = open(OUT_DIR / log_name, "w")
        self.proc = subprocess.Popen(
            [
                str(Path(root) / ".venv/bin/gunicorn"),
                "aftersales.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--error-logfile",
                "-",
            ]
            + (["-c", conf] if conf else []),
            cwd=root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout=30):
        import requests

        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/api/v1/ping/", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start; see bench/out/gunicorn.log")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def run_wrk(url, seconds, connections, script_text, key=""):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, dir=OUT_DIR) as f:
        f.write(script_text.replace("__KEY__", key) + WRK_REPORT)
        script = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    data = json.loads(out.split("WRKJSON", 1)[1].strip().splitlines()[0])
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "requests": data["requests"],
        "errors": data["errors"] + data["non2xx"],
        "p50": data["p50_us"] / 1000,
        "p95": data["p95_us"] / 1000,
        "p99": data["p99_us"] / 1000,
        "tool": "wrk -t1 -c%d" % connections,
    }


def run_threads(url, seconds, connections, method, key="", max_requests=1_000_000):
    """Fallback load generator: one requests.Session per thread, bounded by time and count."""
    import requests

    from tests.factories import ticket_payload

    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = [0]

    def worker(tid):
        session = requests.Session()
        headers = {"Authorization": f"Api-Key {key}"} if key else {}
        while time.perf_counter() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            if n > max_requests:
                return
            start = time.perf_counter()
            if method == "POST":
                body = ticket_payload()
                body["customer"]["external_id"] = f"bench-c-{n % 5000}"
                body["order"]["order_no"] = f"{LOAD_MARK}{tid}-{n}"
                r = session.post(url, json=body, headers=headers, timeout=10)
                ok = r.status_code == 201
            else:
                r = session.get(url, timeout=10)
                ok = r.status_code == 200
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    duration = time.perf_counter() - start
    return {
        "rps": len(latencies) / duration,
        "requests": len(latencies),
        "errors": errors[0],
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "tool": f"python threads x{connections}",
    }


def load_test(args, api_key):
    server = Gunicorn(args.db, args.workers, args.gunicorn_conf)
    try:
        server.wait_ready()
        use_wrk = shutil.which("wrk") and not args.python_load
        results = {}
        for name, url, method, seconds in (
            ("ping", server.base + "/api/v1/ping/", "GET", args.ping_seconds),
            ("create", server.base + "/api/v1/tickets/", "POST", args.load_seconds),
        ):
            print(f"  {name}: {seconds} s against {url} ...", flush=True)
            if use_wrk:
                script = WRK_CREATE if method == "POST" else ""
                results[name] = run_wrk(url, seconds, args.connections, script, key=api_key)
            else:
                results[name] = run_threads(url, seconds, args.connections, method, key=api_key)
            r = results[name]
            print(
                f"    {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                f"{r['requests']} requests, {r['errors']} errors ({r['tool']})",
                flush=True,
            )
        return results
    finally:
        server.stop()


# --- main ----------------------------------------------------------------------------------------------


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per figure")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--compare-db", help="also count queries per request against this database (e.g. 100k rows)"
    )
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn load test")
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--ping-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--gunicorn-conf", help="a gunicorn config file for the load test (e.g. to try hooks)"
    )
    parser.add_argument(
        "--python-load",
        action="store_true",
        help="use the Python thread pool even if wrk is installed",
    )
    parser.add_argument(
        "--no-gc-hooks",
        action="store_true",
        help="measure without gunicorn.conf.py's gc.freeze() and per-response gc.collect()",
    )
    parser.add_argument("--only", help="only figures whose group/label contains this text")
    parser.add_argument(
        "--counts-only", help=argparse.SUPPRESS
    )  # internal: write query counts as JSON to this file
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    setup_django(args.db)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from shops.models import Shop, ShopAPIKey

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit(
            f"{args.db} has unapplied migrations: run bench/generate.py --db {args.db} "
            "(on a loaded database it only migrates)"
        )
    shop = Shop.objects.get(code="demo")
    agent = get_user_model().objects.get(username="agent")
    key_row, api_key = ShopAPIKey.objects.create_key(name="bench run", shop=shop)
    atexit.register(key_row.delete)  # after the EXPLAINs below, which re-run the key lookup too
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket")
        total = cur.fetchone()[0]
    cases = [
        c
        for c in build_cases(args, shop, agent, api_key)
        if not args.only or args.only in c.group + c.label
    ]

    if args.counts_only:
        counts = {
            f"{c.group}|{c.label.split(' (')[0]}": c.count_queries() for c in cases if c.client
        }
        Path(args.counts_only).write_text(json.dumps({"tickets": total, "counts": counts}))
        return

    load_before = os.getloadavg()[0]
    print(
        f"Bench database {args.db}: {total:,} tickets; {args.requests} timed requests per figure "
        f"after {args.warmup} warm-up; load average {load_before:.2f} on {os.cpu_count()} CPUs\n",
        flush=True,
    )
    if not args.no_gc_hooks:
        # As gunicorn.conf.py does in each worker: freeze the loaded app out of every
        # collection, and free each request's garbage before the next (outside the timing).
        for c in cases:  # load what the views import first
            if c.client:
                c.get(0)
        gc.collect()
        gc.freeze()
        global GC_PER_REQUEST
        GC_PER_REQUEST = True
        print(
            "(gc.freeze() after warm-up and gc.collect() after each response, as gunicorn.conf.py does)\n"
        )
    for c in cases:
        if c.client is None:
            continue
        r = c.measure(args.requests, args.warmup)
        print(
            f"  {c.group} {c.label}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
            f"{r['queries_max']} queries; {r['gc2_count']} gen-2 GC pauses"
            + (f" of {r['gc2_ms']:.0f} ms avg" if r["gc2_count"] else ""),
            flush=True,
        )

    compare = None
    if args.compare_db:
        with tempfile.NamedTemporaryFile(suffix=".json", dir=OUT_DIR, delete=False) as f:
            out = f.name
        subprocess.run(
            [sys.executable, __file__, "--db", args.compare_db, "--counts-only", out]
            + (["--only", args.only] if args.only else []),
            check=True,
            cwd=ROOT,
        )
        compare = json.loads(Path(out).read_text())
        os.unlink(out)

    load = None
    if not args.skip_load and (not args.only or "create" in args.only):
        print("\nd) create-ticket API under gunicorn", flush=True)
        with connection.cursor() as cur:
            snapshot = rows_snapshot(cur)
        try:
            load = load_test(args, api_key)
        finally:
            with connection.cursor() as cur:
                removed = rows_delete_since(cur, snapshot)
        print(
            f"  removed what the load wrote ({removed.get('tickets_ticket', 0)} tickets, "
            f"{sum(removed.values())} rows in {len(removed)} tables)",
            flush=True,
        )

    # --- the table --------------------------------------------------------------------------------
    lines = []
    size_note = f" @{compare['tickets'] // 1000}k" if compare else ""
    lines.append(
        f"Figures at {total:,} tickets ({args.db}), server-side, in-process; "
        f"{args.requests} requests per row after {args.warmup} warm-up; "
        f"1-min load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end "
        f"({os.cpu_count()} CPUs).\n"
    )
    lines.append(
        f"| figure | p50 ms | p95 ms | queries/request | queries{size_note or ' (other size)'} | target | result |"
    )
    lines.append("|---|---:|---:|---:|---:|---|---|")
    by_variant = {}
    for c in cases:
        if c.client and c.page_size:
            by_variant.setdefault((c.group, c.label.rsplit(",", 1)[0]), []).append(c)
    explains = []
    for c in cases:
        name = f"{c.group}: {c.label}"
        if c.client is None:
            lines.append(f"| {name} | – | – | – | – | | n/a |")
            continue
        r = c.result
        queries = (
            r["queries_max"]
            if r["queries_min"] == r["queries_max"]
            else f"{r['queries_min']}–{r['queries_max']}"
        )
        other = (
            compare["counts"].get(f"{c.group}|{c.label.split(' (')[0]}", "–") if compare else "–"
        )
        checks, targets = [], []
        if c.target_p95:
            checks.append(r["p95"] < c.target_p95)
            targets.append(f"p95 < {c.target_p95:.0f} ms")
        if c.target_p50:
            checks.append(r["p50"] < c.target_p50)
            targets.append(f"p50 < {c.target_p50:.0f} ms")
        checks.append(r["queries_max"] <= c.max_queries and r["queries_min"] == r["queries_max"])
        targets.append(f"≤ {c.max_queries} queries")
        siblings = by_variant.get((c.group, c.label.rsplit(",", 1)[0]), [])
        if len(siblings) > 1:
            same = len({s.result["queries_max"] for s in siblings}) == 1
            checks.append(same)
            targets.append(
                "same queries at 2 and 6 events"
                if c.group == "c) ticket page"
                else "same queries however long the history"
                if c.group.startswith("e)")
                else "same queries at every page size"
            )
        if compare and other != "–":
            checks.append(other == r["queries_max"])
            targets.append("same queries at both sizes")
        ok = all(checks)
        lines.append(
            f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {queries} | {other} | {'; '.join(targets)} | {verdict(ok)} |"
        )
        plan = explain(r["slowest_sql"]) if r["slowest_sql"] else ""
        explains.append((name, ok, r, plan))

    if load:
        ping, create = load["ping"], load["create"]
        ratio = create["rps"] / ping["rps"] if ping["rps"] else 0
        lines.append("")
        lines.append(
            f"Under gunicorn ({args.workers} sync workers) on 127.0.0.1, {ping['tool']}; "
            f"ping {args.ping_seconds} s, create {args.load_seconds} s.\n"
        )
        lines.append("| figure | req/s | p50 ms | p99 ms | requests | errors | target | result |")
        lines.append("|---|---:|---:|---:|---:|---:|---|---|")
        lines.append(
            f"| d) GET /api/v1/ping/ | {ping['rps']:.0f} | {ping['p50']:.1f} | {ping['p99']:.1f} | "
            f"{ping['requests']} | {ping['errors']} | | |"
        )
        lines.append(
            f"| d) POST /api/v1/tickets/ (create) | {create['rps']:.0f} | {create['p50']:.1f} | "
            f"{create['p99']:.1f} | {create['requests']} | {create['errors']} | ≥ 1/3 of ping | "
            f"{verdict(ratio >= 1 / 3 and create['errors'] == 0)} (ratio {ratio:.2f}) |"
        )

    table = "\n".join(lines)
    print("\n" + table)
    failing = [e for e in explains if not e[1]]
    if failing:
        print("\nEXPLAIN (ANALYZE) of the slowest query of each failing figure:")
        for name, _, r, plan in failing:
            print(f"  {name}: slowest query {r['slowest_ms']:.1f} ms: {plan_summary(plan)}")
            if r["gc2_count"]:
                print(
                    f"    and {r['gc2_count']} generation-2 garbage collections inside the {args.requests} timed "
                    f"requests, {r['gc2_ms']:.0f} ms each on average (compare without --no-gc-hooks)"
                )

    report = [
        f"# Bench results ({time.strftime('%Y-%m-%d %H:%M')})\n",
        table,
        "\n## Slowest query per figure\n",
    ]
    for name, ok, r, plan in explains:
        report.append(
            f"### {name} ({verdict(ok)})\n\nslowest query {r['slowest_ms']:.1f} ms; "
            f"{r['gc2_count']} gen-2 GC pauses of {r['gc2_ms']:.0f} ms avg in the timed requests\n\n```sql\n{r['slowest_sql']}\n```\n\n```\n{plan}\n```\n"
        )
    (OUT_DIR / "results.md").write_text("\n".join(report))
    print(f"\n(table, slowest queries and their plans: {OUT_DIR / 'results.md'})")


if __name__ == "__main__":
    main()
