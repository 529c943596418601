"""`make run`'s demo shop shows the rules: enabled ones, and one that acted on a ticket."""

import pytest
from django.contrib.auth import get_user_model

from automation.models import Rule, RuleFiring
from demo.tickets import demo_tickets_create
from shops.models import Shop
from shops.services import shop_bootstrap
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def test_the_demo_has_enabled_rules_and_one_acted(dispute_types_seeded, media_root):
    creds = shop_bootstrap(code="demo", user_prefix="")
    shop = Shop.objects.get(code="demo")
    agent = get_user_model().objects.get(username=creds["users"]["agent"]["username"])
    demo_tickets_create(shop=shop, agent=agent)
    enabled = set(Rule.objects.filter(shop=shop, enabled=True).values_list("name", flat=True))
    assert {"大额订单优先", "内部处理超过 24 小时：备注并提醒处理人"} <= enabled
    assert Rule.objects.filter(shop=shop, default_key="complaint_words", enabled=True).exists()
    firing = RuleFiring.objects.get(rule__default_key="complaint_words")
    assert firing.outcome == "ok"
    assert firing.ticket.tags.filter(name="投诉风险").exists()
    assert TicketEvent.objects.filter(ticket=firing.ticket, kind="automation").exists()
