"""In Chromium: a shop admin builds a rule with the form builder (no JSON), is told what is wrong
field by field, previews it on the shop's tickets, saves it, and sees it act on a new ticket."""

import pytest

from automation.models import Rule
from tests.browser.test_workspace_browser import (
    chromium,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_builds_a_rule_previews_it_and_sees_it_act(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "admin", username="admin")
    earlier = make_ticket_for(shop, order_no="OLD-1", dispute_type="wrong_item")
    make_ticket_for(shop, order_no="OLD-2", dispute_type="late_shipment")

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")
        page.goto(f"{live_server.url}/settings/demo/rules/")
        assert page.locator("[data-testid=rule-row]").count() == 3  # shipped, disabled
        page.click("[data-testid=rule-new]")
        page.wait_for_selector("[data-testid=rule-form]")

        # A condition row: the operator list follows the field.
        page.click("[data-testid=add-condition]")
        row = page.locator("[data-testid=conditions] [data-rule-row]").last
        row.locator("select[name=cond_field]").select_option("dispute_type")
        ops = row.locator("select[name=cond_op] option").evaluate_all("os => os.map(o => o.value)")
        assert ops == ["eq", "ne", "in", "not_in"]
        row.locator("select[name=cond_op]").select_option("eq")
        row.locator("select[name=cond_value]").select_option("wrong_item")  # shown as 发错货/派错件
        # Actions: the first row is there; another added.
        first = page.locator("[data-testid=actions] [data-rule-row]").first
        first.locator("select[name=action_type]").select_option("set_priority")
        first.locator("select[name=action_value]").select_option("urgent")
        page.click("[data-testid=add-action]")
        second = page.locator("[data-testid=actions] [data-rule-row]").last
        second.locator("select[name=action_type]").select_option("add_tag")
        second.locator("input[name=action_value]").fill("发错货")

        # No name and a tag with a tab in it: explained field by field, what was chosen kept.
        second.locator("input[name=action_value]").fill("发错\t货")
        page.click("[data-testid=rule-save]")
        page.wait_for_selector("[data-testid=rule-errors]")
        assert page.locator("[data-testid=rule-errors] li[data-field=name]").inner_text() != ""
        assert page.locator("[data-testid=actions] [data-testid=row-error]").count() == 1
        assert page.locator("select[name=cond_value]").input_value() == "wrong_item"
        assert page.locator("select[name=action_value]").input_value() == "urgent"
        assert not Rule.objects.filter(shop=shop, name="").exists()

        page.fill("[data-testid=rule-name]", "发错货加急")
        page.locator("[data-testid=actions] input[name=action_value]").last.fill("发错货")
        page.click("[data-testid=rule-preview]")
        page.wait_for_selector("[data-testid=preview-result]")
        examples = page.locator("[data-testid=preview-example]").all_inner_texts()
        assert examples == [earlier.number]
        assert not Rule.objects.filter(name="发错货加急").exists()  # the preview saved nothing
        page.screenshot(path="/tmp/rule_preview.png", full_page=True)

        page.click("[data-testid=rule-save]")
        page.wait_for_selector("[data-testid=rule-firings]")
        rule = Rule.objects.get(name="发错货加急")
        assert rule.enabled and rule.actions == [
            {"type": "set_priority", "value": "urgent"},
            {"type": "add_tag", "value": "发错货"},
        ]

        new = make_ticket_for(shop, order_no="NEW-1", dispute_type="wrong_item")
        page.goto(f"{live_server.url}/tickets/{new.number}/")
        event = page.locator("[data-testid=automation-event]")
        event.wait_for()
        assert "发错货加急" in event.inner_text()
        page.screenshot(path="/tmp/rule_acted.png", full_page=True)
        page.goto(f"{live_server.url}/settings/demo/rules/{rule.pk}/")
        assert page.locator("[data-testid=firing-row]").count() == 1

    wait_for_server_connections_to_close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_rule_with_both_condition_groups_is_saved_from_the_page_without_losing_one(
    live_server,
):
    from automation import services

    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "admin", username="admin")
    both = {
        "all": [{"field": "priority", "op": "in", "value": ["high", "urgent"]}],
        "any": [{"field": "description", "op": "contains", "value": "投诉"}],
    }
    rule = services.rule_create(
        shop=shop,
        data={
            "name": "两组条件",
            "enabled": True,
            "event": "ticket.created",
            "conditions": both,
            "actions": [{"type": "add_tag", "value": "关注"}],
        },
    )
    stored = Rule.objects.get(pk=rule.pk).conditions

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(10_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")
        page.goto(f"{live_server.url}/settings/demo/rules/{rule.pk}/")
        kept = page.locator("[data-testid=conditions-kept]").inner_text()
        assert "以下条件全部满足" in kept and "以下条件满足任一" in kept and "投诉" in kept
        page.fill("[data-testid=rule-name]", "两组条件（改名）")
        page.click("[data-testid=rule-save]")
        page.wait_for_selector("[data-testid=rule-firings]")
        assert errors == []
    rule.refresh_from_db()
    assert (rule.name, rule.version, rule.conditions) == ("两组条件（改名）", 2, stored)
    wait_for_server_connections_to_close()
