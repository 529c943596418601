"""A shop's configuration kept per process (shops.config): database triggers give the shop a new
version on every write to what is kept, a request reads each shop's version once, and nothing a
transaction wrote and rolled back, nor a stale shop row saved again, brings back an old value."""

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from aftersales.request_memo import request_memo
from assignment.models import AssignmentSettings, Mode
from automation.models import Rule
from disputes.models import ShopPolicy
from disputes.services import policy_current
from shops.config import shop_config
from shops.models import Shop
from tests.factories import make_ticket, staff_member, ticket_payload
from tickets.models import DisputeType, ReplyTemplate
from tickets.services import dispute_type_for_shop
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

CONFIG_TABLES = (
    "disputes_disputetype",
    "disputes_shoppolicy",
    "assignment_assignmentsettings",
    "automation_rule",
    "webhooks_webhookendpoint",
    "tickets_replytemplate",
)


def version(shop) -> int:
    return Shop.objects.values_list("config_version", flat=True).get(pk=shop.pk)


def config_reads(queries) -> list[str]:
    return [
        q["sql"] for q in queries if any(f'FROM "{table}"' in q["sql"] for table in CONFIG_TABLES)
    ]


def own_type(shop, code="own_type", **fields):
    return DisputeType.objects.create(
        shop=shop, code=code, name_zh="自定义", name_en="Own", category="logistics", **fields
    )


def test_every_write_to_a_watched_table_gives_the_shop_a_new_version(shop, other_shop):
    agent = staff_member(shop, "agent")
    seen = {version(shop)}

    def changed() -> bool:
        now = version(shop)
        new = now not in seen
        seen.add(now)
        return new

    dispute_type = own_type(shop)
    assert changed()
    DisputeType.objects.filter(pk=dispute_type.pk).update(active=False)  # no signal: the trigger
    assert changed()
    dispute_type.delete()
    assert changed()
    ShopPolicy.objects.create(shop=shop, version=1, values={})
    assert changed()
    WebhookEndpoint.objects.create(shop=shop, url="https://example.com/h", secret="s")
    assert changed()
    rule = Rule.objects.create(shop=shop, name="r", event="ticket.created")
    assert changed()
    ReplyTemplate.objects.create(shop=shop, category="greeting", title="t", body="b")
    assert changed()
    settings = AssignmentSettings.objects.create(shop=shop, mode=Mode.ROUND_ROBIN)
    assert changed()
    # What moves on its own is not configuration: round robin's position, a time rule's watermark.
    AssignmentSettings.objects.filter(pk=settings.pk).update(last_assignee=agent)
    rule.swept_until = rule.created_at
    rule.save(update_fields=["swept_until"])
    assert not changed()
    # Another shop's row is not this shop's configuration; a global row is every shop's.
    other_version = version(other_shop)
    own_type(other_shop)
    assert not changed() and version(other_shop) != other_version
    DisputeType.objects.filter(shop__isnull=True, code="wrong_item").update(name_en="Wrong")
    assert changed() and version(other_shop) != other_version


def test_the_staff_is_configuration_too(shop, other_shop):
    """The ticket page's assignee list (shops.selectors.shop_staff): a membership, and a member
    renamed, deactivated or activated, change the shops they work for; a login does not."""
    from django.contrib.auth import get_user_model

    from shops.models import Membership
    from shops.selectors import shop_staff

    agent = staff_member(shop, "agent", username="a1")
    assert [u.username for u in shop_staff(shop.pk)] == ["a1"]
    other_version = version(other_shop)
    get_user_model().objects.filter(pk=agent.pk).update(username="a2")
    assert [u.username for u in shop_staff(shop.pk)] == ["a2"]
    agent.refresh_from_db()
    agent.is_active = False
    agent.save()
    assert shop_staff(shop.pk) == []
    get_user_model().objects.filter(pk=agent.pk).update(is_active=True, last_login=None)
    before = version(shop)
    get_user_model().objects.filter(pk=agent.pk).update(last_login=agent.date_joined)
    assert version(shop) == before and version(other_shop) == other_version
    Membership.objects.filter(user=agent, shop=shop).delete()
    assert shop_staff(shop.pk) == []
    Membership.objects.create(user=agent, shop=shop, role="agent")
    assert [u.username for u in shop_staff(shop.pk)] == ["a2"]


def test_a_value_is_computed_once_per_version(shop):
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    assert shop_config(shop.pk, "probe", compute) == 1
    assert shop_config(shop.pk, "probe", compute) == 1
    own_type(shop)
    assert shop_config(shop.pk, "probe", compute) == 2
    assert shop_config(shop.pk, "probe", compute) == 2


