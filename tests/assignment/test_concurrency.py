"""Races on PostgreSQL, each thread with its own connection and real transactions: tickets created
at the same moment never push an agent over the cap (the shop's settings row is the lock every
choice takes), and hand-outs running at once never give one ticket twice (SKIP LOCKED claims)."""

import threading

import pytest
from django.db import connection
from django.db.models import Count

from assignment.services import availability_set, tickets_hand_out
from tests.assignment.conftest import automatic, available, new_ticket
from tests.factories import staff_member
from tickets.models import Ticket, TicketEvent
from tickets.states import ACTIVE_STATUS_LIST

pytestmark = pytest.mark.usefixtures("transactional_db", "dispute_types_seeded")


def at_once(functions) -> list:
    """Run each function in its own thread (its own database connection), released together."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def assert_fair(shop, *, cap: int, expected_assigned: int):
    open_per_agent = dict(
        Ticket.objects.filter(shop=shop, status__in=ACTIVE_STATUS_LIST, assignee__isnull=False)
        .values_list("assignee__username")
        .annotate(n=Count("id"))
    )
    assert open_per_agent and max(open_per_agent.values()) <= cap, open_per_agent
    per_ticket = dict(
        Ticket.objects.filter(shop=shop)
        .annotate(n=Count("events", filter=models_q_assigned()))
        .values_list("id", "n")
    )
    assert set(per_ticket.values()) <= {0, 1}, per_ticket  # nobody given twice
    assigned = Ticket.objects.filter(shop=shop, assignee__isnull=False).count()
    assert assigned == sum(per_ticket.values()) == expected_assigned
    return open_per_agent


def models_q_assigned():
    from django.db.models import Q

    return Q(events__kind=TicketEvent.Kind.ASSIGNED)


@pytest.mark.parametrize("mode", ["round_robin", "least_loaded"])
def test_sixteen_tickets_created_at_once_never_go_over_the_cap(shop, mode):
    agents = [staff_member(shop, "agent", username=name) for name in ("ann", "bob")]
    available(*agents)
    automatic(shop, mode, cap=3)

    at_once([lambda: new_ticket(shop)] * 16)

    assert Ticket.objects.filter(shop=shop).count() == 16
    assert assert_fair(shop, cap=3, expected_assigned=6) == {"ann": 3, "bob": 3}
    assert Ticket.objects.filter(shop=shop, assignee__isnull=True).count() == 10
    modes = set(
        TicketEvent.objects.filter(ticket__shop=shop, kind="assigned").values_list(
            "data__mode", flat=True
        )
    )
    assert modes == {mode}


def test_two_agents_becoming_available_at_once_never_share_a_ticket(shop):
    agents = [staff_member(shop, "agent", username=name) for name in ("ann", "bob")]
    automatic(shop, "round_robin", cap=3)
    for _ in range(10):
        new_ticket(shop)

    at_once([lambda user=user: availability_set(user=user, available=True) for user in agents])

    assert assert_fair(shop, cap=3, expected_assigned=6) == {"ann": 3, "bob": 3}


@pytest.mark.parametrize("mode", ["round_robin", "least_loaded"])
def test_two_hand_outs_at_once_give_each_ticket_once(shop, mode):
    agents = [staff_member(shop, "agent", username=name) for name in ("ann", "bob")]
    automatic(shop, mode, cap=3)
    for _ in range(10):
        new_ticket(shop)
    available(*agents)  # without handing out: the two workers below race for the tickets

    given = at_once([lambda: tickets_hand_out(shop_id=shop.pk)] * 2)

    assert sorted(len(ids) for ids in given) == [0, 6]
    assert not set(given[0]) & set(given[1])
    assert_fair(shop, cap=3, expected_assigned=6)
