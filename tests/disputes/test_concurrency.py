"""Races on PostgreSQL through the live (threaded) server: the row locks make concurrent requests
take turns, so authority is counted across simultaneous proposals and an execution report that
arrives twice at once is recorded once."""

import threading
from decimal import Decimal

import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.authtoken.models import Token

from disputes.models import Compensation
from disputes.services import compensation_propose, policy_current
from tests.factories import api_key_for, make_ticket, png_bytes, staff_member
from tickets import services as ticket_services
from tickets.models import TicketEvent


def serum_ticket(shop):
    """Two ¥40 serums, both affected, with a photo: ¥80 refundable, more than the ¥50 authority."""
    order = {
        "order_no": "T9",
        "amount": "80.00",
        "items": [{"sku": "SERUM", "unit_price": "40.00", "quantity": 2}],
    }
    ticket = make_ticket(shop, order=order, affected_items=[{"sku": "SERUM", "quantity": 2}])
    ticket_services.attachment_add(
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("p.png", png_bytes()),
        kind="photo",
        actor=ticket_services.Actor.shop(shop),
    )
    return ticket


def at_once(calls) -> list:
    """Run each (url, body, headers) POST in its own thread, released together; the responses in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def post(index, url, body, headers):
        barrier.wait()
        response = requests.post(
            url, json=body, headers={**headers, "Connection": "close"}, timeout=30
        )
        results[index] = (response.status_code, response.json())

    threads = [threading.Thread(target=post, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()
    return results


def test_two_agents_proposing_at_once_cannot_both_stay_within_authority(
    live_server, transactional_db, shop, media_root
):
    ticket = serum_ticket(shop)
    policy_current(shop=shop)
    agents = [staff_member(shop, "agent", username=f"agent{i}") for i in range(2)]
    tokens = [Token.objects.create(user=user).key for user in agents]
    url = f"{live_server.url}/api/v1/tickets/{ticket.number}/compensations/"

    results = at_once(
        [
            (url, {"type": "refund", "amount": "30.00"}, {"Authorization": f"Token {token}"})
            for token in tokens
        ]
    )

    assert [code for code, _ in results] == [201, 201]
    # 30 + 30 > 50: whichever came second waits for a supervisor.
    assert sorted(body["status"] for _, body in results) == ["approved", "pending_approval"]
    assert Compensation.objects.filter(ticket=ticket).count() == 2


def test_a_proposal_waits_for_the_one_in_flight_and_counts_it(transactional_db, shop, media_root):
    """Deterministic form of the race: the first proposal's transaction is still open when the second
    starts. The second must wait on the ticket's row lock and then count the first's ¥30."""
    import time

    from django.db import transaction

    ticket = serum_ticket(shop)
    policy_current(shop=shop)  # made now, so creating version 1 does not serialize the two
    first_agent, second_agent = (
        staff_member(shop, "agent", username=f"agent{i}") for i in range(2)
    )
    first_done, statuses = threading.Event(), {}

    def first():
        with transaction.atomic():
            statuses["first"] = compensation_propose(
                ticket=ticket,
                type="refund",
                amount=Decimal("30.00"),
                actor=ticket_services.Actor.staff(first_agent),
            ).status
            first_done.set()
            time.sleep(0.5)  # still uncommitted while the second proposal starts
        connection.close()

    def second():
        first_done.wait(10)
        statuses["second"] = compensation_propose(
            ticket=ticket,
            type="refund",
            amount=Decimal("30.00"),
            actor=ticket_services.Actor.staff(second_agent),
        ).status
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == {"first": "approved", "second": "pending_approval"}


def test_execution_reported_twice_at_once_is_recorded_once(
    live_server, transactional_db, shop, media_root
):
    ticket = serum_ticket(shop)
    agent = staff_member(shop, "agent", username="agent")
    compensation = compensation_propose(
        ticket=ticket,
        type="refund",
        amount=Decimal("40.00"),
        actor=ticket_services.Actor.staff(agent),
    )
    assert compensation.status == "approved"
    key = api_key_for(shop)
    url = f"{live_server.url}/api/v1/compensations/{compensation.pk}/executed/"
    body = {"external_ref": "RF-1", "executed_at": "2026-11-23T10:00:00+08:00"}

    results = at_once([(url, body, {"Authorization": f"Api-Key {key}"})] * 3)

    assert [code for code, _ in results] == [200, 200, 200]
    assert {body["status"] for _, body in results} == {"executed"}
    assert TicketEvent.objects.filter(ticket=ticket, kind="compensation_executed").count() == 1


def test_executed_and_failed_at_once_one_wins(live_server, transactional_db, shop, media_root):
    ticket = serum_ticket(shop)
    agent = staff_member(shop, "agent", username="agent")
    compensation = compensation_propose(
        ticket=ticket,
        type="refund",
        amount=Decimal("40.00"),
        actor=ticket_services.Actor.staff(agent),
    )
    key = {"Authorization": f"Api-Key {api_key_for(shop)}"}
    base = f"{live_server.url}/api/v1/compensations/{compensation.pk}"

    results = at_once(
        [
            (f"{base}/executed/", {"external_ref": "RF-1"}, key),
            (f"{base}/failed/", {"reason": "bank down"}, key),
        ]
    )

    assert sorted(code for code, _ in results) == [200, 409]
    compensation.refresh_from_db()
    assert compensation.status in ("executed", "failed")
    assert (
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=["compensation_executed", "compensation_failed"]
        ).count()
        == 1
    )
