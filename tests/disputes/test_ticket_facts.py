"""ticket_facts on PostgreSQL: the affected quantities do not depend on the order in which the
order's items are listed (the refundable total, the return-shipping share, the food-safety
exposure and the courier claim all follow from them)."""

import itertools
from decimal import Decimal

import pytest

from disputes import standard
from disputes.facts import Policy
from disputes.quality import same_batch_ticket_count
from disputes.services import ticket_facts
from tests.factories import make_ticket, ticket_payload
from tickets.models import Ticket

ITEMS = {
    "A": {"sku": "A", "name": "A", "batch_no": "BA", "unit_price": "10.00", "quantity": 2},
    "B": {"sku": "B", "name": "B", "batch_no": "BB", "unit_price": "5.00", "quantity": 3},
    "C": {"sku": "C", "name": "C", "batch_no": "BC", "unit_price": "7.00", "quantity": 1},
}
# affected items given -> (affected quantity per SKU, refundable total)
CASES = [
    ([{"sku": "B", "quantity": 1}], {"A": 0, "B": 1, "C": 0}, Decimal("5.00")),
    (
        [{"sku": "A", "quantity": 2}, {"sku": "C", "quantity": 1}],
        {"A": 2, "B": 0, "C": 1},
        Decimal("27.00"),
    ),
    ([{"sku": "C", "quantity": 1}], {"A": 0, "B": 0, "C": 1}, Decimal("7.00")),
    (
        [{"sku": "B", "quantity": 1}, {"sku": "B", "quantity": 1}],
        {"A": 0, "B": 2, "C": 0},
        Decimal("10.00"),
    ),
    ([], {"A": 2, "B": 3, "C": 1}, Decimal("42.00")),  # none given: the whole order
]


def _ticket(shop, order_skus, affected):
    payload = ticket_payload()
    payload["order"]["items"] = [ITEMS[sku] for sku in order_skus]
    payload["order"]["amount"] = Decimal("42.00")
    return Ticket.objects.get(
        pk=make_ticket(shop, order=payload["order"], affected_items=affected).pk
    )


@pytest.mark.parametrize("affected, expected, total", CASES)
def test_affected_quantities_do_not_depend_on_the_items_order(shop, affected, expected, total):
    policy = Policy()
    for order_skus in itertools.permutations("ABC"):
        ticket = _ticket(shop, order_skus, affected)
        facts = ticket_facts(ticket=ticket, policy=policy)
        got = {item.sku: item.affected_quantity for item in facts.items}
        assert got == expected, order_skus
        assert standard.refundable_total(facts) == total, order_skus
        bad_units = sum(i.affected_quantity for i in facts.items)
        assert bad_units == sum(expected.values()), order_skus


def test_same_sku_on_two_lines_fills_them_in_turn(shop):
    payload = ticket_payload()
    payload["order"]["items"] = [
        {"sku": "A", "unit_price": "10.00", "quantity": 1},
        {"sku": "B", "unit_price": "5.00", "quantity": 1},
        {"sku": "A", "unit_price": "10.00", "quantity": 2},
    ]
    ticket = Ticket.objects.get(
        pk=make_ticket(
            shop, order=payload["order"], affected_items=[{"sku": "A", "quantity": 2}]
        ).pk
    )
    facts = ticket_facts(ticket=ticket, policy=Policy())
    assert [i.affected_quantity for i in facts.items] == [1, 0, 1]
    assert standard.refundable_total(facts) == Decimal("20.00")


def test_same_batch_count_takes_every_item_when_none_is_marked_affected(shop):
    payload = ticket_payload()
    payload["order"]["items"] = [ITEMS["A"], ITEMS["B"]]
    for n in range(2):
        payload["order"]["order_no"] = f"O-{n}"
        ticket = Ticket.objects.get(
            pk=make_ticket(shop, order=payload["order"], affected_items=[]).pk
        )
    assert same_batch_ticket_count(ticket=ticket, window_days=30) == 2
