"""A customer's history in one shop (issue 14 item 2): the API (API.md "Customers") and the
workspace page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes import services as disputes
from disputes.models import Compensation, Judgment
from sla.models import OutboundContact
from tests.factories import make_ticket_for, staff_member
from tickets.models import Customer, DisputeType, Order, Ticket
from tickets.selectors import CUSTOMER_TICKETS_LIMIT

pytestmark = pytest.mark.django_db


def comp(ticket, type="cash", amount="15.00", status="pending_approval") -> Compensation:
    return Compensation.objects.create(
        ticket=ticket,
        type=type,
        amount=Decimal(amount),
        status=status,
        policy=disputes.policy_current(shop=ticket.shop),
    )


def judge(ticket, party: str, version: int = 1) -> Judgment:
    return Judgment.objects.create(ticket=ticket, version=version, party=party)


def history(shop, n: int, *, customer_id: str = "c-1001", prefix: str = "T") -> list[Ticket]:
    """n tickets of one customer, on n orders, the last created newest."""
    return [
        make_ticket_for(shop, order_no=f"{prefix}{i:04d}", customer_id=customer_id)
        for i in range(n)
    ]


def web(user, language: str = "en") -> Client:
    client = Client()
    client.cookies.load({"django_language": language})
    client.force_login(user)
    return client


# --- API -------------------------------------------------------------------------------------


def test_shop_key_reads_its_customer_with_masked_phone_tickets_newest_first_and_money(
    shop, shop_client
):
    first, second, third = history(shop, 3)
    make_ticket_for(shop, order_no="T0000", customer_id="c-1001")  # a second ticket, same order
    make_ticket_for(shop, order_no="X1", customer_id="c-2002")  # someone else
    comp(first, type="cash", amount="2.00", status="executed")
    comp(first, type="coupon", amount="3.50", status="approved")
    comp(second, type="cash", amount="4.00", status="executing")
    comp(second, type="cash", amount="7.00", status="pending_approval")
    comp(third, type="cash", amount="1.25", status="proposed")
    comp(third, type="cash", amount="8.00", status="rejected")
    comp(third, type="courier_claim", amount="10.50", status="approved")

    response = shop_client.get("/api/v1/customers/c-1001/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["external_id"], body["name"], body["phone"]) == ("c-1001", "张三", "138****0000")
    numbers = [t["number"] for t in body["tickets"]]
    expected = list(
        Ticket.objects.filter(customer__external_id="c-1001")
        .order_by("-created_at", "-id")
        .values_list("number", flat=True)
    )
    assert numbers == expected and len(numbers) == 4 and numbers[-1] == first.number
    assert set(body["tickets"][0]) == {"number", "status", "dispute_type", "created_at"}
    assert body["tickets"][-1]["dispute_type"] == "damaged_on_arrival"
    assert body["tickets"][-1]["status"] == "new"
    assert body["orders_count"] == 3
    # granted = approved + executing + executed; pending = asked, undecided; recovered = courier claims.
    assert body["compensation"] == {"granted": "9.50", "pending": "8.25", "recovered": "10.50"}
    # 4 tickets in the risk window (more than 3), and c-2002 shares the phone (issue 16)
    assert [flag["code"] for flag in body["risk"]["flags"]] == [
        "frequent_claimant",
        "linked_accounts",
    ]
    assert body["risk"]["flags"][1]["refs"] == ["c-2002"]


def test_money_strings_are_zero_with_two_places_when_nothing_was_asked(shop, shop_client):
    history(shop, 1)
    body = shop_client.get("/api/v1/customers/c-1001/").json()
    assert body["compensation"] == {"granted": "0.00", "pending": "0.00", "recovered": "0.00"}


def test_another_shops_customer_and_an_unknown_id_are_404_in_the_error_shape(
    shop, other_shop, shop_client, other_shop_client, other_agent_client
):
    history(shop, 1)
    for client, path in [
        (other_shop_client, "/api/v1/customers/c-1001/"),
        (other_agent_client, "/api/v1/customers/c-1001/"),
        (shop_client, "/api/v1/customers/nobody/"),
        (shop_client, "/api/v1/customers/c-1001/?shop=other"),  # a key speaks for its shop only
        (other_agent_client, "/api/v1/customers/c-1001/?shop=demo"),
    ]:
        response = client.get(path)
        assert response.status_code == 404, (path, response.content)
        assert response.json()["error"]["code"] == "not_found"


def test_staff_of_one_shop_need_no_shop_parameter(shop, agent_client):
    history(shop, 2)
    response = agent_client.get("/api/v1/customers/c-1001/")
    assert response.status_code == 200 and len(response.json()["tickets"]) == 2


def test_staff_of_several_shops_name_the_shop(shop, other_shop, agent, agent_client):
    staff_member(other_shop, "agent", username="agent")  # the same agent works for both
    history(shop, 2)
    history(other_shop, 1, prefix="O")  # the same external id in the other shop

    refused = agent_client.get("/api/v1/customers/c-1001/")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_error"
    assert "shop" in refused.json()["error"]["fields"]

    in_demo = agent_client.get("/api/v1/customers/c-1001/?shop=demo").json()
    in_other = agent_client.get("/api/v1/customers/c-1001/?shop=other").json()
    assert len(in_demo["tickets"]) == 2 and len(in_other["tickets"]) == 1
    assert agent_client.get("/api/v1/customers/c-1001/?shop=nope").status_code == 404


def test_the_ticket_list_is_capped_at_the_newest_500(shop, shop_client):
    customer = history(shop, 1)[0].customer
    dispute_type = DisputeType.objects.get(code="damaged_on_arrival", shop__isnull=True)
    count = CUSTOMER_TICKETS_LIMIT + 3
    orders = Order.objects.bulk_create(
        [Order(shop=shop, order_no=f"BULK{i}") for i in range(count)]
    )
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                number=f"BULK{i:05d}",
                shop=shop,
                customer=customer,
                order=order,
                dispute_type=dispute_type,
            )
            for i, order in enumerate(orders)
        ]
    )
    base = timezone.now() - dt.timedelta(days=30)
    for i, ticket in enumerate(tickets):  # bulk_create stamps one moment: spread them out
        ticket.created_at = base + dt.timedelta(minutes=i)
    Ticket.objects.bulk_update(tickets, ["created_at"])

    body = shop_client.get("/api/v1/customers/c-1001/").json()

    assert len(body["tickets"]) == CUSTOMER_TICKETS_LIMIT == 500
    assert body["tickets"][0]["number"] != "BULK00000"
    # the newest (the factory's ticket, created now) first; the oldest bulk ones fall off
    created = [t["created_at"] for t in body["tickets"]]
    assert created == sorted(created, reverse=True)
    assert "BULK00000" not in {t["number"] for t in body["tickets"]}
    assert body["orders_count"] == count + 1


def test_the_schema_describes_the_customer_body(agent_client):
    schema = agent_client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/customers/{external_id}/"]["get"]
    assert any(p["name"] == "shop" for p in operation["parameters"])
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {
        "external_id",
        "name",
        "phone",
        "tickets",
        "orders_count",
        "compensation",
        "risk",
    }


# --- Workspace page --------------------------------------------------------------------------


def test_the_ticket_page_links_the_customer_to_their_page(shop, agent):
    ticket = history(shop, 1)[0]
    body = web(agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert 'href="/customers/demo/c-1001/"' in body


def test_staff_of_the_shop_see_the_whole_history_in_both_languages(shop, agent):
    first, second = history(shop, 2)
    make_ticket_for(shop, order_no="T0000", customer_id="c-1001")
    comp(first, type="cash", amount="2.00", status="executed")
    comp(second, type="cash", amount="7.00", status="pending_approval")
    comp(second, type="courier_claim", amount="10.50", status="executed")
    judge(first, "courier")
    judge(first, "merchant", version=2)  # revised: only the current judgment counts
    judge(second, "merchant")
    OutboundContact.objects.create(
        shop=shop,
        customer=first.customer,
        ticket=first,
        channel="sms",
        purpose="follow_up",
        to="13800000000",
        body="请为本次服务打分",
    )
    Ticket.objects.filter(pk=second.pk).update(assignee=agent, status="open")

    en = web(agent, "en").get("/customers/demo/c-1001/")
    assert en.status_code == 200
    page = en.content.decode()
    assert "张三" in page and "138****0000" in page and "13800000000" not in page
    assert first.number in page and second.number in page and "T0000" in page
    assert "Damaged on arrival" in page and ">Open<" in page and ">agent<" in page
    assert "¥2.00" in page and "¥7.00" in page and "¥10.50" in page
    assert 'data-party="merchant">2<' in page and 'data-party="courier">0<' in page
    assert "Follow-up and satisfaction survey" in page and "请为本次服务打分" in page
    assert "Contacted 1 of at most 3 times today" in page or "Contacted 0 of at most" in page
    assert "Nothing is flagged on this customer." in page
    # the orders: T0000 has two tickets
    assert page.count(">T0000<") == 3  # two ticket rows and one order row

    zh = web(agent, "zh-hans").get("/customers/demo/c-1001/").content.decode()
    assert 'lang="zh-hans"' in zh
    assert "工单" in zh and "订单" in zh and "联系记录" in zh and "¥2.00" in zh
    assert "没有风险标记" in zh and "处理中" in zh
    assert "Contact log" not in zh and "follow_up" not in zh


def test_the_contact_counter_counts_todays_contacts_by_the_shops_day(shop, agent):
    ticket = history(shop, 1)[0]
    now = timezone.now()
    for minutes in (1, 2):
        OutboundContact.objects.create(
            shop=shop,
            customer=ticket.customer,
            ticket=ticket,
            channel="sms",
            purpose="reship_tracking",
            to="13800000000",
            body="运单号 SF1",
            created_at=now - dt.timedelta(minutes=minutes),
        )
    OutboundContact.objects.create(
        shop=shop,
        customer=ticket.customer,
        channel="sms",
        purpose="auto_close",
        to="13800000000",
        body="old",
        created_at=now - dt.timedelta(days=3),
    )
    from sla.services import contacts_sent_today

    expected = contacts_sent_today(customer_id=ticket.customer_id, shop=shop, now=now)
    page = web(agent).get("/customers/demo/c-1001/").content.decode()
    assert f"Contacted {expected} of at most 3 times today" in page
    assert expected in (0, 1, 2)  # the shop's midnight may fall between the two
    assert page.count("运单号 SF1") == 2 and ">old<" in page


def test_another_shops_staff_and_unknown_customers_get_404(shop, other_shop):
    history(shop, 1)
    outsider = staff_member(other_shop, "agent", username="outsider")
    client = web(outsider)
    assert client.get("/customers/demo/c-1001/").status_code == 404
    assert client.get("/customers/other/c-1001/").status_code == 404  # not a customer there
    insider = web(staff_member(shop, "agent", username="insider"))
    assert insider.get("/customers/demo/nobody/").status_code == 404
    assert Client().get("/customers/demo/c-1001/").status_code == 302  # login first


def test_the_page_reads_a_constant_number_of_queries(shop, agent):
    def queries_for(customer_id: str, n: int) -> int:
        tickets = history(shop, n, customer_id=customer_id, prefix=customer_id)
        for index, ticket in enumerate(tickets):
            comp(ticket, amount=f"{index + 1}.00", status="approved")
            judge(ticket, "merchant" if index % 2 else "courier")
            OutboundContact.objects.create(
                shop=shop,
                customer=ticket.customer,
                ticket=ticket,
                channel="sms",
                purpose="follow_up",
                to="13800000000",
                body=f"msg {index}",
            )
        Ticket.objects.filter(customer__external_id=customer_id).update(assignee=agent)
        client = web(agent)
        client.get(f"/customers/demo/{customer_id}/")  # warm: session, translations
        with CaptureQueriesContext(connection) as context:
            response = client.get(f"/customers/demo/{customer_id}/")
        assert response.status_code == 200
        assert response.content.decode().count('class="ticket-link"') == n
        return len(context.captured_queries)

    assert queries_for("few", 2) == queries_for("many", 20)
    assert Customer.objects.filter(shop=shop).count() == 2
