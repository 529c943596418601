"""Idempotency-Key with Stripe's semantics (API.md), including concurrent requests on PostgreSQL."""

import datetime as dt
import threading

import pytest
import requests
import time_machine
from django.db import connection
from django.utils import timezone

from tests.factories import ShopFactory, api_key_for, ticket_payload
from tickets.idempotency import idempotency_purge_expired
from tickets.models import Customer, IdempotencyRecord, Order, Ticket


def _create(client, payload=None, key="key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        "/api/v1/tickets/", payload or ticket_payload(), format="json", headers=headers
    )


def test_same_key_same_body_replays_the_first_response(shop_client):
    first = _create(shop_client)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    second = _create(shop_client)

    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Ticket.objects.count() == 1 and Order.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (
        record.key == "key-1"
        and record.response_status == 201
        and record.response_body["number"] == first.json()["number"]
    )


def test_key_order_of_the_body_does_not_matter(shop_client):
    payload = ticket_payload()
    first = _create(shop_client, payload)
    reordered = dict(reversed(list(payload.items())))
    second = _create(shop_client, reordered)
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json()["number"] == first.json()["number"]


def test_same_key_different_body_is_422(shop_client):
    first = _create(shop_client)
    counts = (Ticket.objects.count(), Order.objects.count(), Customer.objects.count())

    response = _create(shop_client, ticket_payload(description="另一个问题"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in response
    assert (Ticket.objects.count(), Order.objects.count(), Customer.objects.count()) == counts
    assert IdempotencyRecord.objects.get().response_body["number"] == first.json()["number"]


def test_without_key_every_request_creates(shop_client):
    _create(shop_client, key=None)
    _create(shop_client, key=None)
    assert Ticket.objects.count() == 2 and IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("key", ["k" * 256, "", "a\x00b", " k", "kë"])
def test_invalid_key_is_400(shop_client, key):
    response = _create(shop_client, key=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Ticket.objects.count() == 0 and IdempotencyRecord.objects.count() == 0


def test_key_of_255_characters_is_fine(shop_client):
    assert _create(shop_client, key="k" * 255).status_code == 201
    assert _create(shop_client, key="k" * 255)["Idempotent-Replayed"] == "true"


def test_same_key_in_two_shops_is_two_tickets(shop_client, other_shop_client):
    a = _create(shop_client)
    b = _create(other_shop_client)
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert a.json()["number"] != b.json()["number"]
    assert {a.json()["shop"], b.json()["shop"]} == {"demo", "other"}
    assert Ticket.objects.count() == 2 and IdempotencyRecord.objects.count() == 2


def test_failed_request_does_not_burn_the_key(shop_client):
    bad = ticket_payload(dispute_type="nope")
    assert _create(shop_client, bad).status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    # the same key may be used again, for a corrected body
    response = _create(shop_client, ticket_payload())
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


def test_conflict_is_not_remembered(shop_client):
    assert _create(shop_client, ticket_payload(external_ref="R-1"), key="a").status_code == 201
    again = _create(shop_client, ticket_payload(external_ref="R-1"), key="b")
    assert again.status_code == 409
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["a"]


def test_record_older_than_24_hours_no_longer_replays(shop_client):
    first = _create(shop_client)
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=24, seconds=1))

    second = _create(shop_client)

    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["number"] != first.json()["number"]
    assert Ticket.objects.count() == 2
    assert IdempotencyRecord.objects.get().response_body["number"] == second.json()["number"]


def test_time_travel_past_24_hours(shop_client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = _create(shop_client)
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=59), tick=False):
        replay = _create(shop_client)
        assert (
            replay["Idempotent-Replayed"] == "true"
            and replay.json()["number"] == first.json()["number"]
        )
        # still within 24 h: a different body is refused
        assert _create(shop_client, ticket_payload(description="x")).status_code == 422
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        # past 24 h the key is free again, even for another body
        fresh = _create(shop_client, ticket_payload(description="x"))
        assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    assert Ticket.objects.count() == 2


