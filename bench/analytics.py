#!/usr/bin/env python
"""Analytics figures on the 1M-ticket bench database (made by bench/generate.py; never regenerated here).

    .venv/bin/python bench/analytics.py                  # dashboard + summary p95, 1M-row CSV export
    .venv/bin/python bench/analytics.py --requests 30 --skip-export

1. Migrates the bench database (only adds the analytics tables), checks it holds tickets.
2. Adds what generate.py does not make and the figures read — satisfaction surveys (20 % of
   resolved tickets), judgments (50 %), compensations (20 %, 1 in 5 of them a courier claim),
   shipment counts per courier and day — each marked so they are deleted again at the end
   (the database is shared with other benchmarks). --keep-extras leaves them.
3. Rebuilds the rollup (analytics.rollup.stats_rebuild) of both shops from scratch and reports
   how long it took and how many rows it holds.
4. p50/p95 of GET /analytics/ (the dashboard page) and GET /api/v1/analytics/summary/ as a
   supervisor of shop `demo` (950k tickets) over 30, 90 and 365 days, in-process with
   django.test.Client (server-side time, as bench/run.py measures): "fresh" with nothing to
   recompute, and "after a change": before each request one of yesterday's tickets (a whole
   day, ~2,600, more than ANALYTICS_INLINE_REFRESH_TICKETS) is changed, so the request finds
   that day stale, leaves it to beat and says so. Also: how long beat's task takes to
   recompute such a day.
5. The ticket CSV export of every ticket (`status=all`, both shops: 1,000,000 rows) in a child
   process that reads the streamed response and reports rows, MB, seconds and its RSS at every
   100k rows plus ru_maxrss (peak).
"""

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DB, ROOT, VENV_PY, bench_env, setup_django

MARK = "bench-analytics"
BENCH_USER = "bench-analytics-supervisor"
TARGET_P95_MS = 500


