"""Issue 11 on the ticket API and services, on PostgreSQL: reply templates' blanks, bounded free
text, the parcel's return reason (rule R6 end to end), follow-up tickets, messages in the
request's language."""

import pytest
from django.utils import timezone

from aftersales.exceptions import ApplicationError
from sla.models import Timer
from tests.factories import make_ticket, make_ticket_for, ticket_payload
from tickets import services
from tickets.models import LogisticsEvent, Message, Ticket, TicketEvent
from tickets.reply_templates import (
    reply_template_fill,
    reply_template_values,
    unfilled_placeholders,
)
from tickets.states import Status
from webhooks.models import WebhookEvent

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def messages_url(ticket):
    return f"/api/v1/tickets/{ticket.number}/messages/"


def logistics_url(ticket):
    return f"/api/v1/tickets/{ticket.number}/logistics/"


# --- reply templates -------------------------------------------------------------------------


def test_the_seeded_templates_blanks_are_filled_from_the_ticket(shop):
    from tickets.models import ReplyTemplate

    ticket = Ticket.objects.get(pk=make_ticket(shop).pk)  # the ¥10.50 bottle, 1 of 2 broken
    values = reply_template_values(ticket)
    assert values["customer_name"] == "张三" and values["order_no"] == "T20261122001"
    assert values["refundable_total"] == "¥10.50" and values["order_amount"] == "¥21.00"
    assert (
        str(values["option_1"]) == "优惠券 ¥2.00"
        and str(values["option_2"]) == "现金(红包/转账) ¥2.00"
    )
    for template in ReplyTemplate.objects.filter(shop__isnull=True):
        filled = reply_template_fill(template.body, values)
        assert unfilled_placeholders(filled) == [], template.title
    offer = ReplyTemplate.objects.get(body__contains="{option_1}")
    assert "方案一:优惠券 ¥2.00;方案二:现金(红包/转账) ¥2.00" in reply_template_fill(
        offer.body, values
    )


def test_unknown_blanks_are_left_for_the_agent():
    assert (
        reply_template_fill("亲 {customer_name},{退款金额} 与 {x}", {"customer_name": "张三"})
        == "亲 张三,{退款金额} 与 {x}"
    )
    assert unfilled_placeholders("{x} {x} { option_1 } {}") == ["{x}", "{ option_1 }"]


