"""The rules API (API.md "Automation rules"): admins only, shop-scoped, bad rules 400 with fields."""

import pytest

from automation.models import Rule, RuleVersion
from tests.factories import staff_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/shops/demo/rules/"
EXAMPLE = {
    "name": "食品问题直接升级",
    "enabled": True,
    "position": 1,
    "event": "ticket.created",
    "conditions": {
        "all": [
            {"field": "dispute_type", "op": "in", "value": ["spoiled_food"]},
            {"field": "order.amount", "op": "gte", "value": "100.00"},
        ]
    },
    "actions": [
        {"type": "set_priority", "value": "urgent"},
        {"type": "add_tag", "value": "食品"},
        {"type": "notify", "value": "supervisors"},
    ],
}


def test_the_contracts_example_round_trips(admin_client):
    shipped = admin_client.get(URL).json()["results"]
    assert len(shipped) == 3 and not any(r["enabled"] for r in shipped)
    created = admin_client.post(URL, EXAMPLE, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in EXAMPLE} == EXAMPLE
    assert body["version"] == 1 and body["after"] is None
    rule_url = f"{URL}{body['id']}/"
    assert admin_client.get(rule_url).json() == body
    listed = admin_client.get(URL).json()["results"]
    assert len(listed) == 4
    assert sum(1 for r in listed if r["enabled"]) == 1


def test_patch_makes_a_new_version_and_delete_hides_the_rule(admin_client):
    rule_id = admin_client.post(URL, EXAMPLE, format="json").json()["id"]
    patched = admin_client.patch(
        f"{URL}{rule_id}/", {"actions": [{"type": "add_tag", "value": "x"}]}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    toggled = admin_client.patch(f"{URL}{rule_id}/", {"enabled": False}, format="json")
    assert toggled.json()["version"] == 2
    assert RuleVersion.objects.filter(rule_id=rule_id).count() == 2
    assert admin_client.delete(f"{URL}{rule_id}/").status_code == 204
    assert admin_client.get(f"{URL}{rule_id}/").status_code == 404
    assert Rule.objects.filter(pk=rule_id, deleted_at__isnull=False).exists()


def test_time_rules_take_after(admin_client):
    body = {
        "name": "48h",
        "event": "time",
        "after": {"field": "status_since", "hours": 48},
        "actions": [{"type": "notify", "value": "assignee"}],
    }
    created = admin_client.post(URL, body, format="json")
    assert created.status_code == 201
    assert created.json()["after"] == {"field": "status_since", "hours": 48}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"event": "ticket.deleted"}, "event"),
        ({"event": "time"}, "after"),
        ({"event": "time", "after": {"field": "paid_at", "hours": 2}}, "after.field"),
        ({"event": "time", "after": {"field": "created_at", "hours": 0}}, "after.hours"),
        (
            {"conditions": {"all": [{"field": "weather", "op": "eq", "value": "x"}]}},
            "conditions.all[0].field",
        ),
        (
            {"conditions": {"all": [{"field": "status", "op": "like", "value": "x"}]}},
            "conditions.all[0].op",
        ),
        (
            {"conditions": {"any": [{"field": "status", "op": "gte", "value": "x"}]}},
            "conditions.any[0].op",
        ),
        (
            {"conditions": {"all": [{"field": "order.amount", "op": "gte", "value": 1.5}]}},
            "conditions.all[0].value",
        ),
        (
            {"conditions": {"all": [{"field": "order.amount", "op": "gte", "value": "1.005"}]}},
            "conditions.all[0].value",
        ),
        (
            {"conditions": {"all": [{"field": "status", "op": "eq", "value": "lost"}]}},
            "conditions.all[0].value",
        ),
        (
            {"conditions": {"all": [{"field": "status", "op": "in", "value": []}]}},
            "conditions.all[0].value",
        ),
        ({"conditions": {"every": []}}, "conditions"),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "set_priority", "value": "asap"}]}, "actions[0].value"),
        ({"actions": [{"type": "assign", "value": "nobody"}]}, "actions[0].value"),
        ({"actions": [{"type": "reply", "value": 999999}]}, "actions[0].value"),
        ({"actions": [{"type": "notify", "value": "everyone"}]}, "actions[0].value"),
        ({"actions": [{"type": "transition", "value": "merge"}]}, "actions[0].value"),
        ({"actions": [{"type": "add_tag", "value": "a\tb"}]}, "actions[0].value"),
        ({"actions": [{"type": "grant_compensation", "value": "5.00"}]}, "actions[0].type"),
        ({"colour": "red"}, "colour"),
        ({"position": "first"}, "position"),
    ],
)
def test_a_bad_rule_is_400_with_the_field_named(admin_client, change, field):
    response = admin_client.post(URL, {**EXAMPLE, **change}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error["fields"]


def test_errors_are_in_the_readers_language(admin_client):
    response = admin_client.post(
        URL, {**EXAMPLE, "name": ""}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.json()["error"]["fields"]["name"] == "请给规则起个名字。"


def test_only_the_shops_admins(shop, other_shop, token_client, admin_client):
    agent = token_client(staff_member(shop, "agent", username="a1"))
    assert agent.get(URL).status_code == 403
    other_admin = token_client(staff_member(other_shop, "admin", username="oa"))
    assert other_admin.get(URL).status_code == 404
    rule_id = admin_client.post(URL, EXAMPLE, format="json").json()["id"]
    assert other_admin.get(f"/api/v1/shops/other/rules/{rule_id}/").status_code == 404
    assert (
        other_admin.post(
            f"/api/v1/shops/other/rules/{rule_id}/preview/", {}, format="json"
        ).status_code
        == 404
    )


def test_a_body_that_is_not_an_object_is_400(admin_client):
    response = admin_client.post(URL, ["x"], format="json")
    assert response.status_code == 400
