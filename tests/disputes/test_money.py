"""Money that fits the books, totals that say what is true, and words instead of codes (issue 11),
through the API, the workspace, the admin and the database, on PostgreSQL."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from disputes import services
from disputes.models import Compensation, ShopPolicy
from tests.factories import make_ticket, png_bytes, staff_member
from tickets import services as ticket_services
from tickets.models import TicketEvent
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def web(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def with_photo(ticket):
    ticket_services.attachment_add(
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("broken.png", png_bytes()),
        kind="photo",
        actor=ticket_services.Actor.shop(ticket.shop),
    )
    return ticket


@pytest.fixture
def bottle(shop, media_root):
    """The ¥21.00 order of two ¥10.50 glass bottles, one broken, with a photo."""
    return with_photo(make_ticket(shop))


@pytest.fixture
def admin_user(shop):
    return staff_member(shop, "admin", username="admin")


def api_propose(client, ticket, language="en", **body):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/compensations/",
        body,
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def web_propose(client, ticket, **form):
    return client.post(
        f"/tickets/{ticket.number}/compensations/propose/", {"form": "custom", **form}, **HTMX
    )


def comp(ticket, type="cash", amount="15.00", status="pending_approval", **fields) -> Compensation:
    return Compensation.objects.create(
        ticket=ticket,
        type=type,
        amount=Decimal(amount),
        status=status,
        policy=services.policy_current(shop=ticket.shop),
        **fields,
    )


# --- money fits the books ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"type": "cash", "amount": "12345678901"},
            "amount",
            "no more than 10 digits before the decimal point",
        ),
        ({"type": "cash", "amount": "0.00"}, "amount", "Must be more than ¥0.00."),
        ({"type": "refund", "amount": "0"}, "amount", "Must be more than ¥0.00."),
        ({"type": "cash", "amount": "21.01"}, "amount", "at most ¥21.00 (the order's amount)"),
        ({"type": "coupon", "amount": "9999999999.99"}, "amount", "at most ¥21.00"),
        (
            {
                "type": "cash",
                "amount": "2.00",
                "offered": [
                    {"type": "cash", "amount": "2.00"},
                    {"type": "coupon", "amount": "0.00"},
                ],
            },
            "offered",
            "is not a valid option",
        ),
        (
            {
                "type": "cash",
                "amount": "2.00",
                "offered": [
                    {"type": "cash", "amount": "2.00"},
                    {"type": "refund", "amount": "999999.00"},
                ],
            },
            "offered",
            "at most ¥21.00",
        ),
    ],
)
def test_the_api_refuses_amounts_that_do_not_fit(agent_client, bottle, body, field, message):
    response = api_propose(agent_client, bottle, **body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error" and message in str(error["fields"][field])
    assert not Compensation.objects.exists()


def test_the_api_answers_in_the_request_language(agent_client, bottle):
    error = api_propose(
        agent_client, bottle, language="zh-hans", type="cash", amount="21.01"
    ).json()["error"]
    assert error["message"] == "请求中有无效的字段。"
    assert error["fields"]["amount"] == "¥21.01 超出本工单允许的金额:最多 ¥21.00(订单金额)。"
    assert (
        api_propose(agent_client, bottle, language="zh-hans", type="cash", amount="0").json()[
            "error"
        ]["fields"]["amount"]
        == "须大于 ¥0.00。"
    )


def test_goods_may_have_no_value_money_may_not(agent_client, bottle):
    """A re-shipped seal part has no price in the order (standard.py reship_seal_part): goods types
    take ¥0.00; money types do not."""
    assert api_propose(agent_client, bottle, type="reship", amount="0.00").status_code == 201
    assert api_propose(agent_client, bottle, type="coupon", amount="0.00").status_code == 400


def test_food_safety_cash_may_reach_the_art_148_claim(supervisor, token_client, shop, media_root):
    ticket = with_photo(
        make_ticket(
            shop,
            dispute_type="spoiled_food",
            order={
                "order_no": "F1",
                "amount": "29.90",
                "items": [{"sku": "HAM", "unit_price": "29.90", "quantity": 1, "perishable": True}],
            },
            affected_items=[{"sku": "HAM", "quantity": 1}],
        )
    )
    client = token_client(supervisor)
    assert (
        api_propose(client, ticket, type="cash", amount="1000.00").status_code == 201
    )  # the ¥1,000 minimum claim
    assert api_propose(client, ticket, type="cash", amount="1000.01").status_code == 400
    assert (
        api_propose(client, ticket, type="coupon", amount="29.91").status_code == 400
    )  # only the claim's cash goes past the order


def test_the_database_refuses_what_slips_through(bottle):
    with pytest.raises(IntegrityError), transaction.atomic():
        comp(bottle, type="cash", amount="0.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        comp(bottle, type="reship", amount="-1.00")
    comp(bottle, type="reship", amount="0.00")  # goods without a value
    comp(
        bottle, type="cash", amount="0.00", status="cancelled"
    )  # closed rows as the repair leaves them
    comp(bottle, type="cash", amount="9999999999.99")


def test_the_workspace_form_explains_in_the_page_language_and_keeps_what_was_typed(agent, bottle):
    response = web_propose(
        web(agent, "zh-hans"), bottle, type="cash", amount="12345678901", note="电话号码贴错了"
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#compensation-panel"
    body = response.content.decode()
    assert 'data-testid="custom-proposal-error">金额:须小于 ¥10,000,000,000。<' in body
    assert 'value="12345678901"' in body and 'value="电话号码贴错了"' in body
    assert '<option value="cash" selected>' in body
    assert not Compensation.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "Amount: Must be more than ¥0.00."), ("abc", "Amount: Enter a number of yuan")],
)
def test_the_workspace_form_refuses_zero_and_words(agent, bottle, amount, message):
    body = web_propose(web(agent), bottle, type="cash", amount=amount).content.decode()
    assert message in body and f'value="{amount}"' in body
    assert not Compensation.objects.exists()


def test_the_policy_api_refuses_money_and_counts_that_do_not_fit(shop, token_client):
    client = token_client(staff_member(shop, "admin", username="admin"))
    url = f"/api/v1/shops/{shop.code}/policy/"
    response = client.patch(
        url,
        {"agent_authority": "12345678901", "ship_within_hours": 10**12},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {
        "agent_authority": "须小于 10,000,000,000。",
        "ship_within_hours": "最多为 10,000。",
    }
    assert ShopPolicy.objects.filter(shop=shop).count() <= 1
    assert client.patch(url, {"agent_authority": "9999999999.99"}, format="json").status_code == 200


def test_the_policy_page_names_the_field_in_the_page_language_and_keeps_the_value(admin_user, shop):
    response = web(admin_user, "zh-hans").post(
        f"/shops/{shop.code}/policy/", {"agent_authority": "12345678901"}, follow=True
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-agent_authority">须小于 10,000,000,000。<' in body
    assert 'value="12345678901"' in body
    assert "政策未保存:请修改 “客服每单权限(元)”。" in body


def test_the_dispute_type_page_explains_in_its_language_and_keeps_the_form(admin_user, shop):
    response = web(admin_user, "zh-hans").post(
        f"/shops/{shop.code}/dispute-types/",
        {
            "code": "Bad Code!",
            "name_zh": "外包装破损",
            "name_en": "",
            "rules_as": "damaged_on_arrival",
            "photo_required": "0",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请使用 1–50 个小写字母、数字、“_”或“-”。" in body
    assert "纠纷类型未添加:请修改 “代码”。" in body
    assert (
        'value="Bad Code!"' in body
        and 'value="外包装破损"' in body
        and '<option value="0" selected>' in body
    )
    assert "<th>名称</th>" in body and "姓名" not in body


# --- totals that say what is true ----------------------------------------------------------------


def test_granted_counts_only_what_was_granted(bottle):
    comp(bottle, type="cash", amount="2.00", status="executed")
    comp(bottle, type="coupon", amount="3.00", status="approved")
    comp(bottle, type="cash", amount="4.00", status="executing")
    comp(bottle, type="cash", amount="7.00", status="pending_approval")
    comp(bottle, type="cash", amount="8.00", status="rejected")
    comp(bottle, type="cash", amount="9.00", status="cancelled")
    comp(bottle, type="courier_claim", amount="10.50", status="approved")
    totals = services.compensation_granted(ticket=bottle)
    assert totals == {
        "granted": Decimal("9.00"),
        "pending": Decimal("7.00"),
        "rejected": Decimal("8.00"),
        "recovered": Decimal("10.50"),
    }
    # The agent's authority still counts what is asked for, so two asks cannot each slip under it.
    assert services.authority_used(ticket=bottle) == Decimal("16.00")


def test_the_panel_shows_granted_pending_and_rejected_apart(agent, bottle):
    comp(bottle, type="cash", amount="2.00", status="executed")
    comp(bottle, type="cash", amount="7.00", status="pending_approval")
    comp(bottle, type="cash", amount="8.00", status="rejected")
    body = web(agent, "zh-hans").get(f"/tickets/{bottle.number}/disputes/").content.decode()
    assert "已给 ¥2.00" in body
    assert "待审批 ¥7.00" in body and "已驳回 ¥8.00" in body


def test_the_inbox_total_is_true_for_a_return_and_refund_and_shows_the_order(
    agent, supervisor, shop, media_root
):
    ticket = with_photo(
        make_ticket(
            shop,
            dispute_type="spoiled_food",
            order={
                "order_no": "F1",
                "amount": "29.90",
                "items": [{"sku": "HAM", "unit_price": "29.90", "quantity": 1, "perishable": True}],
            },
            affected_items=[{"sku": "HAM", "quantity": 1}],
        )
    )
    services.compensation_propose(
        ticket=ticket,
        type="return_refund",
        amount=Decimal("29.90"),
        actor=ticket_services.Actor.staff(agent),
    )
    assert Compensation.objects.get().status == "pending_approval"
    body = web(supervisor).get("/approvals/").content.decode()
    assert re.search(r'data-testid="inbox-ticket-total">¥29.90\s', body)
    assert re.search(r'data-testid="inbox-order-amount">¥29.90<', body)
    assert re.search(
        r'data-testid="inbox-authority">¥0.00 / ¥50.00<', body
    )  # a return is the customer's own money


# --- executed or failed when no endpoint was told -------------------------------------------------


def test_without_an_endpoint_staff_mark_it_executed_on_the_timeline(agent, bottle):
    client = web(agent)
    client.post(
        f"/tickets/{bottle.number}/compensations/propose/", {"type": "cash", "amount": "2.00"}
    )
    compensation = Compensation.objects.get()
    assert compensation.status == "approved"
    listed = client.get(f"/tickets/{bottle.number}/compensations/", **HTMX).content.decode()
    assert 'data-testid="awaits-shop"' in listed and 'data-testid="mark-executed"' in listed
    response = client.post(
        f"/compensations/{compensation.pk}/executed/", {"external_ref": "ALIPAY-889"}, follow=True
    )
    assert "Marked executed." in response.content.decode()
    compensation.refresh_from_db()
    assert (
        compensation.status == "executed"
        and compensation.external_ref == "ALIPAY-889"
        and compensation.executed_at
    )
    event = TicketEvent.objects.get(ticket=bottle, kind="compensation_executed")
    assert (
        event.actor == agent
        and event.actor_label == "agent"
        and event.data["external_ref"] == "ALIPAY-889"
    )


def test_staff_mark_it_failed_with_a_reason(agent, bottle):
    client = web(agent)
    client.post(
        f"/tickets/{bottle.number}/compensations/propose/", {"type": "cash", "amount": "2.00"}
    )
    compensation = Compensation.objects.get()
    refused = client.post(f"/compensations/{compensation.pk}/failed/", {"reason": " "}, follow=True)
    assert "Say why it failed." in refused.content.decode()
    client.post(f"/compensations/{compensation.pk}/failed/", {"reason": "wallet frozen"})
    compensation.refresh_from_db()
    assert compensation.status == "failed" and compensation.failure_reason == "wallet frozen"
    assert TicketEvent.objects.get(ticket=bottle, kind="compensation_failed").actor == agent


def test_what_was_sent_to_the_shop_is_reported_by_the_shop_not_marked(agent, bottle, shop):
    endpoint_create(shop=shop, url="https://shop.example/hook", events=["compensation.approved"])
    client = web(agent)
    client.post(
        f"/tickets/{bottle.number}/compensations/propose/", {"type": "cash", "amount": "2.00"}
    )
    compensation = Compensation.objects.get()
    assert compensation.status == "executing"
    listed = client.get(f"/tickets/{bottle.number}/compensations/", **HTMX).content.decode()
    assert "Sent to the shop." in listed and 'data-testid="mark-executed"' not in listed
    client.post(f"/compensations/{compensation.pk}/executed/", {"external_ref": "X"})
    compensation.refresh_from_db()
    assert compensation.status == "executing"


def test_another_shops_staff_cannot_mark(bottle, other_shop):
    compensation = comp(bottle, type="cash", amount="2.00", status="approved")
    response = web(staff_member(other_shop, "agent", username="stranger")).post(
        f"/compensations/{compensation.pk}/executed/", {}
    )
    assert response.status_code == 404
    compensation.refresh_from_db()
    assert compensation.status == "approved"


# --- words, not codes ----------------------------------------------------------------------------


def test_the_list_and_inbox_show_rules_and_offered_types_in_words(agent, supervisor, bottle):
    comp(
        bottle,
        type="refund",
        amount="10.50",
        rule="unusable_full_refund",
        offered=[{"type": "refund", "amount": "10.50"}, {"type": "reship", "amount": "10.50"}],
    )
    for language, words in (
        ("en", ["Full refund, goods unusable", "Refund ¥10.50 / Re-ship ¥10.50"]),
        ("zh-hans", ["商品无法使用,全额退款"]),
    ):
        listed = (
            web(agent, language)
            .get(f"/tickets/{bottle.number}/compensations/", **HTMX)
            .content.decode()
        )
        inbox = web(supervisor, language).get("/approvals/").content.decode()
        for text in words:
            assert text in listed
        assert words[0] in inbox
        assert "unusable_full_refund" not in listed and "unusable_full_refund" not in inbox
        assert not re.search(r">\s*refund ¥", listed)


def test_service_errors_are_translated(agent, supervisor, bottle):
    from django.utils import translation

    compensation = comp(bottle, type="cash", amount="2.00", status="executed")
    with translation.override("zh-hans"):
        with pytest.raises(Exception) as caught:
            services.compensation_cancel(
                compensation=compensation, actor=ticket_services.Actor.staff(supervisor)
            )
    assert caught.value.message == "状态为“已执行”的补偿不能取消。"


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser(shop):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")


def test_the_admin_lists_compensations_read_only(superuser, bottle):
    compensation = comp(bottle, type="cash", amount="15.00")
    client = web(superuser)
    assert client.get("/admin/disputes/compensation/").status_code == 200
    page = client.get(f"/admin/disputes/compensation/{compensation.pk}/change/")
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    client.post(
        f"/admin/disputes/compensation/{compensation.pk}/change/",
        {"amount": "1.00", "status": "executed"},
    )
    compensation.refresh_from_db()
    assert compensation.amount == Decimal("15.00") and compensation.status == "pending_approval"
    assert client.get("/admin/disputes/compensation/add/").status_code == 403


def test_the_admin_cancels_what_is_not_executed_through_the_service(superuser, bottle):
    pending = comp(bottle, type="cash", amount="15.00")
    done = comp(bottle, type="cash", amount="2.00", status="executed")
    response = web(superuser).post(
        "/admin/disputes/compensation/",
        {"action": "cancel_selected", "_selected_action": [pending.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    done.refresh_from_db()
    assert pending.status == "cancelled" and done.status == "executed"
    event = TicketEvent.objects.get(ticket=bottle, kind="compensation_cancelled")
    assert (
        event.actor == superuser and event.data["id"] == pending.pk and "root" in event.data["note"]
    )
    assert f"#{done.pk}" in response.content.decode()
