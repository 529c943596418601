#!/usr/bin/env python
"""What automatic assignment costs a ticket's creation.

    .venv/bin/python bench/assignment.py [--blocks 6 --per-block 30 --agents 5]

In a small database of its own (`aftersales_assign_bench`, created and migrated here), tickets
are created through `tickets.services.ticket_create` (order with 2 items) in alternating blocks
with the shop's mode set to manual, round_robin and least_loaded — so all modes share the
machine's noise. The agents are available and the cap is high, so every automatic creation
really assigns (takes the shop's lock, counts open tickets, writes the assignment event).
Prints ms per creation in each mode and the ratio automatic / manual.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import alternating_blocks, database_ready, service_ticket_creator

DB = "aftersales_assign_bench"
MODES = ("manual", "round_robin", "least_loaded")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=6, help="blocks per mode")
    parser.add_argument("--per-block", type=int, default=30, help="creations per block")
    parser.add_argument("--agents", type=int, default=5, help="available agents of the shop")
    args = parser.parse_args()

    database_ready(DB)
    from django.contrib.auth import get_user_model

    from assignment.models import AssignmentSettings, Availability
    from shops.models import Membership, Shop
    from tickets.models import Ticket, TicketEvent

    shop, _ = Shop.objects.get_or_create(code="bench-assign", defaults={"name": "Bench assign"})
    for i in range(args.agents):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-agent-{i}")
        Membership.objects.get_or_create(user=user, shop=shop)
        Availability.objects.update_or_create(user=user, defaults={"available": True})
    settings, _ = AssignmentSettings.objects.get_or_create(shop=shop)
    settings.max_open_per_agent = 10**6  # every automatic creation assigns
    settings.save()
    create = service_ticket_creator(shop, order_prefix="A")

    # Earlier runs' tickets stop counting as open work: each run counts only its own (otherwise
    # every run would count more open tickets per agent than the last).
    Ticket.objects.filter(shop=shop).exclude(status="closed").update(status="closed")
    for _ in range(args.per_block):  # warm-up
        create()
    assigned_before = TicketEvent.objects.filter(ticket__shop=shop, kind="assigned").count()
    times = alternating_blocks(
        MODES,
        blocks=args.blocks,
        per_block=args.per_block,
        prepare=lambda mode: AssignmentSettings.objects.filter(pk=settings.pk).update(mode=mode),
        create=create,
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = {}
    for mode in MODES:
        AssignmentSettings.objects.filter(pk=settings.pk).update(mode=mode)
        with CaptureQueriesContext(connection) as ctx:
            create()
        statements[mode] = len(ctx.captured_queries)
    assigned = (
        TicketEvent.objects.filter(ticket__shop=shop, kind="assigned").count() - assigned_before
    )
    medians = {mode: statistics.median(times[mode]) for mode in MODES}
    print(
        f"ticket create (order with 2 items), median of {args.blocks} blocks of {args.per_block}, "
        f"{args.agents} available agents:"
    )
    for mode in MODES:
        print(
            f"  {mode:13s} {medians[mode]:.2f} ms   "
            f"(blocks {min(times[mode]):.2f}–{max(times[mode]):.2f})"
        )
    for mode in MODES[1:]:
        print(
            f"  {mode} / manual = {medians[mode] / medians['manual']:.3f} "
            f"(adds {medians[mode] - medians['manual']:.2f} ms; statements per create: "
            f"{statements[mode]} vs {statements['manual']})"
        )
    print(f"  assignments written: {assigned} (expected {2 * args.blocks * args.per_block + 2})")


if __name__ == "__main__":
    main()