def test_a_change_made_elsewhere_is_seen_by_the_next_read(shop):
    """Outside a request each read checks the version: a bulk update (no signal, as another
    process's write) is seen at once."""
    dispute_type = own_type(shop)
    assert dispute_type_for_shop(shop=shop, code="own_type") == dispute_type
    DisputeType.objects.filter(pk=dispute_type.pk).update(active=False)
    assert dispute_type_for_shop(shop=shop, code="own_type") is None
    # The shop's own type goes before a global one with the same code, and back when it goes.
    own = own_type(shop, code="wrong_item")
    assert dispute_type_for_shop(shop=shop, code="wrong_item") == own
    own.delete()
    assert dispute_type_for_shop(shop=shop, code="wrong_item").shop_id is None


def test_what_a_rolled_back_transaction_wrote_is_never_kept(shop):
    with pytest.raises(RuntimeError), transaction.atomic():
        own_type(shop)
        assert dispute_type_for_shop(shop=shop, code="own_type") is not None
        raise RuntimeError
    assert dispute_type_for_shop(shop=shop, code="own_type") is None
    # A first policy is written on first use: when that write is rolled back, so is the value.
    with pytest.raises(RuntimeError), transaction.atomic():
        first = policy_current(shop=shop)
        raise RuntimeError
    assert not ShopPolicy.objects.filter(pk=first.pk).exists()
    assert policy_current(shop=shop).pk != first.pk
    assert ShopPolicy.objects.filter(pk=policy_current(shop=shop).pk).exists()


def test_saving_a_shop_read_earlier_does_not_bring_back_its_old_version(shop):
    stale = Shop.objects.get(pk=shop.pk)
    dispute_type_for_shop(shop=shop, code="wrong_item")  # kept under the version stale holds
    own_type(shop, code="wrong_item")
    current = version(shop)
    stale.name = "Renamed"
    stale.save()
    assert version(shop) == current != stale.config_version
    assert dispute_type_for_shop(shop=shop, code="wrong_item").shop_id == shop.pk


def test_a_request_reads_versions_once_and_sees_its_own_writes(shop):
    """In a request the shop row it reads gives the version; a configuration row saved in the
    request makes the reads after it fresh."""
    seen = []

    def view(request):
        current = Shop.objects.get(pk=shop.pk)  # as the API key's or the ticket's shop is read
        with CaptureQueriesContext(connection) as queries:
            seen.append(dispute_type_for_shop(shop=current, code="own_type"))
            seen.append(dispute_type_for_shop(shop=current, code="own_type"))
        seen.append(len(queries))
        own_type(shop)
        seen.append(dispute_type_for_shop(shop=current, code="own_type").code)
        return None

    dispute_type_for_shop(shop=shop, code="own_type")  # kept
    request_memo(view)(RequestFactory().get("/"))
    assert seen == [None, None, 0, "own_type"]


@pytest.mark.django_db(transaction=True)  # the batch check runs after the real commit
def test_a_create_reads_no_configuration_once_it_is_kept(shop, shop_client, dispute_types_seeded):
    """The dispute type, policy, assignment mode, rules and webhook endpoints of a create come
    from the process once read; the first create reads them."""
    WebhookEndpoint.objects.create(shop=shop, url="https://example.com/h", secret="s")
    policy_current(shop=shop)  # made on first use: a change of the configuration
    payload = ticket_payload(dispute_type="quality_defect")
    with CaptureQueriesContext(connection) as first:
        assert shop_client.post("/api/v1/tickets/", payload, format="json").status_code == 201
    assert config_reads(first.captured_queries)
    payload["order"]["order_no"] = "T-second"
    with CaptureQueriesContext(connection) as second:
        response = shop_client.post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 201, response.content
    assert config_reads(second.captured_queries) == []
    assert response.json()["dispute_type"] == "quality_defect"


def test_the_ticket_page_reads_no_configuration_once_it_is_kept(client, shop):
    ticket = make_ticket(shop)
    policy_current(shop=shop)  # made on first use: a change of the configuration
    client.force_login(staff_member(shop, "agent"))
    assert client.get(f"/tickets/{ticket.number}/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert config_reads(queries.captured_queries) == []
    ReplyTemplate.objects.create(shop=shop, category="greeting", title="新话术", body="您好")
    assert "新话术" in client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "新话术" not in body
