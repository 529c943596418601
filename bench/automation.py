#!/usr/bin/env python
"""What automation rules cost.

    .venv/bin/python bench/automation.py create [--blocks 6 --per-block 30]
    .venv/bin/python bench/automation.py sweep --db aftersales_rules_bench_100k
    .venv/bin/python bench/automation.py sweep --db aftersales_rules_bench      # 1M tickets

**create**: in a small database of its own (`aftersales_rules_create_bench`, created and migrated
here) tickets are created through `tickets.services.ticket_create` in alternating blocks with 0, 10
and 50 enabled `ticket.created` rules of the shop (so all share the machine's noise). The rules
read the ticket, its order and the customer (dispute type, amount as Decimal, description
contains, courier in a list, tags) and none matches the benchmark's ticket — the price of having
them; a last block set has 50 rules of which 5 match and add a tag, for the price of acting.
Prints ms per creation and the ratios (target: 50 rules < 20 % of a create).

**sweep**: on a database made by `bench/generate.py` (run it with `--db NAME --tickets N`), 10
enabled time rules in shop `demo` (5 on created_at, 5 on updated_at, 24-240 h); the first tick
(with the 7-day look-back) is run outside the timing, then the steady tick is timed: each rule
reads only the tickets that crossed its mark since its watermark. Printed: ms per tick (median of
--ticks ticks, each 60 s of simulated time later than the previous), firings created, and the plan
of one rule's scan. Run at 100k and 1M tickets to see it flat in N. Leaves the database as it was
(rules and firings are removed at the end). The look-back is worked off first (ticks at the same
moment until one adds nothing), outside the steady figure.
"""

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import alternating_blocks, database_ready, service_ticket_creator

CREATE_DB = "aftersales_rules_create_bench"


def _rule(i: int, *, match: bool) -> dict:
    """A ticket.created rule reading several facts; `match`: the benchmark's tickets match."""
    conditions = [
        {"field": "dispute_type", "op": "in", "value": ["damaged_on_arrival", "wrong_item"]},
        {"field": "order.courier", "op": "in", "value": ["SF", "YTO", "ZTO"]},
        {"field": "description", "op": "contains", "value": ["破损", "碎"]},
        {"field": "tags", "op": "not_in", "value": ["vip"]},
        # the benchmark's orders are ¥21.00: this one decides whether the rule matches
        {"field": "order.amount", "op": "lte" if match else "gte", "value": f"{100 + i}.00"},
    ]
    return {
        "name": f"bench rule {i}",
        "event": "ticket.created",
        "enabled": False,
        "position": i + 1,
        "conditions": {"all": conditions},
        "actions": [{"type": "add_tag", "value": f"r{i}"}],
    }


def bench_create(args) -> None:
    database_ready(CREATE_DB)
    from automation import services as automation
    from automation.models import Rule
    from shops.models import Shop

    shop, _ = Shop.objects.get_or_create(code="bench-rules", defaults={"name": "Bench rules"})
    Rule.objects.filter(shop=shop).delete()
    idle = [automation.rule_create(shop=shop, data=_rule(i, match=False)) for i in range(50)]
    acting = [automation.rule_create(shop=shop, data=_rule(50 + i, match=True)) for i in range(5)]
    create = service_ticket_creator(shop, order_prefix="R", description="瓶子碎了")

    configs = {
        "0 rules": [],
        "10 rules": idle[:10],
        "50 rules": idle,
        "50 rules, 5 acting": idle[:45] + acting,
    }
    all_ids = [r.pk for r in idle + acting]
    for _ in range(args.per_block):  # warm-up
        create()

    def enable(name):
        Rule.objects.filter(pk__in=all_ids).update(enabled=False)
        Rule.objects.filter(pk__in=[r.pk for r in configs[name]]).update(enabled=True)

    times = alternating_blocks(
        configs, blocks=args.blocks, per_block=args.per_block, prepare=enable, create=create
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"ticket create (order with 2 items), median of {args.blocks} blocks of {args.per_block}:"
    )
    for name, median in medians.items():
        print(
            f"  {name:20s} {median:.2f} ms   (blocks {min(times[name]):.2f}–{max(times[name]):.2f})"
        )
    base = medians["0 rules"]
    for name in list(configs)[1:]:
        print(f"  {name} / 0 rules = {medians[name] / base:.3f}")


