"""ticket_get's written-out read (tickets.selectors._ticket_read) gives what the ORM's
ticket_base_queryset gives: the same fields, relations, tags and items, and nothing of a shop the
caller cannot see."""

import pytest
from django.http import Http404

from tests.factories import make_ticket, staff_member
from tickets import services
from tickets.selectors import ticket_base_queryset, ticket_get

pytestmark = pytest.mark.django_db


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.parametrize("assigned", [True, False])
def test_the_written_out_read_is_the_querysets(shop, agent, assigned, django_assert_num_queries):
    ticket = make_ticket(shop)
    actor = services.Actor.staff(agent)
    services.ticket_tags_set(ticket=ticket, names=["VIP", "加急"], actor=actor)
    if assigned:
        services.ticket_assign(ticket=ticket, assignee=agent, actor=actor)
    expected = ticket_base_queryset().get(pk=ticket.pk)
    expected_type = (
        expected.dispute_type.code
    )  # not joined by the queryset (ticket_get attaches it)

    agent.refresh_from_db()  # no memberships read yet
    read = ticket_get(user=agent, number=ticket.number)
    with django_assert_num_queries(0):  # everything below is in hand
        assert _fields(read) == _fields(expected)
        for name in ("shop", "customer", "order"):
            assert _fields(getattr(read, name)) == _fields(getattr(expected, name)), name
        assert (read.assignee is None) == (not assigned)
        if assigned:
            assert read.assignee.get_username() == "agent"
        assert [(t.name, t.colour) for t in read.tag_list] == [
            (t.name, t.colour) for t in expected.tag_list
        ]
        assert [_fields(i) for i in read.order.items.all()] == [
            _fields(i) for i in expected.order.items.all()
        ]
        assert read.dispute_type.code == expected_type


def test_another_shops_ticket_is_not_found(shop, other_shop):
    ticket = make_ticket(other_shop)
    with pytest.raises(Http404):
        ticket_get(user=staff_member(shop, "agent", username="a1"), number=ticket.number)
    assert ticket_get(user=staff_member(other_shop, "agent", username="a2"), number=ticket.number)
