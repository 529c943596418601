"""Responsibility, compensation and policy through the REST API, on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from disputes.models import Compensation, Judgment, ShopPolicy
from tests.factories import make_ticket, png_bytes, staff_member
from tickets import services as ticket_services
from tickets.models import TicketEvent
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create


@pytest.fixture
def supervisor_client(supervisor, token_client):
    return token_client(supervisor)


@pytest.fixture
def admin_client(shop, token_client):
    return token_client(staff_member(shop, "admin", username="admin"))


def with_photo(ticket, media_root):
    ticket_services.attachment_add(
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("broken.png", png_bytes()),
        kind="photo",
        actor=ticket_services.Actor.shop(ticket.shop),
    )
    return ticket


@pytest.fixture
def bottle(shop, media_root):
    """The ¥10.50 glass bottle, 2 ordered, 1 broken, with a photo."""
    return with_photo(make_ticket(shop), media_root)


def propose(client, ticket, **body):
    return client.post(f"/api/v1/tickets/{ticket.number}/compensations/", body, format="json")


# --- responsibility -------------------------------------------------------------------------


def test_suggestion_names_rule_and_party(agent_client, shop):
    ticket = make_ticket(shop, dispute_type="wrong_item")
    body = agent_client.get(f"/api/v1/tickets/{ticket.number}/judgment/suggestion/").json()
    assert body["party"] == "merchant"
    assert [r["id"] for r in body["rules"]] == ["R1"]
    assert body["rules"][0]["text"]


def test_late_shipment_shows_penalty_exposure(agent_client, shop):
    order = {
        "order_no": "T1",
        "amount": "21.00",
        "paid_at": "2026-11-01T10:00:00+08:00",
        "shipped_at": "2026-11-05T10:00:00+08:00",
        "items": [{"sku": "GLASS-500", "unit_price": "10.50", "quantity": 2}],
    }
    ticket = make_ticket(shop, dispute_type="late_shipment", order=order)
    body = agent_client.get(f"/api/v1/tickets/{ticket.number}/judgment/suggestion/").json()
    assert body["penalty_exposure"] == "1.05"
    assert "R3" in [r["id"] for r in body["rules"]]


def test_judgments_are_versioned_and_latest_counts(agent_client, shop):
    ticket = make_ticket(shop, dispute_type="wrong_item")
    url = f"/api/v1/tickets/{ticket.number}/judgment/"

    first = agent_client.post(
        url, {"party": "merchant", "reason": "warehouse packed M for L"}, format="json"
    )
    assert first.status_code == 201 and first.json()["version"] == 1
    refused = agent_client.post(url, {"party": "courier"}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "override_needs_note"
    second = agent_client.post(
        url, {"party": "courier", "note": "courier swapped parcels, see photo"}, format="json"
    )
    assert second.status_code == 201
    assert second.json()["version"] == 2 and second.json()["overrides_suggestion"] is True

    assert list(
        Judgment.objects.filter(ticket=ticket).order_by("version").values_list("party", flat=True)
    ) == ["merchant", "courier"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="judgment").count() == 2


@pytest.mark.parametrize("body", [{"party": "aliens"}, {}, {"party": "merchant", "blame": "x"}])
def test_bad_judgment_is_400_and_stores_nothing(agent_client, shop, body):
    ticket = make_ticket(shop, dispute_type="wrong_item")
    response = agent_client.post(f"/api/v1/tickets/{ticket.number}/judgment/", body, format="json")
    assert response.status_code == 400
    assert Judgment.objects.count() == 0


def test_shop_key_and_other_shop_cannot_judge(shop_client, other_agent_client, shop):
    ticket = make_ticket(shop, dispute_type="wrong_item")
    assert (
        shop_client.get(f"/api/v1/tickets/{ticket.number}/judgment/suggestion/").status_code == 403
    )
    assert (
        other_agent_client.get(f"/api/v1/tickets/{ticket.number}/judgment/suggestion/").status_code
        == 404
    )


# --- the standard -----------------------------------------------------------------------------


def _options(client, ticket, query=""):
    response = client.get(f"/api/v1/tickets/{ticket.number}/compensation-options/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_options_walk_the_standard_for_the_glass_bottle(agent_client, bottle):
    usable = _options(agent_client, bottle)
    assert [(o["type"], o["amount"]) for o in usable["pair"]] == [
        ("coupon", "2.00"),
        ("cash", "2.00"),
    ]

    quote_12 = _options(
        agent_client, bottle, "?customer_refused=goodwill&return_shipping_quote=12.00"
    )["options"]
    assert ("return_shipping_subsidy", "12.00") in [(o["type"], o["amount"]) for o in quote_12]

    quote_15 = _options(
        agent_client, bottle, "?customer_refused=goodwill&return_shipping_quote=15.00"
    )["options"]
    assert [(o["type"], o["amount"]) for o in quote_15][:2] == [
        ("coupon", "5.25"),
        ("cash", "5.25"),
    ]

    unusable = _options(agent_client, bottle, "?usable=false")["options"]
    assert (unusable[0]["type"], unusable[0]["amount"], unusable[0]["requires_return"]) == (
        "refund",
        "10.50",
        False,
    )


@pytest.mark.parametrize(
    "query",
    [
        "?return_shipping_quote=abc",
        "?return_shipping_quote=-1",
        "?usable=maybe",
        "?ladder_step=9",
        "?x=1",
    ],
)
def test_bad_options_query_is_400(agent_client, bottle, query):
    response = agent_client.get(f"/api/v1/tickets/{bottle.number}/compensation-options/{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# --- proposals and authority --------------------------------------------------------------------


def test_goodwill_within_authority_is_approved_at_once(agent_client, bottle):
    response = propose(agent_client, bottle, type="cash", amount="2.00", note="apology")
    assert response.status_code == 201
    body = response.json()
    assert (
        body["status"] == "approved"
        and body["within_standard"] is True
        and body["policy_version"] == 1
    )


def test_damage_compensation_needs_a_photo(agent_client, shop):
    ticket = make_ticket(shop)  # damaged_on_arrival, no photo
    response = propose(agent_client, ticket, type="cash", amount="2.00")
    assert response.status_code == 400 and response.json()["error"]["code"] == "evidence_required"
    assert Compensation.objects.count() == 0


def test_review_conditioned_money_is_refused(agent_client, bottle):
    response = propose(agent_client, bottle, type="cash", amount="3.00", condition="good_review")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "review_conditioned_not_allowed"
    assert Compensation.objects.count() == 0


@pytest.mark.parametrize(
    "body, code",
    [
        ({"type": "cash", "amount": "-1.00"}, "validation_error"),
        ({"type": "cash", "amount": "abc"}, "validation_error"),
        ({"type": "cash", "amount": "1.005"}, "validation_error"),
        ({"type": "teleport", "amount": "1.00"}, "validation_error"),
        (
            {"type": "refund", "amount": "10.51"},
            "amount_exceeds_refundable",
        ),  # 1 affected bottle = 10.50
    ],
)
def test_bad_proposals_are_400_and_store_nothing(agent_client, bottle, body, code):
    response = propose(agent_client, bottle, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Compensation.objects.count() == 0


def test_refunds_cannot_add_up_past_the_refundable_total(agent_client, bottle):
    assert propose(agent_client, bottle, type="refund", amount="10.00").status_code == 201
    response = propose(agent_client, bottle, type="refund", amount="0.51")
    assert (
        response.status_code == 400
        and response.json()["error"]["code"] == "amount_exceeds_refundable"
    )


def test_authority_is_cumulative_across_proposals(agent_client, shop, media_root):
    order = {
        "order_no": "T9",
        "amount": "80.00",
        "items": [{"sku": "SERUM", "unit_price": "40.00", "quantity": 2}],
    }
    ticket = with_photo(
        make_ticket(shop, order=order, affected_items=[{"sku": "SERUM", "quantity": 2}]), media_root
    )

    first = propose(agent_client, ticket, type="refund", amount="40.00")
    assert first.json()["status"] == "approved"  # 40.00 ≤ 50.00
    second = propose(agent_client, ticket, type="refund", amount="20.00")
    assert second.json()["status"] == "pending_approval"  # 40 + 20 > 50
    third = propose(agent_client, ticket, type="cash", amount="2.00")
    assert third.json()["status"] == "pending_approval"  # still over, counting the pending 20


def test_supervisor_proposal_is_approved_at_once(supervisor_client, shop, media_root):
    order = {
        "order_no": "T9",
        "amount": "80.00",
        "items": [{"sku": "SERUM", "unit_price": "40.00", "quantity": 2}],
    }
    ticket = with_photo(
        make_ticket(shop, order=order, affected_items=[{"sku": "SERUM", "quantity": 2}]), media_root
    )
    assert (
        propose(supervisor_client, ticket, type="refund", amount="80.00").json()["status"]
        == "approved"
    )


def test_food_safety_always_waits_for_a_supervisor(agent_client, shop, media_root):
    order = {
        "order_no": "F1",
        "amount": "29.90",
        "items": [{"sku": "HAM", "unit_price": "29.90", "quantity": 1, "perishable": True}],
    }
    ticket = with_photo(
        make_ticket(
            shop,
            dispute_type="spoiled_food",
            order=order,
            affected_items=[{"sku": "HAM", "quantity": 1}],
        ),
        media_root,
    )
    assert ticket.priority == "urgent"
    assert (
        propose(agent_client, ticket, type="refund", amount="29.90").json()["status"]
        == "pending_approval"
    )


def test_a_food_safety_ticket_goes_to_the_supervisors_at_once_with_the_exposure(
    shop_client, shop, supervisor, agent, other_shop
):
    from notifications.models import Notification
    from tests.factories import staff_member, ticket_payload

    elsewhere = staff_member(other_shop, "supervisor", username="other-supervisor")
    payload = ticket_payload(dispute_type="spoiled_food")
    payload["order"]["items"] = [
        {"sku": "HAM", "unit_price": "29.90", "quantity": 2, "perishable": True}
    ]
    payload["affected_items"] = [{"sku": "HAM", "quantity": 2}]
    number = shop_client.post("/api/v1/tickets/", payload, format="json").json()["number"]
    [note] = Notification.objects.filter(kind="food_safety")
    # Art. 148: 10 × ¥59.80 = ¥598, below the ¥1,000 minimum.
    assert (
        note.recipient == supervisor
        and note.ticket.number == number
        and "¥1000.00" in note.title_text
    )
    assert note.url == f"/tickets/{number}/"
    assert not Notification.objects.filter(recipient__in=[agent, elsewhere]).exists()
    payload = ticket_payload(dispute_type="damaged_on_arrival")
    payload["order"]["order_no"] = "T-other"
    shop_client.post("/api/v1/tickets/", payload, format="json")
    assert Notification.objects.filter(kind="food_safety").count() == 1


# --- decisions --------------------------------------------------------------------------------


@pytest.fixture
def pending(agent_client, shop, media_root):
    order = {
        "order_no": "T9",
        "amount": "200.00",
        "items": [{"sku": "SERUM", "unit_price": "100.00", "quantity": 2}],
    }
    ticket = with_photo(
        make_ticket(shop, order=order, affected_items=[{"sku": "SERUM", "quantity": 2}]), media_root
    )
    body = propose(agent_client, ticket, type="refund", amount="100.00").json()
    assert body["status"] == "pending_approval"
    return Compensation.objects.get(pk=body["id"])


def test_inbox_lists_pending(supervisor_client, pending, other_agent_client):
    listed = supervisor_client.get("/api/v1/compensations/?status=pending_approval").json()[
        "results"
    ]
    assert [c["id"] for c in listed] == [pending.pk]
    assert (
        other_agent_client.get("/api/v1/compensations/?status=pending_approval").json()["results"]
        == []
    )
    assert supervisor_client.get("/api/v1/compensations/?status=nope").status_code == 400


def test_agent_cannot_approve(agent_client, pending):
    response = agent_client.post(f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending_approval"


def test_supervisor_approves_once(supervisor_client, pending):
    first = supervisor_client.post(
        f"/api/v1/compensations/{pending.pk}/approve/", {"note": "ok"}, format="json"
    )
    assert first.status_code == 200 and first.json()["status"] == "approved"
    assert first.json()["decided_by"] == "supervisor"
    again = supervisor_client.post(
        f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_state"
    assert (
        TicketEvent.objects.filter(ticket=pending.ticket, kind="compensation_approved").count() == 1
    )


def test_reject_needs_a_note(supervisor_client, pending):
    response = supervisor_client.post(
        f"/api/v1/compensations/{pending.pk}/reject/", {}, format="json"
    )
    assert response.status_code == 400
    ok = supervisor_client.post(
        f"/api/v1/compensations/{pending.pk}/reject/", {"note": "over the standard"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["status"] == "rejected"


def test_two_deciders_at_once_exactly_one_wins(live_server, transactional_db, shop, media_root):
    import requests
    from rest_framework.authtoken.models import Token

    agent = staff_member(shop, "agent", username="agent")
    deciders = [staff_member(shop, "supervisor", username=f"sup{i}") for i in range(2)]
    order = {
        "order_no": "T9",
        "amount": "200.00",
        "items": [{"sku": "SERUM", "unit_price": "100.00", "quantity": 2}],
    }
    ticket = with_photo(
        make_ticket(shop, order=order, affected_items=[{"sku": "SERUM", "quantity": 2}]), media_root
    )
    from disputes.services import compensation_propose

    compensation = compensation_propose(
        ticket=ticket,
        type="refund",
        amount=Decimal("100.00"),
        actor=ticket_services.Actor.staff(agent),
    )
    assert compensation.status == "pending_approval"
    tokens = [Token.objects.create(user=user).key for user in deciders]
    barrier = threading.Barrier(2)
    results = {}

    def decide(index, action, body):
        barrier.wait()
        results[action] = requests.post(
            f"{live_server.url}/api/v1/compensations/{compensation.pk}/{action}/",
            json=body,
            headers={"Authorization": f"Token {tokens[index]}"},
            timeout=30,
        ).status_code

    threads = [
        threading.Thread(target=decide, args=(0, "approve", {})),
        threading.Thread(target=decide, args=(1, "reject", {"note": "no"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()

    assert sorted(results.values()) == [200, 409]
    compensation.refresh_from_db()
    winner = "approve" if results["approve"] == 200 else "reject"
    assert compensation.status == {"approve": "approved", "reject": "rejected"}[winner]
    assert (
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=["compensation_approved", "compensation_rejected"]
        ).count()
        == 1
    )


# --- execution by the shop backend ------------------------------------------------------------


def test_shop_reports_execution_once(supervisor_client, shop_client, pending):
    supervisor_client.post(f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json")
    url = f"/api/v1/compensations/{pending.pk}/executed/"
    body = {"external_ref": "RF-1", "executed_at": "2026-11-23T10:00:00+08:00"}

    first = shop_client.post(url, body, format="json")
    assert first.status_code == 200 and first.json()["status"] == "executed"
    replay = shop_client.post(url, body, format="json")  # the shop retried its callback
    assert replay.status_code == 200
    assert (
        TicketEvent.objects.filter(ticket=pending.ticket, kind="compensation_executed").count() == 1
    )
    other = shop_client.post(url, {"external_ref": "RF-2"}, format="json")
    assert other.status_code == 409
    approve_executed = supervisor_client.post(
        f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json"
    )
    assert approve_executed.status_code == 409


def test_shop_cannot_execute_pending_or_other_shops(
    shop_client, other_shop_client, pending, agent_client
):
    assert (
        shop_client.post(
            f"/api/v1/compensations/{pending.pk}/executed/", {}, format="json"
        ).status_code
        == 409
    )
    assert (
        other_shop_client.post(
            f"/api/v1/compensations/{pending.pk}/executed/", {}, format="json"
        ).status_code
        == 404
    )
    assert (
        agent_client.post(
            f"/api/v1/compensations/{pending.pk}/executed/", {}, format="json"
        ).status_code
        == 403
    )


def test_failure_is_recorded(supervisor_client, shop_client, pending):
    supervisor_client.post(f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json")
    assert (
        shop_client.post(
            f"/api/v1/compensations/{pending.pk}/failed/", {}, format="json"
        ).status_code
        == 400
    )
    response = shop_client.post(
        f"/api/v1/compensations/{pending.pk}/failed/",
        {"reason": "payment gateway down"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert (
        TicketEvent.objects.get(ticket=pending.ticket, kind="compensation_failed").data["reason"]
        == "payment gateway down"
    )


def test_approval_sends_signed_instruction_to_the_shop(
    settings, supervisor_client, pending, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    endpoint_create(
        shop=pending.ticket.shop,
        url="https://shop.example.com/hooks",
        events=["compensation.approved"],
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = supervisor_client.post(
            f"/api/v1/compensations/{pending.pk}/approve/", {}, format="json"
        )
    assert response.json()["status"] == "executing"
    delivery = WebhookDelivery.objects.select_related("event").get()
    assert delivery.event.type == "compensation.approved"
    assert (
        delivery.event.data["amount"] == "100.00"
        and delivery.event.data["ticket"] == pending.ticket.number
    )


# --- policy ---------------------------------------------------------------------------------------


def test_policy_read_and_versioned_update(admin_client, agent_client, bottle):
    url = "/api/v1/shops/demo/policy/"
    assert agent_client.get(url).status_code == 403
    current = admin_client.get(url).json()
    assert (
        current["goodwill_total_cap"] == "5.00"
        and current["agent_authority"] == "50.00"
        and current["version"] == 1
    )

    propose(agent_client, bottle, type="cash", amount="2.00")
    changed = admin_client.patch(url, {"agent_authority": "80.00"}, format="json")
    assert (
        changed.status_code == 200
        and changed.json()["version"] == 2
        and changed.json()["agent_authority"] == "80.00"
    )
    assert Compensation.objects.get().policy.version == 1  # history is not rewritten


@pytest.mark.parametrize(
    "body",
    [
        {"goodwill_total_cap": "-1"},
        {"goodwill_price_ratio_cap": "1.5"},
        {"agent_authority": "lots"},
        {"batch_alert_threshold": 0},
        {"colour": "red"},
    ],
)
def test_invalid_policy_is_400_and_keeps_the_version(admin_client, shop, body):
    response = admin_client.patch("/api/v1/shops/demo/policy/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert ShopPolicy.objects.filter(shop=shop).count() <= 1


def test_other_shops_policy_is_404(admin_client, other_shop):
    assert admin_client.get(f"/api/v1/shops/{other_shop.code}/policy/").status_code == 404


# --- the ticket shows its latest judgment and its compensations ---------------------------------


def test_ticket_shows_latest_judgment_and_compensations(agent_client, shop_client, bottle):
    agent_client.post(
        f"/api/v1/tickets/{bottle.number}/judgment/",
        {"party": "merchant", "note": "packing"},
        format="json",
    )
    agent_client.post(
        f"/api/v1/tickets/{bottle.number}/judgment/",
        {"party": "courier", "note": "box crushed"},
        format="json",
    )
    propose(agent_client, bottle, type="cash", amount="2.00")

    body = shop_client.get(f"/api/v1/tickets/{bottle.number}/").json()
    assert body["responsibility"]["party"] == "courier" and body["responsibility"]["version"] == 2
    assert body["responsibility"]["judged_by"] == "agent"
    assert body["compensations"] == [
        {
            "id": Compensation.objects.get().pk,
            "type": "cash",
            "amount": "2.00",
            "status": "approved",
        }
    ]


def test_list_queries_do_not_grow_with_judgments(
    shop_client, agent_client, shop, django_assert_max_num_queries
):
    for index in range(6):
        ticket = make_ticket(shop, dispute_type="wrong_item", external_ref=f"R{index}")
        agent_client.post(
            f"/api/v1/tickets/{ticket.number}/judgment/", {"party": "merchant"}, format="json"
        )
    with django_assert_max_num_queries(10):
        assert len(shop_client.get("/api/v1/tickets/").json()["results"]) == 6


# --- the 2-选-1 pair ------------------------------------------------------------------------------


def test_the_customers_choice_from_the_pair_is_recorded(agent_client, bottle):
    pair = agent_client.get(f"/api/v1/tickets/{bottle.number}/compensation-options/").json()["pair"]
    offered = [{"type": o["type"], "amount": o["amount"]} for o in pair]
    assert offered == [{"type": "coupon", "amount": "2.00"}, {"type": "cash", "amount": "2.00"}]

    response = propose(agent_client, bottle, type="cash", amount="2.00", offered=offered)
    assert response.status_code == 201
    assert response.json()["offered"] == offered
    assert Compensation.objects.get().offered == offered


@pytest.mark.parametrize(
    "offered",
    [
        [
            {"type": "coupon", "amount": "2.00"},
            {"type": "cash", "amount": "3.00"},
        ],  # the choice is not offered
        [
            {"type": "coupon", "amount": "2.00"},
            {"type": "cash", "amount": "2.00"},
            {"type": "cash", "amount": "1.00"},
        ],
        [{"type": "bribe", "amount": "2.00"}],
        [{"type": "cash", "amount": "-2.00"}],
        [{"type": "cash"}],
        "cash",
    ],
)
def test_a_bad_offered_pair_is_400_and_stores_nothing(agent_client, bottle, offered):
    response = propose(agent_client, bottle, type="cash", amount="2.00", offered=offered)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Compensation.objects.exists()
