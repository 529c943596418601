"""The ticket endpoints of API.md on their happy paths (and their per-endpoint refusals)."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shops.models import Membership
from tests.factories import (
    EXE_BYTES,
    JPEG_BYTES,
    MP4_BYTES,
    PDF_BYTES,
    make_ticket_for,
    png_bytes,
    ticket_payload,
    zip_bytes,
)
from tickets.models import (
    Attachment,
    Customer,
    LogisticsEvent,
    Message,
    Order,
    OrderItem,
    Ticket,
    TicketEvent,
)
from tickets.states import Status

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def _create(client, payload=None, **headers):
    return client.post(
        "/api/v1/tickets/", payload or ticket_payload(), format="json", headers=headers
    )


# --- create -----------------------------------------------------------------


def test_create_returns_the_ticket_of_the_contract(shop_client, shop):
    response = _create(shop_client, ticket_payload(external_ref="RMA-77812"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert re.match(r"^AS\d{6}[2-9A-Z]{6}$", body["number"])
    assert body["status"] == "new"
    assert body["priority"] == "normal"  # damaged_on_arrival's default
    assert body["dispute_type"] == "damaged_on_arrival"
    assert body["shop"] == "demo"
    assert body["external_ref"] == "RMA-77812"
    assert body["description"] == "瓶子碎了" and body["requested_resolution"] == "refund"
    assert ISO_WITH_OFFSET.match(body["created_at"]) and ISO_WITH_OFFSET.match(body["updated_at"])
    sla = body["sla"]
    assert ISO_WITH_OFFSET.match(sla["first_response_due_at"]) and ISO_WITH_OFFSET.match(
        sla["resolution_due_at"]
    )
    assert sla["breached"] is False and sla["first_responded_at"] is None
    assert dt.datetime.fromisoformat(sla["first_response_due_at"]) < dt.datetime.fromisoformat(
        sla["resolution_due_at"]
    )
    assert body["responsibility"] is None
    assert body["compensations"] == []
    assert body["customer"] == {"external_id": "c-1001", "name": "张三", "phone": "138****0000"}
    order = body["order"]
    assert order["order_no"] == "T20261122001" and order["amount"] == "21.00"
    assert dt.datetime.fromisoformat(order["paid_at"]) == dt.datetime.fromisoformat(
        "2026-11-20T10:00:00+08:00"
    )
    assert order["courier"] == "SF" and order["tracking_no"] == "SF123"
    assert order["items"] == [
        {
            "sku": "GLASS-500",
            "name": "玻璃瓶 500ml",
            "batch_no": "B2311",
            "unit_price": "10.50",
            "quantity": 2,
            "perishable": False,
            "shelf_life_days": None,
        }
    ]
    assert body["affected_items"] == [{"sku": "GLASS-500", "quantity": 1}]

    ticket = Ticket.objects.get(number=body["number"])
    assert (
        ticket.shop == shop and ticket.customer.phone == "13800000000"
    )  # stored whole, shown masked
    assert ticket.next_due_at == ticket.first_response_due_at
    events = list(TicketEvent.objects.filter(ticket=ticket))
    assert len(events) == 1
    assert (
        events[0].kind == "created"
        and events[0].actor_label == "shop:demo"
        and events[0].actor is None
    )
    assert events[0].data == {
        "dispute_type": "damaged_on_arrival",
        "priority": "normal",
        "channel": "api",
    }


def test_priority_comes_from_the_dispute_type(shop_client):
    body = _create(shop_client, ticket_payload(dispute_type="spoiled_food")).json()
    assert body["priority"] == "urgent"


def test_customer_is_upserted_per_shop(shop_client, other_shop_client):
    first = _create(shop_client).json()
    payload = ticket_payload()
    payload["customer"] = {"external_id": "c-1001", "name": "张三丰"}
    payload["order"]["order_no"] = "T2"
    second = _create(shop_client, payload).json()
    _create(other_shop_client)

    assert first["number"] != second["number"]
    assert Customer.objects.filter(shop__code="demo").count() == 1
    customer = Customer.objects.get(shop__code="demo")
    assert (
        customer.name == "张三丰" and customer.phone == "13800000000"
    )  # blank phone does not erase it
    assert Customer.objects.filter(external_id="c-1001").count() == 2  # one per shop
    assert Ticket.objects.filter(customer=customer).count() == 2


def test_minimal_body_is_enough(shop_client):
    response = _create(
        shop_client,
        {
            "dispute_type": "lost_parcel",
            "customer": {"external_id": "c"},
            "order": {"order_no": "O"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["order"]["items"] == [] and body["order"]["amount"] is None
    assert body["customer"]["phone"] == "" and body["priority"] == "high"


def test_json_number_money_is_kept_exact(shop_client):
    payload = ticket_payload()
    payload["order"]["amount"] = 21.5
    payload["order"]["items"][0]["unit_price"] = 10.75
    response = _create(shop_client, payload)
    assert response.status_code == 201, response.json()
    assert response.json()["order"]["amount"] == "21.50"
    assert response.json()["order"]["items"][0]["unit_price"] == "10.75"
    assert str(Order.objects.get().amount) == "21.50"
    assert str(OrderItem.objects.get().unit_price) == "10.75"


def test_external_ref_is_unique_per_shop(shop_client, other_shop_client):
    assert _create(shop_client, ticket_payload(external_ref="RMA-1")).status_code == 201
    counts = (Ticket.objects.count(), Order.objects.count(), Customer.objects.count())

    again = _create(shop_client, ticket_payload(external_ref="RMA-1"))

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_external_ref"
    assert (Ticket.objects.count(), Order.objects.count(), Customer.objects.count()) == counts
    assert _create(other_shop_client, ticket_payload(external_ref="RMA-1")).status_code == 201
    assert _create(shop_client, ticket_payload(external_ref=None)).status_code == 201
    assert (
        _create(shop_client, ticket_payload(external_ref=None)).status_code == 201
    )  # null is not a duplicate


def test_staff_cannot_create(agent_client):
    response = _create(agent_client)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "shop_key_required"
    assert Ticket.objects.count() == 0 and Customer.objects.count() == 0


# --- get and list -----------------------------------------------------------


def test_get_detail(shop_client, agent_client, ticket):
    for client in (shop_client, agent_client):
        response = client.get(f"/api/v1/tickets/{ticket.number}/")
        assert response.status_code == 200
        assert response.json()["number"] == ticket.number
        assert response.json()["customer"]["phone"] == "138****0000"


def test_get_unknown_number_is_404(shop_client, db):
    response = shop_client.get("/api/v1/tickets/AS000000XXXXXX/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert set(response.json()["error"]) == {"code", "message"}


def test_list_walks_every_page_once(shop_client, shop):
    numbers = {make_ticket_for(shop, order_no=f"O-{i}").number for i in range(7)}

    seen, url, pages = [], "/api/v1/tickets/?page_size=2", 0
    while url:
        response = shop_client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert set(body) >= {"next", "results"}
        assert len(body["results"]) <= 2
        seen += [t["number"] for t in body["results"]]
        url, pages = body["next"], pages + 1
        assert pages < 10

    assert pages == 4
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == numbers
    # newest first
    created = [Ticket.objects.get(number=n).created_at for n in seen]
    assert created == sorted(created, reverse=True)


def test_list_filters(shop_client, shop):
    a = make_ticket_for(shop, order_no="O-A")
    b = make_ticket_for(shop, order_no="O-B", dispute_type="lost_parcel", status=Status.OPEN)
    c = make_ticket_for(shop, order_no="O-C", dispute_type="minor_defect", status=Status.RESOLVED)
    now = timezone.now()
    Ticket.objects.filter(pk=a.pk).update(updated_at=now - dt.timedelta(days=3))
    Ticket.objects.filter(pk=b.pk).update(updated_at=now - dt.timedelta(days=1))
    Ticket.objects.filter(pk=c.pk).update(updated_at=now)

    def numbers(**params):
        response = shop_client.get("/api/v1/tickets/", params)
        assert response.status_code == 200, response.json()
        return {t["number"] for t in response.json()["results"]}

    assert numbers() == {a.number, b.number, c.number}
    assert numbers(status="open") == {b.number}
    assert numbers(status="new") == {a.number}
    assert numbers(dispute_type="lost_parcel") == {b.number}
    assert numbers(dispute_type="nonexistent") == set()
    assert numbers(priority="high") == {b.number}
    assert numbers(priority="low") == {c.number}
    after = (now - dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    assert numbers(updated_after=after) == {b.number, c.number}
    assert numbers(updated_after=(now - dt.timedelta(hours=1)).isoformat()) == {c.number}
    assert numbers(order_no="O-A") == {a.number}
    assert numbers(status="open", priority="low") == set()


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=bogus", "status"),
        ("priority=extreme", "priority"),
        ("updated_after=notadate", "updated_after"),
        ("updated_after=2026-13-45T00:00:00", "updated_after"),
    ],
)
def test_list_bad_filter_is_400(shop_client, ticket, query, field):
    response = shop_client.get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "cursor", ["garbage", "cD1ub3RhZGF0ZQ==", "bz0tMQ==", "%00%ff", "cj1ub3Q="]
)
def test_list_bad_cursor_is_400(shop_client, ticket, cursor):
    response = shop_client.get(f"/api/v1/tickets/?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "cursor" in response.json()["error"]["fields"]


# --- messages -----------------------------------------------------------------


def _message(client, ticket, **body):
    return client.post(f"/api/v1/tickets/{ticket.number}/messages/", body, format="json")


def test_shop_key_message_is_from_the_customer(shop_client, ticket):
    response = _message(shop_client, ticket, body="还没处理吗?")
    assert response.status_code == 201, response.json()
    assert response.json()["author_kind"] == "customer" and response.json()["author"] is None
    message = Message.objects.get()
    assert message.author_kind == "customer" and message.internal is False
    ticket.refresh_from_db()
    assert (
        ticket.status == Status.NEW and ticket.first_responded_at is None
    )  # a customer message is no reply


def test_first_public_staff_reply_opens_and_stops_first_response_clock(agent_client, agent, ticket):
    response = _message(agent_client, ticket, body="您好,我们马上处理")
    assert response.status_code == 201
    assert response.json()["author_kind"] == "staff" and response.json()["author"] == "agent"

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_responded_at == Message.objects.get().created_at
    assert ticket.next_due_at == ticket.resolution_due_at
    detail = agent_client.get(f"/api/v1/tickets/{ticket.number}/").json()
    assert detail["sla"]["first_responded_at"] is not None and detail["status"] == "open"
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "actor_label"))
    assert kinds == [("created", "shop:demo"), ("message", "agent"), ("status_changed", "agent")]

    first = ticket.first_responded_at
    assert _message(agent_client, ticket, body="second").status_code == 201
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first


def test_internal_note_is_staff_only_and_is_not_a_reply(agent_client, shop_client, ticket):
    response = _message(agent_client, ticket, body="仓库查一下", internal=True)
    assert response.status_code == 201 and response.json()["internal"] is True
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.first_responded_at is None

    refused = _message(shop_client, ticket, body="x", internal=True)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "internal_not_allowed"
    assert Message.objects.count() == 1


def test_customer_reply_reopens_pending_customer(shop_client, shop):
    ticket = make_ticket_for(shop, status=Status.PENDING_CUSTOMER)
    assert _message(shop_client, ticket, body="照片补上了").status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    event = TicketEvent.objects.filter(ticket=ticket, kind="status_changed").get()
    assert event.actor_label == "system" and event.data["from"] == "pending_customer"


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   "},
        {},
        {"body": "x", "extra": 1},
        {"body": "x", "internal": "maybe"},
    ],
)
def test_bad_message_is_400(agent_client, ticket, body):
    response = agent_client.post(f"/api/v1/tickets/{ticket.number}/messages/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert Message.objects.count() == 0


def test_message_on_closed_ticket_is_409(shop_client, agent_client, shop):
    ticket = make_ticket_for(shop, status=Status.CLOSED)
    for client in (shop_client, agent_client):
        response = _message(client, ticket, body="hello?")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "ticket_closed"
    assert Message.objects.count() == 0
    # the team may still keep notes on a closed ticket
    assert _message(agent_client, ticket, body="note", internal=True).status_code == 201


def test_list_messages(shop_client, agent_client, ticket):
    _message(shop_client, ticket, body="one")
    _message(agent_client, ticket, body="two")
    results = shop_client.get(f"/api/v1/tickets/{ticket.number}/messages/").json()["results"]
    assert [(m["body"], m["author_kind"]) for m in results] == [
        ("one", "customer"),
        ("two", "staff"),
    ]


# --- attachments ----------------------------------------------------------------


def _attach(client, ticket, name, content, kind="photo", content_type="application/octet-stream"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(
        f"/api/v1/tickets/{ticket.number}/attachments/",
        {"file": upload, "kind": kind},
        format="multipart",
    )


@pytest.mark.parametrize(
    "name, content, kind, mime",
    [
        ("broken.png", png_bytes(), "photo", "image/png"),
        ("broken.jpg", JPEG_BYTES, "photo", "image/jpeg"),
        ("invoice.pdf", PDF_BYTES, "document", "application/pdf"),
        ("unboxing.mp4", MP4_BYTES, "video", "video/mp4"),
        (
            "chat.bin",
            png_bytes(),
            "chat_log",
            "image/png",
        ),  # the name does not matter, the bytes do
    ],
)
def test_attachment_accepted_by_content(shop_client, ticket, media_root, name, content, kind, mime):
    response = _attach(shop_client, ticket, name, content, kind=kind)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == mime and body["kind"] == kind
    assert body["original_name"] == name and body["size"] == len(content)
    attachment = Attachment.objects.get()
    assert attachment.uploaded_by_label == "shop:demo"
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    assert attachment.file.path.startswith(media_root)
    event = TicketEvent.objects.get(ticket=ticket, kind="attachment")
    assert event.data["content_type"] == mime and event.data["attachment_id"] == attachment.pk


@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.png", b"this is plain text, not a picture"),
        ("setup.exe", EXE_BYTES),
        ("photo.jpg", EXE_BYTES),
        ("photos.zip", zip_bytes()),
    ],
)
def test_attachment_of_other_type_is_415(shop_client, ticket, media_root, name, content):
    response = _attach(shop_client, ticket, name, content, content_type="image/png")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert Attachment.objects.count() == 0
    assert not TicketEvent.objects.filter(kind="attachment").exists()


def test_attachment_over_the_limit_is_413(shop_client, ticket, media_root, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    content = png_bytes()
    big = content + b"\x00" * (1001 - len(content))
    response = _attach(shop_client, ticket, "big.png", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert Attachment.objects.count() == 0
    exactly = content + b"\x00" * (1000 - len(content))
    assert _attach(shop_client, ticket, "ok.png", exactly).status_code == 201


def test_attachment_default_limit_is_10_mb(shop_client, ticket, media_root, settings):
    assert settings.ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024
    content = png_bytes()
    response = _attach(
        shop_client, ticket, "huge.png", content + b"\x00" * (10 * 1024 * 1024 + 1 - len(content))
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert Attachment.objects.count() == 0


def test_attachment_bad_input_is_400(shop_client, ticket, media_root):
    url = f"/api/v1/tickets/{ticket.number}/attachments/"
    missing = shop_client.post(url, {"kind": "photo"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]
    bad_kind = _attach(shop_client, ticket, "a.png", png_bytes(), kind="selfie")
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["error"]["fields"]
    empty = _attach(shop_client, ticket, "a.png", b"")
    assert empty.status_code == 400 and "file" in empty.json()["error"]["fields"]
    as_json = shop_client.post(url, {"kind": "photo"}, format="json")
    assert as_json.status_code == 415
    assert Attachment.objects.count() == 0


def test_staff_can_attach_and_list(agent_client, ticket, media_root):
    assert _attach(agent_client, ticket, "a.pdf", PDF_BYTES, kind="document").status_code == 201
    results = agent_client.get(f"/api/v1/tickets/{ticket.number}/attachments/").json()["results"]
    assert [(a["kind"], a["content_type"]) for a in results] == [("document", "application/pdf")]
    assert Attachment.objects.get().uploaded_by_label == "agent"


# --- logistics ------------------------------------------------------------------


def test_logistics_event_is_recorded_and_on_the_timeline(shop_client, ticket):
    body = {
        "event": "signed",
        "at": "2026-11-22T15:00:00+08:00",
        "signed_by": "门卫",
        "authorized": False,
    }
    response = shop_client.post(f"/api/v1/tickets/{ticket.number}/logistics/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["event"] == "signed" and response.json()["authorized"] is False
    row = LogisticsEvent.objects.get()
    assert (
        row.at == dt.datetime.fromisoformat("2026-11-22T15:00:00+08:00") and row.signed_by == "门卫"
    )

    listed = shop_client.get(f"/api/v1/tickets/{ticket.number}/logistics/").json()["results"]
    assert [e["event"] for e in listed] == ["signed"]
    events = shop_client.get(f"/api/v1/tickets/{ticket.number}/events/").json()["results"]
    assert events[-1]["kind"] == "logistics" and events[-1]["data"]["signed_by"] == "门卫"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": "teleported", "at": "2026-11-22T15:00:00+08:00"}, "event"),
        ({"event": "delivered"}, "at"),
        ({"event": "delivered", "at": "yesterday"}, "at"),
        ({"at": "2026-11-22T15:00:00+08:00"}, "event"),
        ({"event": "delivered", "at": "2026-11-22T15:00:00+08:00", "by": "x"}, "by"),
    ],
)
def test_bad_logistics_is_400(shop_client, ticket, body, field):
    response = shop_client.post(f"/api/v1/tickets/{ticket.number}/logistics/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert LogisticsEvent.objects.count() == 0


# --- timeline -------------------------------------------------------------------


def test_events_timeline_in_order_with_actors(shop_client, agent_client, ticket):
    _message(shop_client, ticket, body="坏了")
    _message(agent_client, ticket, body="抱歉")
    agent_client.post(
        f"/api/v1/tickets/{ticket.number}/transition/", {"action": "wait_customer"}, format="json"
    )
    _message(shop_client, ticket, body="照片")

    response = shop_client.get(f"/api/v1/tickets/{ticket.number}/events/")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("created", "shop:demo"),
        ("message", "shop:demo"),
        ("message", "agent"),
        ("status_changed", "agent"),  # first reply: new -> open
        ("status_changed", "agent"),  # wait_customer
        ("message", "shop:demo"),
        ("status_changed", "system"),  # customer replied: pending_customer -> open
    ]
    assert [e["data"].get("to") for e in events if e["kind"] == "status_changed"] == [
        "open",
        "pending_customer",
        "open",
    ]
    times = [dt.datetime.fromisoformat(e["created_at"]) for e in events]
    assert times == sorted(times)
    assert all(ISO_WITH_OFFSET.match(e["created_at"]) for e in events)


@pytest.mark.parametrize(
    "name, content, kind",
    [("a.pdf", PDF_BYTES, "photo"), ("a.png", None, "video"), ("a.mp4", MP4_BYTES, "document")],
)
def test_an_upload_whose_kind_contradicts_its_content_is_refused(
    shop_client, ticket, media_root, name, content, kind
):
    response = _attach(
        shop_client, ticket, name, content if content is not None else png_bytes(), kind=kind
    )
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]
    assert not ticket.attachments.exists()


def test_evidence_is_served_under_a_safe_name(agent_client, ticket, media_root, client, agent):
    _attach(agent_client, ticket, 'x"; filename=evil.html\r\n.png', png_bytes())
    attachment = ticket.attachments.get()
    client.force_login(agent)
    disposition = client.get(f"/attachments/{attachment.pk}/")["Content-Disposition"]
    assert (
        disposition.endswith('.png"')
        and "evil.html" not in disposition.replace("evil_html", "")
        and "\r" not in disposition
    )


def test_list_shows_shop_type_and_merge_target_read_apart_from_the_page(
    shop, other_shop, token_client, django_assert_max_num_queries
):
    """The list's query joins only each ticket's own rows; the shop, and the ticket a duplicate
    was merged into, are read apart (tickets_attach_shared) and must still be right: a staff user
    of two shops sees each ticket's own shop, a merged duplicate names its target."""
    from tests.factories import make_ticket_for, staff_member
    from tickets import services

    lead = staff_member(shop, "supervisor", username="lead")
    Membership.objects.create(user=lead, shop=other_shop, role="supervisor")
    target = make_ticket_for(shop, order_no="M-1", customer_id="c-m")
    source = make_ticket_for(shop, order_no="M-2", customer_id="c-m", dispute_type="wrong_item")
    services.ticket_merge(
        source=source, target=target, note="重复", actor=services.Actor.staff(lead)
    )
    elsewhere = make_ticket_for(other_shop, order_no="M-3")
    client = token_client(lead)
    client.get("/api/v1/tickets/?page_size=25")  # the shops' policies are written on first read
    # 10 for a shop's key (its shop is the key's); a staff user's shops are one more, the merge
    # targets one more (only when the page has a merged ticket), risk's policies one per shop.
    with django_assert_max_num_queries(14):
        body = client.get("/api/v1/tickets/?page_size=25").json()
    rows = {row["number"]: row for row in body["results"]}
    assert (rows[source.number]["shop"], rows[source.number]["merged_into"]) == (
        shop.code,
        target.number,
    )
    assert rows[source.number]["dispute_type"] == "wrong_item"
    assert (rows[target.number]["merged_into"], rows[elsewhere.number]["shop"]) == (
        None,
        other_shop.code,
    )