def test_purge_removes_only_expired_records(shop):
    now = timezone.now()
    IdempotencyRecord.objects.create(
        shop=shop,
        key="old",
        request_hash="x",
        response_status=201,
        response_body={},
        created_at=now - dt.timedelta(hours=25),
    )
    IdempotencyRecord.objects.create(
        shop=shop,
        key="new",
        request_hash="x",
        response_status=201,
        response_body={},
        created_at=now - dt.timedelta(hours=23),
    )
    assert idempotency_purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


# --- concurrency, through the real stack on PostgreSQL --------------------------------


def _post_concurrently(
    url: str, headers_per_request: list[dict], payload: dict
) -> list[requests.Response]:
    barrier = threading.Barrier(len(headers_per_request))
    responses: list = [None] * len(headers_per_request)
    errors: list = []

    def worker(index: int, headers: dict):
        try:
            with requests.Session() as session:
                barrier.wait(timeout=10)
                responses[index] = session.post(url, json=payload, headers=headers, timeout=30)
        except Exception as exc:  # reported below; an assertion in a thread would be lost
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(i, h)) for i, h in enumerate(headers_per_request)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return responses


@pytest.fixture
def live_shop(transactional_db, dispute_types_seeded):
    """A shop and its key, committed so the live server's threads can see them."""
    shop = ShopFactory(code="live")
    return shop, api_key_for(shop)


def test_concurrent_requests_with_one_key_create_one_ticket(live_server, live_shop):
    shop, key = live_shop
    headers = {"Authorization": f"Api-Key {key}", "Idempotency-Key": "concurrent-1"}

    responses = _post_concurrently(
        f"{live_server.url}/api/v1/tickets/", [headers] * 8, ticket_payload()
    )

    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.json()["number"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert Ticket.objects.filter(shop=shop).count() == 1
    assert Order.objects.filter(shop=shop).count() == 1
    assert Customer.objects.filter(shop=shop).count() == 1
    assert IdempotencyRecord.objects.filter(shop=shop).count() == 1


def test_concurrent_requests_with_one_external_ref_create_one_ticket(live_server, live_shop):
    shop, key = live_shop
    headers = [{"Authorization": f"Api-Key {key}", "Idempotency-Key": f"ref-{i}"} for i in range(8)]

    responses = _post_concurrently(
        f"{live_server.url}/api/v1/tickets/", headers, ticket_payload(external_ref="RMA-RACE")
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    assert all(
        r.json()["error"]["code"] == "duplicate_external_ref"
        for r in responses
        if r.status_code == 409
    )
    assert Ticket.objects.filter(shop=shop).count() == 1
    assert Order.objects.filter(shop=shop).count() == 1
    assert Customer.objects.filter(shop=shop).count() == 1
    assert (
        IdempotencyRecord.objects.filter(shop=shop).count() == 1
    )  # refused requests leave no record


def test_concurrent_requests_with_one_external_ref_and_no_key(live_server, live_shop):
    shop, key = live_shop
    headers = [{"Authorization": f"Api-Key {key}"}] * 8

    responses = _post_concurrently(
        f"{live_server.url}/api/v1/tickets/", headers, ticket_payload(external_ref="RMA-RACE-2")
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [
        r.text for r in responses
    ]
    assert (
        Ticket.objects.filter(shop=shop).count() == 1
        and Order.objects.filter(shop=shop).count() == 1
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite refuses concurrent writers (database is locked)",
)
def test_concurrent_creates_for_one_new_customer_share_it(live_server, live_shop):
    """Eight first tickets of one customer at once: one customer row, every ticket on it (the
    read-or-insert that loses the race reads the winner's row)."""
    shop, key = live_shop
    payloads = []
    for n in range(8):
        payload = ticket_payload(customer={"external_id": "c-race", "name": "并发"})
        payload["order"]["order_no"] = f"RACE-{n}"
        payloads.append(payload)
    barrier, answers = threading.Barrier(8), [None] * 8

    def worker(n):
        with requests.Session() as session:
            barrier.wait(timeout=10)
            answers[n] = session.post(
                f"{live_server.url}/api/v1/tickets/",
                json=payloads[n],
                headers={"Authorization": f"Api-Key {key}"},
                timeout=30,
            )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    customer = Customer.objects.get(shop=shop)
    assert (customer.external_id, customer.name) == ("c-race", "并发")
    assert Ticket.objects.filter(shop=shop, customer=customer).count() == 8
