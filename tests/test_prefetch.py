"""set_prefetched: a relation answers from rows in hand, without a query, and never with rows of
another instance."""

import pytest

from aftersales.prefetch import prefetched, set_prefetched
from tests.factories import make_ticket_for
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_rows_in_hand_answer_without_a_query_and_a_further_filter_stays_on_the_instance(
    shop, django_assert_num_queries
):
    first = make_ticket_for(shop, order_no="A1", customer_id="c-1")
    make_ticket_for(shop, order_no="A2", customer_id="c-1")
    make_ticket_for(shop, order_no="B1", customer_id="c-2")
    customer = first.customer
    ticket = Ticket.objects.get(pk=first.pk)  # a fresh instance: nothing cached yet
    set_prefetched(customer, "tickets", [ticket])  # one of its two tickets, say
    with django_assert_num_queries(0):
        assert list(customer.tickets.all()) == [ticket]
        assert prefetched(customer, "tickets") == [ticket]
    # A further filter reads the database, within this customer's tickets only.
    further = list(customer.tickets.filter(shop=shop))
    assert sorted(t.order.order_no for t in further) == ["A1", "A2"]
    # ... and knows its rows' customer, as the relation's manager would.
    with django_assert_num_queries(0):
        assert all(t.customer is customer for t in further)


def test_no_rows_answer_empty_without_a_query_and_a_further_filter_reads_the_database(
    ticket, django_assert_num_queries
):
    """A new ticket's relations are cached empty; rows added later (evidence uploaded through the
    API, say) are still found by a query built on the cached relation."""
    for name in ("judgments", "compensations", "tags", "attachments", "risk_dismissals"):
        set_prefetched(ticket, name, [])
    with django_assert_num_queries(0):
        assert list(ticket.judgments.all()) == []
        assert list(ticket.tags.all()) == []
        assert prefetched(ticket, "attachments") == []
    Ticket.objects.get(pk=ticket.pk).tags.create(name="易碎", shop=ticket.shop)
    assert [t.name for t in ticket.tags.filter(shop=ticket.shop)] == ["易碎"]