def test_a_staff_reply_with_an_unfilled_blank_is_refused_and_stores_nothing(agent_client, ticket):
    response = agent_client.post(
        messages_url(ticket), {"body": "方案一:{option_1};方案二:¥5"}, format="json", **EN
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "{option_1}" in error["fields"]["body"]
    assert "placeholders" in error["fields"]["body"]
    assert not Message.objects.exists()
    zh = agent_client.post(messages_url(ticket), {"body": "{x}"}, format="json").json()["error"]
    assert "{x}" in zh["fields"]["body"] and "占位" in zh["fields"]["body"]


def test_braces_are_fine_in_an_internal_note_and_in_the_customers_own_message(
    agent_client, shop_client, ticket
):
    assert (
        agent_client.post(
            messages_url(ticket),
            {"body": "模板里的 {option_1} 要改", "internal": True},
            format="json",
        ).status_code
        == 201
    )
    assert (
        shop_client.post(
            messages_url(ticket), {"body": "我的订单号是 {T2026}"}, format="json"
        ).status_code
        == 201
    )


# --- bounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("internal", [False, True])
def test_replies_and_notes_are_bounded_at_5000_characters(agent_client, ticket, internal):
    response = agent_client.post(
        messages_url(ticket), {"body": "好" * 5001, "internal": internal}, format="json", **EN
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "5000" in error["fields"]["body"]
    assert not Message.objects.exists()
    assert (
        agent_client.post(
            messages_url(ticket), {"body": "好" * 5000, "internal": internal}, format="json"
        ).status_code
        == 201
    )


def test_the_service_bounds_what_the_workspace_sends_too(shop, agent):
    ticket = make_ticket(shop)
    staff = services.Actor.staff(agent)
    with pytest.raises(ApplicationError) as info:
        services.message_add(ticket=ticket, body="x" * 5001, actor=staff)
    assert info.value.code == "validation_error" and set(info.value.fields) == {"body"}
    with pytest.raises(ApplicationError) as info:
        services.ticket_transition(ticket=ticket, action="open", actor=staff, note="x" * 2001)
    assert set(info.value.fields) == {"note"}
    with pytest.raises(ApplicationError) as info:
        services.logistics_event_add(
            ticket=ticket, event="signed", at=timezone.now(), actor=staff, signed_by="x" * 101
        )
    assert set(info.value.fields) == {"signed_by"}
    assert (
        Ticket.objects.get(pk=ticket.pk).status == Status.NEW
        and not LogisticsEvent.objects.exists()
    )


def test_transition_note_and_signed_by_are_bounded_in_the_api(agent_client, shop_client, ticket):
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/transition/",
        {"action": "open", "note": "n" * 2001},
        format="json",
    )
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
    response = shop_client.post(
        logistics_url(ticket),
        {"event": "signed", "at": "2026-03-10T10:00:00Z", "signed_by": "s" * 101},
        format="json",
    )
    assert response.status_code == 400 and "signed_by" in response.json()["error"]["fields"]


# --- the parcel's return reason (R6) -------------------------------------------------------------------


def test_a_return_reason_is_recorded_with_returned_and_refused(shop_client, ticket):
    response = shop_client.post(
        logistics_url(ticket),
        {"event": "returned", "at": "2026-03-10T10:00:00Z", "reason": "wrong_address"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["reason"] == "wrong_address"
    response = shop_client.post(
        logistics_url(ticket),
        {"event": "refused", "at": "2026-03-11T10:00:00Z", "reason": "refused_without_reason"},
        format="json",
    )
    assert response.status_code == 201
    assert list(LogisticsEvent.objects.order_by("at").values_list("event", "reason")) == [
        ("returned", "wrong_address"),
        ("refused", "refused_without_reason"),
    ]
    recorded = TicketEvent.objects.filter(ticket=ticket, kind="logistics").order_by("id")
    assert [e.data["reason"] for e in recorded] == ["wrong_address", "refused_without_reason"]
    assert recorded[0].actor_label == "shop:demo"


@pytest.mark.parametrize(
    "body",
    [
        {"event": "signed", "reason": "wrong_address"},  # a reason on another event
        {"event": "delivered", "reason": "other"},
        {"event": "returned", "reason": "aliens"},  # an unknown reason
        {"event": "returned", "reason": "refused"},  # the old internal code is not API.md's
    ],
)
def test_a_bad_reason_is_400_and_stores_nothing(shop_client, ticket, body):
    response = shop_client.post(
        logistics_url(ticket), {"at": "2026-03-10T10:00:00Z", **body}, format="json", **EN
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["fields"]["reason"]
    assert not LogisticsEvent.objects.exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind="logistics").exists()


@pytest.mark.parametrize(
    "event, reason",
    [
        ("returned", "wrong_address"),
        ("returned", "unreachable"),
        ("refused", "refused_without_reason"),
    ],
)
def test_r6_from_the_api_the_customer_bears_the_shipping_deducted_from_the_refund(
    shop_client, agent_client, event, reason
):
    payload = ticket_payload(dispute_type="lost_parcel", affected_items=[])
    created = shop_client.post("/api/v1/tickets/", payload, format="json")
    assert created.status_code == 201
    number = created.json()["number"]
    response = shop_client.post(
        f"/api/v1/tickets/{number}/logistics/",
        {"event": event, "at": "2026-11-23T10:00:00+08:00", "reason": reason},
        format="json",
    )
    assert response.status_code == 201

    suggestion = agent_client.get(f"/api/v1/tickets/{number}/judgment/suggestion/").json()
    assert suggestion["party"] == "customer" and "R6" in [r["id"] for r in suggestion["rules"]]
    options = agent_client.get(
        f"/api/v1/tickets/{number}/compensation-options/?return_shipping_quote=8.00"
    ).json()["options"]
    deducted = next(o for o in options if o["type"] == "refund")
    assert (
        deducted["amount"] == "13.00"
    )  # the order's ¥21.00 (none marked affected: the whole order) minus ¥8.00


def test_other_reason_does_not_blame_the_customer(shop_client, agent_client):
    created = shop_client.post(
        "/api/v1/tickets/",
        ticket_payload(dispute_type="lost_parcel", affected_items=[]),
        format="json",
    ).json()
    shop_client.post(
        f"/api/v1/tickets/{created['number']}/logistics/",
        {"event": "returned", "at": "2026-11-23T10:00:00+08:00", "reason": "other"},
        format="json",
    )
    suggestion = agent_client.get(
        f"/api/v1/tickets/{created['number']}/judgment/suggestion/"
    ).json()
    assert "R6" not in [r["id"] for r in suggestion["rules"]]


# --- follow-up tickets ------------------------------------------------------------------------------


def test_a_reply_to_a_closed_ticket_points_to_a_follow_up_not_a_reopen(agent_client, shop):
    ticket = make_ticket_for(shop, status=Status.CLOSED)
    response = agent_client.post(messages_url(ticket), {"body": "您好"}, format="json", **EN)
    assert response.status_code == 409 and response.json()["error"]["code"] == "ticket_closed"
    message = response.json()["error"]["message"]
    assert "follow-up" in message and "reopen it" not in message
    assert (
        "跟进工单"
        in agent_client.post(messages_url(ticket), {"body": "您好"}, format="json").json()["error"][
            "message"
        ]
    )


def test_a_follow_up_is_created_like_an_api_ticket_and_linked_both_ways(
    shop, agent, django_capture_on_commit_callbacks
):
    from webhooks.services import endpoint_create

    endpoint_create(shop=shop, url="https://shop.example/hook", events=["*"])
    closed = make_ticket_for(shop, order_no="T-9", status=Status.CLOSED)
    follow_up = services.ticket_follow_up_create(ticket=closed, actor=services.Actor.staff(agent))

    follow_up = Ticket.objects.get(pk=follow_up.pk)
    assert follow_up.follow_up_of_id == closed.pk and follow_up.pk != closed.pk
    assert follow_up.status == Status.NEW and follow_up.shop_id == closed.shop_id
    assert (
        follow_up.customer_id == closed.customer_id
        and follow_up.dispute_type_id == closed.dispute_type_id
    )
    assert follow_up.order.order_no == "T-9" and follow_up.order_id != closed.order_id
    assert [(i.sku, i.unit_price, i.quantity) for i in follow_up.order.items.all()] == [
        (i.sku, i.unit_price, i.quantity) for i in closed.order.items.all()
    ]
    assert follow_up.affected_items == closed.affected_items
    assert follow_up.first_response_due_at and follow_up.resolution_due_at and follow_up.next_due_at
    assert (
        Timer.objects.filter(ticket=follow_up, state="pending").count() == 4
    )  # same SLA timers as any new ticket
    assert WebhookEvent.objects.filter(
        type="ticket.created", data__number=follow_up.number
    ).exists()
    assert TicketEvent.objects.get(ticket=follow_up, kind="follow_up").data == {
        "follow_up_of": closed.number
    }
    on_closed = TicketEvent.objects.get(ticket=closed, kind="follow_up")
    assert on_closed.data == {"follow_up": follow_up.number} and on_closed.actor == agent
    assert Ticket.objects.get(pk=closed.pk).status == Status.CLOSED


def test_only_a_closed_ticket_gets_a_follow_up_and_only_one_at_a_time(shop, agent):
    staff = services.Actor.staff(agent)
    open_ticket = make_ticket_for(shop, order_no="T-1", status=Status.OPEN)
    with pytest.raises(ApplicationError) as info:
        services.ticket_follow_up_create(ticket=open_ticket, actor=staff)
    assert info.value.code == "follow_up_not_allowed"
    closed = make_ticket_for(shop, order_no="T-2", status=Status.CLOSED)
    services.ticket_follow_up_create(ticket=closed, actor=staff)
    with pytest.raises(ApplicationError) as info:
        services.ticket_follow_up_create(ticket=closed, actor=staff)
    assert info.value.code == "follow_up_exists"
    assert Ticket.objects.filter(follow_up_of=closed).count() == 1


def test_a_transition_of_a_closed_ticket_says_it_is_final_in_words(agent_client, shop):
    ticket = make_ticket_for(shop, status=Status.CLOSED)
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/transition/", {"action": "reopen"}, format="json", **EN
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "illegal_transition"
    assert "follow-up" in response.json()["error"]["message"]
    ticket = make_ticket_for(shop, order_no="T-3", status=Status.NEW)
    message = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/transition/", {"action": "reopen"}, format="json", **EN
    ).json()["error"]["message"]
    assert "'" not in message and "new" not in message.split("that is")[0]  # words, not codes
    assert "New" in message and "Reopen" in message


# --- messages in the request's language ----------------------------------------------------------------


def test_api_errors_of_tickets_answer_in_the_requests_language(shop_client, shop):
    long_key = {"HTTP_IDEMPOTENCY_KEY": "k" * 300}
    zh = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json", **long_key).json()[
        "error"
    ]
    en = shop_client.post(
        "/api/v1/tickets/", ticket_payload(), format="json", **long_key, **EN
    ).json()["error"]
    assert zh["code"] == en["code"] == "invalid_idempotency_key"
    assert "Idempotency-Key must be" in en["message"] and zh["message"] != en["message"]
    bad = ticket_payload(affected_items=[{"sku": "NOPE", "quantity": 1}])
    zh = shop_client.post("/api/v1/tickets/", bad, format="json").json()["error"]
    en = shop_client.post("/api/v1/tickets/", bad, format="json", **EN).json()["error"]
    assert "is not among the order's items" in en["fields"]["affected_items"]["0"]
    assert (
        "NOPE" in zh["fields"]["affected_items"]["0"]
        and zh["fields"]["affected_items"]["0"] != en["fields"]["affected_items"]["0"]
    )
    unknown = shop_client.post(
        "/api/v1/tickets/", ticket_payload(dispute_type="nope"), format="json"
    ).json()["error"]
    assert unknown["fields"]["dispute_type"] != "Unknown dispute type 'nope'."


def test_a_chinese_template_gets_chinese_words_on_an_english_page(shop):
    from django.utils import translation

    ticket = Ticket.objects.get(pk=make_ticket(shop).pk)
    with translation.override("en"):
        values = reply_template_values(ticket)
        assert reply_template_fill("{option_1}", values) == "Coupon ¥2.00"
        assert reply_template_fill("{option_1}", values, language="zh-hans") == "优惠券 ¥2.00"