def pct(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def migrate(db):
    subprocess.run(
        [str(VENV_PY), "manage.py", "migrate", "analytics", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**bench_env(db), "PATH": "/usr/bin:/bin"},
        check=True,
    )


def add_extras(shop):
    from django.db import connection

    from disputes.services import policy_current

    policy = policy_current(shop=shop)
    drop_extras()  # what an interrupted run left
    with connection.cursor() as cur:
        start = time.perf_counter()
        cur.execute(
            f"""INSERT INTO tickets_satisfactionsurvey (ticket_id, token, sent_at, score, comment, answered_at)
            SELECT id, '{MARK}-' || id, resolved_at, 1 + (hashint4(id::int) & 2147483647) % 5, '', resolved_at
            FROM tickets_ticket t WHERE resolved_at IS NOT NULL AND id % 5 = 0
            ON CONFLICT DO NOTHING"""
        )
        surveys = cur.rowcount
        cur.execute(
            f"""INSERT INTO disputes_judgment (ticket_id, version, party, reason, note, suggested_party, rules, created_at)
            SELECT id, 1000, (ARRAY['merchant','courier','customer','manufacturer','none'])[1 + id % 5], '{MARK}', '', '', '[]', created_at
            FROM tickets_ticket WHERE resolved_at IS NOT NULL AND id % 2 = 0"""
        )
        judgments = cur.rowcount
        cur.execute(
            f"""INSERT INTO disputes_compensation (ticket_id, type, amount, items, offered, note, status, within_standard, rule, policy_id,
                                                   decision_note, external_ref, failure_reason, created_at, updated_at)
            SELECT id, (ARRAY['cash','refund','coupon','return_shipping_subsidy','courier_claim'])[1 + id %% 5],
                   (1 + id %% 50)::numeric(12,2), '[]', '[]', '{MARK}', (ARRAY['approved','executed','executed','rejected'])[1 + id %% 4],
                   true, '', %s, '', '', '', created_at, created_at
            FROM tickets_ticket WHERE resolved_at IS NOT NULL AND id %% 5 = 1""",
            [policy.pk],
        )
        compensations = cur.rowcount
        cur.execute(
            """INSERT INTO analytics_shipmentstat (shop_id, date, courier, shipments, updated_at)
            SELECT s.id, d::date, c, 800 + (hashtext(c || d::text) & 1023), now()
            FROM shops_shop s, generate_series(current_date - 400, current_date, interval '1 day') d,
                 (SELECT DISTINCT courier AS c FROM tickets_order WHERE courier <> '' LIMIT 20) couriers
            WHERE s.code IN ('demo', 'other') ON CONFLICT DO NOTHING"""
        )
        shipments = cur.rowcount
        for table in (
            "tickets_satisfactionsurvey",
            "disputes_judgment",
            "disputes_compensation",
            "analytics_shipmentstat",
        ):
            cur.execute(f"ANALYZE {table}")
    print(
        f"  extras: {surveys} surveys, {judgments} judgments, {compensations} compensations, {shipments} shipment rows "
        f"({time.perf_counter() - start:.1f} s)"
    )


def drop_extras():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM tickets_satisfactionsurvey WHERE token LIKE %s", [MARK + "%"])
        cur.execute("DELETE FROM disputes_judgment WHERE reason = %s", [MARK])
        cur.execute("DELETE FROM disputes_compensation WHERE note = %s", [MARK])
        cur.execute("DELETE FROM analytics_shipmentstat")
    print("  extras removed")


def bench_user(shops):
    from django.contrib.auth import get_user_model

    from shops.models import Membership

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    for shop in shops:
        Membership.objects.update_or_create(user=user, shop=shop, defaults={"role": "supervisor"})
    return user


def measure(client, path, requests, warmup, headers=None, before=None):
    for _ in range(warmup):
        response = client.get(path, **(headers or {}))
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(requests):
        if before:
            before()
        start = time.perf_counter()
        response = client.get(path, **(headers or {}))
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return pct(times, 50), pct(times, 95)


EXPORT_CHILD = r"""
import resource, sys, time, json
sys.path.insert(0, sys.argv[1])
from bench.common import setup_django
setup_django(sys.argv[2])
from django.contrib.auth import get_user_model
from django.test import Client
def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
client = Client()
client.force_login(get_user_model().objects.get(username=sys.argv[3]))
start_rss = rss_mb()
start = time.perf_counter()
response = client.get('/analytics/export/tickets.csv?status=all&sort=newest')
rows, size, samples, pending = 0, 0, [], b''
for chunk in response.streaming_content:
    size += len(chunk)
    rows += chunk.count(b'\n')
    if rows // 100000 > len(samples):
        samples.append(round(rss_mb(), 1))
print(json.dumps({"rows": rows - 1, "mb": round(size / 2**20, 1), "seconds": round(time.perf_counter() - start, 1),
                  "rss_start_mb": round(start_rss, 1), "rss_every_100k_mb": samples,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--requests", type=int, default=40, help="requests per figure")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--days", default="30,90,365", help="date ranges to measure, in days")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--keep-extras", action="store_true")
    args = parser.parse_args()

    migrate(args.db)
    setup_django(args.db)
    from django.test import Client
    from django.utils import timezone

    from shops.models import Shop
    from tickets.models import Ticket

    total = Ticket.objects.count()
    print(f"bench database {args.db}: {total:,} tickets")
    if total == 0:
        sys.exit("empty: run bench/generate.py first")
    demo, other = Shop.objects.get(code="demo"), Shop.objects.get(code="other")
    user = bench_user([demo, other])
    client = Client()
    client.force_login(user)
    today = timezone.now().astimezone(ZoneInfo(demo.timezone)).date()
    rows = []
    try:
        add_extras(demo)
        from rest_framework.authtoken.models import Token

        from analytics import rollup
        from analytics.models import DailyStat

        for shop in (demo, other):
            start = time.perf_counter()
            days = rollup.stats_rebuild(shop=shop)
            print(
                f"  rollup of {shop.code} rebuilt: {days} days in {time.perf_counter() - start:.1f} s",
                flush=True,
            )
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "VACUUM ANALYZE analytics_dailystat"
            )  # autovacuum does this in production; it may be off here
        print(f"  rollup rows: {DailyStat.objects.count():,}")
        # Yesterday is a whole day of tickets (today may have only started): the heavier case.
        yesterday = today - dt.timedelta(days=1)
        recent = list(
            Ticket.objects.filter(shop=demo, created_at__date=yesterday).values_list(
                "pk", flat=True
            )[:50]
        )
        print(
            f"  {yesterday}: {Ticket.objects.filter(shop=demo, created_at__date=yesterday).count()} tickets of demo"
        )
        touch = iter(range(10**9))

        def change_one():  # a ticket of yesterday breaches its SLA: that day's rows are stale
            Ticket.objects.filter(pk=recent[next(touch) % len(recent)]).update(
                sla_breached_at=timezone.now()
            )

        refresh_ms = []
        for _ in range(10):  # what beat's task costs after a change to one busy day
            change_one()
            t0 = time.perf_counter()
            assert rollup.stats_refresh_all() == 1
            refresh_ms.append((time.perf_counter() - t0) * 1000)
        print(
            f"  beat task after a change to {yesterday}: recomputes that day in p50 {pct(refresh_ms, 50):.0f} ms, "
            f"p95 {pct(refresh_ms, 95):.0f} ms",
            flush=True,
        )

        token, _ = Token.objects.get_or_create(user=user)
        api_headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        for days in [int(d) for d in args.days.split(",")]:
            start = today.fromordinal(today.toordinal() - days + 1)
            query = f"shop=demo&from={start}&to={today}"
            for label, path, headers in (
                ("dashboard page", f"/analytics/?{query}", None),
                ("summary API", f"/api/v1/analytics/summary/?{query}", api_headers),
            ):
                for mode, before in (("fresh", None), ("after a change", change_one)):
                    n = args.requests
                    p50, p95 = measure(client, path, n, args.warmup, headers, before)
                    rows.append((label, days, mode, n, p50, p95))
                    print(
                        f"  {label:15} {days:4} days {mode:14} n={n:3} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                        f"{'ok' if p95 < TARGET_P95_MS else 'OVER'}",
                        flush=True,
                    )
        export = None
        if not args.skip_export:
            out = subprocess.run(
                [str(VENV_PY), "-c", EXPORT_CHILD, str(ROOT), args.db, BENCH_USER],
                capture_output=True,
                text=True,
                env={**bench_env(args.db), "PATH": "/usr/bin:/bin"},
                check=True,
            )
            export = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  CSV export: {export}")
    finally:
        if not args.keep_extras:
            drop_extras()
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(username=BENCH_USER).delete()

    print(
        "\n| figure | range | mode | requests | p50 ms | p95 ms | target p95 < 500 ms |\n|---|---|---|---|---|---|---|"
    )
    for label, days, mode, n, p50, p95 in rows:
        print(
            f"| {label} | {days} days | {mode} | {n} | {p50:.0f} | {p95:.0f} | {'met' if p95 < TARGET_P95_MS else 'missed'} |"
        )
    if export:
        print(
            f"\nCSV export of {export['rows']:,} rows: {export['mb']} MB in {export['seconds']} s; RSS at start "
            f"{export['rss_start_mb']} MB, every 100k rows {export['rss_every_100k_mb']} MB, peak (ru_maxrss) {export['peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    main()
