"""tickets.services on the real database: each write is one transaction with its timeline event."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aftersales.exceptions import ApplicationError, IllegalTransition
from tests.factories import (
    PDF_BYTES,
    make_ticket,
    make_ticket_for,
    png_bytes,
    staff_member,
    ticket_payload,
)
from tickets import services
from tickets.models import (
    Attachment,
    Customer,
    DisputeType,
    LogisticsEvent,
    Message,
    Order,
    Ticket,
    TicketEvent,
)
from tickets.states import Status


def _create(shop, **overrides):
    data = ticket_payload(**overrides)
    return services.ticket_create(
        shop=shop,
        actor=services.Actor.shop(shop),
        dispute_type_code=data["dispute_type"],
        customer=data["customer"],
        order=data["order"],
        external_ref=data.get("external_ref"),
        affected_items=data.get("affected_items"),
    )


def test_create_stores_order_items_and_event(shop):
    ticket = _create(shop)
    assert ticket.status == Status.NEW and ticket.number.startswith("AS")
    assert ticket.order.items.get().unit_price == 10.5
    assert ticket.affected_items == [{"sku": "GLASS-500", "quantity": 1}]
    assert ticket.first_response_due_at < ticket.resolution_due_at
    assert ticket.next_due_at == ticket.first_response_due_at
    assert list(ticket.events.values_list("kind", "actor_label")) == [("created", "shop:demo")]


def test_unknown_dispute_type_creates_nothing(shop):
    with pytest.raises(ApplicationError) as info:
        _create(shop, dispute_type="nope")
    assert info.value.code == "validation_error" and "dispute_type" in info.value.fields
    assert (Ticket.objects.count(), Order.objects.count(), Customer.objects.count()) == (0, 0, 0)


def test_inactive_dispute_type_is_unknown(shop):
    DisputeType.objects.filter(code="lost_parcel", shop__isnull=True).update(active=False)
    with pytest.raises(ApplicationError):
        _create(shop, dispute_type="lost_parcel")


def test_shop_own_dispute_type_wins_over_the_global_one(shop, other_shop):
    DisputeType.objects.create(
        code="lost_parcel",
        shop=shop,
        name_zh="丢件",
        name_en="Lost",
        category="logistics",
        default_priority="urgent",
    )
    assert _create(shop, dispute_type="lost_parcel").priority == "urgent"
    assert _create(other_shop, dispute_type="lost_parcel").priority == "high"


def test_duplicate_external_ref_raises_409_and_rolls_back(shop):
    _create(shop, external_ref="R-1")
    counts = (Ticket.objects.count(), Order.objects.count(), Customer.objects.count())
    with pytest.raises(ApplicationError) as info:
        _create(shop, external_ref="R-1", customer={"external_id": "new-customer"})
    assert info.value.code == "duplicate_external_ref" and info.value.status_code == 409
    assert (Ticket.objects.count(), Order.objects.count(), Customer.objects.count()) == counts


def test_number_collision_is_retried(shop, monkeypatch):
    taken = _create(shop).number
    numbers = iter([taken, taken, "AS000000FRESH2"])
    monkeypatch.setattr(services, "_new_number", lambda now: next(numbers))
    assert _create(shop).number == "AS000000FRESH2"
    assert Ticket.objects.count() == 2


def test_number_space_exhausted_is_503_and_rolls_back(shop, monkeypatch):
    taken = _create(shop).number
    monkeypatch.setattr(services, "_new_number", lambda now: taken)
    with pytest.raises(ApplicationError) as info:
        _create(shop, customer={"external_id": "someone-else"})
    assert info.value.code == "number_exhausted" and info.value.status_code == 503
    assert (
        Ticket.objects.count() == 1 and Customer.objects.count() == 1 and Order.objects.count() == 1
    )


def test_customer_upsert_keeps_data_not_sent(shop):
    _create(shop)
    _create(shop, customer={"external_id": "c-1001", "phone": "13900000000"})
    customer = Customer.objects.get()
    assert customer.name == "张三" and customer.phone == "13900000000"
    assert customer.masked_phone == "139****0000"


def test_a_customer_is_read_or_created_in_one_statement(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def customer_statements(**customer):
        with CaptureQueriesContext(connection) as queries:
            _create(shop, customer={"external_id": "c-once", **customer})
        return [q["sql"] for q in queries.captured_queries if "tickets_customer" in q["sql"]]

    one = 1 if connection.vendor == "postgresql" else 2  # SQLite: read, then insert
    assert len(customer_statements(name="甲")) == one  # new
    assert len(customer_statements(name="甲")) == 1  # known, unchanged
    assert len(customer_statements(name="乙")) == 2  # known, renamed: read, update
    customer = Customer.objects.get(external_id="c-once")
    assert (customer.name, customer.tickets.count()) == ("乙", 3)


def test_transition_service_refuses_illegal_and_locks(shop, agent):
    ticket = make_ticket(shop)
    with pytest.raises(IllegalTransition):
        services.ticket_transition(
            ticket=ticket, action="resolve", actor=services.Actor.staff(agent)
        )
    result = services.ticket_transition(
        ticket=ticket, action="open", actor=services.Actor.staff(agent), note="n"
    )
    assert result.status == Status.OPEN
    # a stale in-memory copy does not fool it: the row is re-read under lock
    assert ticket.status == Status.NEW
    with pytest.raises(IllegalTransition):
        services.ticket_transition(ticket=ticket, action="open", actor=services.Actor.staff(agent))
    assert TicketEvent.objects.filter(ticket=ticket, kind="status_changed").count() == 1


def test_assign_records_event_and_is_idempotent(shop, agent, supervisor):
    ticket = make_ticket(shop)
    actor = services.Actor.staff(supervisor)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=actor)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=actor)
    services.ticket_assign(ticket=ticket, assignee=None, actor=actor)
    events = list(
        TicketEvent.objects.filter(ticket=ticket, kind="assigned").values_list("data", flat=True)
    )
    assert events == [{"from": None, "to": "agent"}, {"from": "agent", "to": None}]


def test_assign_refuses_non_member(shop, other_shop, agent):
    outsider = staff_member(other_shop, "agent", username="outsider")
    with pytest.raises(ApplicationError) as info:
        services.ticket_assign(
            ticket=make_ticket(shop), assignee=outsider, actor=services.Actor.staff(agent)
        )
    assert info.value.code == "invalid_assignee"


def test_assign_via_api(agent_client, agent, ticket):
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/assign/", {"assignee": "agent"}, format="json"
    )
    assert response.status_code == 200 and response.json()["assignee"] == "agent"
    unknown = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/assign/", {"assignee": "ghost"}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_assignee"


def test_message_rules(shop, agent):
    ticket = make_ticket_for(shop, status=Status.CLOSED)
    staff, customer = services.Actor.staff(agent), services.Actor.shop(shop)
    with pytest.raises(ApplicationError) as info:
        services.message_add(ticket=ticket, body="  ", actor=staff)
    assert set(info.value.fields) == {"body"}  # the message is in the active language
    with pytest.raises(ApplicationError) as info:
        services.message_add(ticket=ticket, body="x", actor=customer, internal=True)
    assert info.value.code == "internal_not_allowed"
    with pytest.raises(ApplicationError) as info:
        services.message_add(ticket=ticket, body="x", actor=customer)
    assert info.value.status_code == 409
    note = services.message_add(ticket=ticket, body="  note  ", actor=staff, internal=True)
    assert note.body == "note" and Message.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.first_responded_at is None


def test_system_message_has_system_author(shop):
    message = services.message_add(
        ticket=make_ticket(shop), body="auto", actor=services.Actor.system()
    )
    assert message.author_kind == "system"


def test_staff_reply_on_pending_internal_only_stops_first_response_clock(shop, agent):
    ticket = make_ticket_for(shop, status=Status.PENDING_INTERNAL)
    services.message_add(ticket=ticket, body="在查", actor=services.Actor.staff(agent))
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_INTERNAL and ticket.first_responded_at is not None
    assert ticket.next_due_at == ticket.resolution_due_at


def test_next_due_at():
    now = timezone.now()
    ticket = Ticket(
        status=Status.NEW, first_response_due_at=now, resolution_due_at=now + dt.timedelta(days=3)
    )
    assert services.next_due_at(ticket) == ticket.first_response_due_at
    ticket.first_responded_at = now
    assert services.next_due_at(ticket) == ticket.resolution_due_at
    for status in (Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CLOSED):
        ticket.status = status
        assert services.next_due_at(ticket) is None


def test_event_record_bumps_updated_at(shop):
    ticket = make_ticket(shop)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))
    event = services.event_record(
        ticket=ticket, kind="message", actor=services.Actor.system(), data={"x": 1}
    )
    ticket.refresh_from_db()
    assert ticket.updated_at == event.created_at


def test_attachment_service_checks_size_before_type_and_stores_safe_name(
    shop, settings, media_root
):
    ticket = make_ticket(shop)
    actor = services.Actor.shop(shop)
    settings.ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(ApplicationError) as info:
        services.attachment_add(
            ticket=ticket,
            uploaded_file=SimpleUploadedFile("x.txt", b"x" * 51),
            kind="photo",
            actor=actor,
        )
    assert info.value.status_code == 413
    settings.ATTACHMENT_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("../../etc/passwd.pdf", PDF_BYTES)
    attachment = services.attachment_add(
        ticket=ticket, uploaded_file=upload, kind="document", actor=actor
    )
    assert attachment.original_name == "passwd.pdf"  # Django keeps only the base name
    assert attachment.file.name.startswith(
        f"attachments/{shop.pk}/{ticket.number}/"
    ) and attachment.file.name.endswith(".pdf")
    assert ".." not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF_BYTES  # sniffing rewound the file


def test_sniff_content_type_rewinds():
    upload = SimpleUploadedFile("a.png", png_bytes())
    assert services.sniff_content_type(upload) == "image/png"
    assert upload.read() == png_bytes()


def test_logistics_service(shop):
    ticket = make_ticket(shop)
    at = dt.datetime(2026, 11, 22, 15, tzinfo=dt.UTC)
    row = services.logistics_event_add(
        ticket=ticket,
        event="signed",
        at=at,
        signed_by="",
        authorized=None,
        actor=services.Actor.shop(shop),
    )
    assert LogisticsEvent.objects.get() == row and row.authorized is None
    event = TicketEvent.objects.get(ticket=ticket, kind="logistics")
    assert event.data == {
        "event": "signed",
        "at": at.isoformat(),
        "signed_by": "",
        "authorized": None,
    }
    assert Attachment.objects.count() == 0
