"""A ticket opened in the workspace (tickets/views_new.py): the same create as the API's, for a
customer found by ID or phone or new, on a typed order or one of their earlier ones, with evidence;
all or nothing, errors on their fields in the reader's language."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sla.models import Timer
from tests.factories import ShopFactory, make_ticket_for, png_bytes, staff_member
from tickets.models import Attachment, Customer, Ticket
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
URL = "/tickets/new/"


@pytest.fixture
def shop():
    return ShopFactory(code="demo", name="Demo shop")


@pytest.fixture
def agent_client(client, shop):
    client.force_login(staff_member(shop, "agent", username="agent"))
    return client


def form(**overrides):
    data = {
        "shop": "demo",
        "channel": "phone",
        "customer_id": "",
        "customer_phone": "138 0013 8000",
        "customer_name": "李四",
        "earlier_order": "",
        "order_no": "T-PHONE-1",
        "order_amount": "59.80",
        "delivered_at": "2026-11-30T15:00",
        "dispute_type": "damaged_on_arrival",
        "description": "电话里说杯子碎了",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-sku": "CUP-1",
        "items-0-name": "马克杯",
        "items-0-unit_price": "29.90",
        "items-0-quantity": "2",
    }
    data.update(overrides)
    return data


def test_the_page_in_both_languages(agent_client):
    zh = agent_client.get(URL).content.decode()
    assert "新建工单" in zh and "查找客户" in zh
    en = agent_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "New ticket" in en and "Find the customer" in en and "查找" not in en


def test_a_phone_call_from_a_new_customer_becomes_a_ticket_like_the_apis(agent_client, shop):
    WebhookEndpoint.objects.create(
        shop=shop, url="https://shop.example/hook", events=["*"], secret="s"
    )
    photo = SimpleUploadedFile("cup.png", png_bytes(), content_type="image/png")
    response = agent_client.post(URL, {**form(), "evidence": [photo]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.number}/"
    assert ticket.channel == "phone" and ticket.dispute_type.code == "damaged_on_arrival"
    assert ticket.customer.external_id == "tel:13800138000" and ticket.customer.name == "李四"
    assert ticket.order.order_no == "T-PHONE-1" and str(ticket.order.amount) == "59.80"
    assert [(i.sku, i.quantity) for i in ticket.order.items.all()] == [("CUP-1", 2)]
    assert ticket.first_response_due_at and ticket.resolution_due_at  # the SLA, as the API's
    assert Timer.objects.filter(ticket=ticket).exists()
    assert WebhookDelivery.objects.filter(event__type="ticket.created").count() == 1
    assert Attachment.objects.get(ticket=ticket).kind == "photo"
    page = agent_client.get(response["Location"]).content.decode()
    assert f"工单 {ticket.number} 已创建。" in page


def test_a_known_customer_is_found_by_phone_and_an_earlier_order_reused(agent_client, shop):
    earlier = make_ticket_for(shop, order_no="T-OLD-9", customer_id="c-1001")  # phone 13800000000
    lookup = agent_client.get(
        "/tickets/new/customer/", {"shop": "demo", "customer_phone": "138-0000-0000"}
    ).content.decode()
    assert "已找到客户" in lookup and "T-OLD-9" in lookup
    response = agent_client.post(
        URL,
        form(
            customer_phone="13800000000",
            earlier_order="T-OLD-9",
            order_no="",
            **{"items-0-sku": ""},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    new = Ticket.objects.exclude(pk=earlier.pk).get()
    assert new.customer_id == earlier.customer_id and Customer.objects.count() == 1
    assert new.order.order_no == "T-OLD-9" and new.order_id != earlier.order_id
    assert [i.sku for i in new.order.items.all()] == [i.sku for i in earlier.order.items.all()]


def test_refusals_keep_the_form_and_create_nothing(agent_client, shop):
    other = make_ticket_for(ShopFactory(code="other"), order_no="T-THEIRS", customer_id="c-1001")
    cases = [
        (form(customer_phone=""), "请填写客户在店铺的编号，或其手机号。"),
        (form(order_no="", **{"items-0-sku": ""}), "请填写订单号，或选择客户的一个以往订单。"),
        (form(**{"items-0-unit_price": ""}), "请填写该商品的单价。"),
        (form(customer_phone="13800000000", earlier_order="T-THEIRS"), "该订单不属于这位客户。"),
    ]
    for data, message in cases:
        response = agent_client.post(URL, data)
        assert response.status_code == 400
        assert message in response.content.decode()
    not_a_photo = SimpleUploadedFile("note.txt", b"hello", content_type="text/plain")
    response = agent_client.post(URL, {**form(), "evidence": [not_a_photo]})
    assert response.status_code == 400
    assert "不支持此文件类型" in response.content.decode()
    assert 'value="T-PHONE-1"' in response.content.decode()  # what was typed stays
    assert Ticket.objects.exclude(pk=other.pk).count() == 0  # the refused file took the ticket back
    english = agent_client.post(URL, form(customer_phone=""), HTTP_ACCEPT_LANGUAGE="en")
    assert "Give the customer's ID in the shop, or their phone number." in html.unescape(
        english.content.decode()
    )


def test_another_shops_customers_and_shops_stay_invisible(agent_client, shop):
    make_ticket_for(ShopFactory(code="other"), customer_id="c-9")
    found = agent_client.get("/tickets/new/customer/", {"shop": "demo", "customer_id": "c-9"})
    assert "新建客户" in found.content.decode() or "将同时新建客户" in found.content.decode()
    other = {"shop": "other", "customer_id": "c-9"}
    assert agent_client.get("/tickets/new/customer/", other).status_code == 404
    assert agent_client.get("/tickets/new/customer/").content.strip() == b""  # nothing typed yet
    assert agent_client.post(URL, form(shop="other")).status_code == 400  # not a choice
    assert not Ticket.objects.filter(shop=shop).exists()
