#!/usr/bin/env python
"""What the analytics rollup's marker triggers cost the writes they watch.

    .venv/bin/python bench/rollup_triggers.py [--blocks 10 --per-block 40]

In a small database of its own (`aftersales_bench_triggers`, created and migrated here), one
ticket's life through the services — create (order, 2 items, ticket), open, a reply, resolve —
repeated in alternating blocks with the triggers enabled and disabled (ALTER TABLE … DISABLE
TRIGGER), so both modes share the machine's noise. Prints ms per ticket life in each mode, their
ratio, and the markers written per ticket life.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_ready, service_ticket_creator

DB = "aftersales_bench_triggers"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=10, help="blocks per mode")
    parser.add_argument("--per-block", type=int, default=40, help="ticket lives per block")
    args = parser.parse_args()

    database_ready(DB)
    from django.db import connection

    from analytics.models import DailyStatStale
    from analytics.rollup import WATCHED
    from shops.models import Shop
    from tickets import services
    from tickets.states import Action

    shop, _ = Shop.objects.get_or_create(code="bench-triggers", defaults={"name": "Bench triggers"})
    actor = services.Actor.shop(shop)
    create = service_ticket_creator(shop, order_prefix="B")

    def ticket_life():
        ticket = create()
        services.ticket_transition(ticket=ticket, action=Action.OPEN, actor=actor)
        services.message_add(ticket=ticket, body="您好，我们已收到。", actor=actor)
        services.ticket_transition(ticket=ticket, action=Action.RESOLVE, actor=actor)

    def set_triggers(enabled: bool):
        verb = "ENABLE" if enabled else "DISABLE"
        with connection.cursor() as cur:
            for table in [*WATCHED, "shops_shop"]:
                cur.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'analytics_stale_%%'",
                    [table],
                )
                for (name,) in cur.fetchall():
                    cur.execute(f"ALTER TABLE {table} {verb} TRIGGER {name}")

    for _ in range(args.per_block):  # warm-up
        ticket_life()
    times = {True: [], False: []}
    markers_before = DailyStatStale.objects.count()
    try:
        for block in range(args.blocks * 2):
            enabled = block % 2 == 0
            set_triggers(enabled)
            start = time.perf_counter()
            for _ in range(args.per_block):
                ticket_life()
            times[enabled].append((time.perf_counter() - start) * 1000 / args.per_block)
    finally:
        set_triggers(True)
    markers = (DailyStatStale.objects.count() - markers_before) / (args.blocks * args.per_block)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(
        f"ticket life (create with 2 items + open + reply + resolve), median of {args.blocks} blocks of {args.per_block}:"
    )
    print(f"  triggers on:  {on:.2f} ms   (blocks {min(times[True]):.2f}–{max(times[True]):.2f})")
    print(
        f"  triggers off: {off:.2f} ms   (blocks {min(times[False]):.2f}–{max(times[False]):.2f})"
    )
    print(f"  on / off = {on / off:.3f}; {markers:.1f} markers written per ticket life")


if __name__ == "__main__":
    main()