def bench_sweep(args) -> None:
    database_ready(args.db)  # made by bench/generate.py; migrated here
    from django.utils import timezone

    from automation import services as automation
    from automation.models import Rule, RuleFiring
    from automation.sweep import automation_sweep
    from shops.models import Shop
    from tickets.models import Ticket

    shop = Shop.objects.get(code="demo")
    tickets = Ticket.objects.filter(shop=shop).count()
    Rule.objects.filter(shop=shop, name__startswith="bench time").delete()
    rules = []
    for i in range(10):
        field = "created_at" if i < 5 else "updated_at"
        rules.append(
            automation.rule_create(
                shop=shop,
                data={
                    "name": f"bench time {i}",
                    "enabled": True,
                    "event": "time",
                    "after": {"field": field, "hours": 24 * (1 + i % 5) * 2},
                    "conditions": {
                        "all": [{"field": "status", "op": "in", "value": ["new", "open"]}]
                    },
                    "actions": [{"type": "add_tag", "value": "bench"}],
                },
            )
        )
    ids = [r.pk for r in rules]
    try:

        def work_done(firing_ids):  # the workers: here, every claimed firing is done at once
            RuleFiring.objects.filter(pk__in=firing_ids).update(state="done")

        now = timezone.now()
        start = time.perf_counter()
        catch_up_ticks = 0
        while True:  # the 7-day look-back: a tick reads at most 20 batches per rule
            catch_up_ticks += 1
            before = RuleFiring.objects.filter(rule_id__in=ids).count()
            automation_sweep(now=now, enqueue=work_done)
            if RuleFiring.objects.filter(rule_id__in=ids).count() == before:
                break
        first = (time.perf_counter() - start) * 1000
        first_firings = RuleFiring.objects.filter(rule_id__in=ids).count()
        ticks = []
        moment = now
        for tick in range(1, args.ticks + 1):
            moment = now + dt.timedelta(seconds=60 * tick)
            start = time.perf_counter()
            automation_sweep(now=moment, enqueue=work_done)
            ticks.append((time.perf_counter() - start) * 1000)
        steady_firings = RuleFiring.objects.filter(rule_id__in=ids).count() - first_firings
        rule = Rule.objects.get(pk=ids[0])
        # The scan of one rule's next tick, as _scan_rule builds it.
        high = moment + dt.timedelta(seconds=60) - dt.timedelta(hours=rule.after_hours)
        scan = (
            Ticket.objects.filter(
                shop_id=rule.shop_id,
                created_at__lte=high,
                created_at__gte=rule.swept_until,
            )
            .select_related("order", "customer", "dispute_type", "assignee")
            .order_by("created_at", "id")[:500]
        )
        plan = scan.explain(analyze=True, buffers=True).splitlines()
        print(f"time-rule sweep, {tickets:,} tickets in shop demo, 10 enabled time rules:")
        print(
            f"  catch-up (7-day look-back): {first:.0f} ms in {catch_up_ticks} ticks, "
            f"{first_firings:,} firings"
        )
        print(
            f"  steady tick (60 s later each): median {statistics.median(ticks):.2f} ms "
            f"(min {min(ticks):.2f}, max {max(ticks):.2f}) over {len(ticks)} ticks, "
            f"{steady_firings} firings"
        )
        print("  one rule's scan:")
        for line in plan:
            print("    " + line)
    finally:
        RuleFiring.objects.filter(rule_id__in=ids).delete()
        Rule.objects.filter(pk__in=ids).delete()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    create = sub.add_parser("create")
    create.add_argument("--blocks", type=int, default=6)
    create.add_argument("--per-block", type=int, default=30)
    sweep = sub.add_parser("sweep")
    sweep.add_argument("--db", required=True)
    sweep.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    (bench_create if args.what == "create" else bench_sweep)(args)


if __name__ == "__main__":
    main()
