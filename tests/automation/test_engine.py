"""Rules acting on domain events: each event, operator and action; order; disabled rules;
versions; the self-trigger guard and bounded chains; a failing action."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from automation import engine, services
from automation.facts import Facts, conditions_match
from automation.models import FiringState, Outcome, RuleFiring, RuleVersion
from disputes.services import compensation_approve, compensation_propose
from notifications.models import Notification
from sla.models import OutboundContact
from tests.factories import make_ticket, make_ticket_for, staff_member, ticket_payload
from tickets import services as tickets
from tickets.models import ReplyTemplate, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def tag_names(ticket) -> set[str]:
    return set(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True))


def automation_events(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket, kind="automation").order_by("id"))


# --- events -------------------------------------------------------------------------------------


def test_ticket_created_rule_acts_in_the_creation_and_the_timeline_names_rule_and_version(
    shop, make_rule
):
    rule = make_rule(
        name="食品问题直接升级",
        conditions={"all": [{"field": "dispute_type", "op": "in", "value": ["wrong_item"]}]},
        actions=[{"type": "set_priority", "value": "high"}, {"type": "add_tag", "value": "食品"}],
    )
    food = make_ticket(shop, dispute_type="wrong_item")
    other = make_ticket_for(shop, order_no="X2")
    food.refresh_from_db()
    assert food.priority == "high" and tag_names(food) == {"食品"}
    assert tag_names(other) == set()
    changed = TicketEvent.objects.get(ticket=food, kind="priority_changed")
    assert changed.actor_label == f"rule:{rule.pk}@1 食品问题直接升级"
    [event] = automation_events(food)
    assert event.data["rule"] == rule.pk and event.data["version"] == 1
    assert [a["result"] for a in event.data["actions"]] == ["ok", "ok"]
    firing = RuleFiring.objects.get(rule=rule)
    assert (firing.ticket_id, firing.state, firing.outcome) == (food.pk, "done", "ok")


def test_api_answer_already_shows_what_a_creation_rule_did(shop, shop_client, make_rule):
    make_rule(actions=[{"type": "set_priority", "value": "high"}])
    response = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json")
    assert response.status_code == 201
    assert response.json()["priority"] == "high"


def test_ticket_updated_rule_reacts_to_priority_tag_and_assignee_changes(shop, agent, make_rule):
    make_rule(
        event="ticket.updated",
        conditions={"all": [{"field": "priority", "op": "eq", "value": "urgent"}]},
        actions=[{"type": "add_tag", "value": "加急"}],
    )
    ticket = make_ticket(shop)
    assert tag_names(ticket) == set()
    tickets.ticket_priority_set(ticket=ticket, priority="urgent", actor=tickets.Actor.staff(agent))
    assert tag_names(ticket) == {"加急"}


def test_message_received_only_for_the_customers_public_messages(shop, agent, make_rule):
    make_rule(
        event="message.received",
        conditions={
            "all": [{"field": "message.body", "op": "contains", "value": ["投诉", "12315", "曝光"]}]
        },
        actions=[
            {"type": "add_tag", "value": "投诉风险"},
            {"type": "notify", "value": "supervisors"},
        ],
    )
    supervisor = staff_member(shop, "supervisor", username="sup")
    ticket = make_ticket(shop)
    tickets.message_add(
        ticket=ticket, body="我要去12315投诉", actor=tickets.Actor.staff(agent), internal=True
    )
    assert tag_names(ticket) == set()  # a note by staff is not the customer writing
    tickets.message_add(ticket=ticket, body="谢谢", actor=tickets.Actor.shop(shop))
    assert tag_names(ticket) == set()
    tickets.message_add(ticket=ticket, body="再不处理我就曝光你们", actor=tickets.Actor.shop(shop))
    assert tag_names(ticket) == {"投诉风险"}
    assert (
        Notification.objects.filter(recipient=supervisor, kind="automation", ticket=ticket).count()
        == 1
    )


def test_compensation_decided_rule_sees_the_decision_and_amount(shop, agent, supervisor, make_rule):
    make_rule(
        event="compensation.decided",
        conditions={
            "all": [
                {"field": "compensation.status", "op": "eq", "value": "approved"},
                {"field": "compensation.amount", "op": "gte", "value": "2.00"},
            ]
        },
        actions=[{"type": "internal_note", "value": "补偿已批准，请跟进顾客"}],
    )
    ticket = make_ticket(shop, dispute_type="late_shipment")
    comp = compensation_propose(
        ticket=ticket, type="cash", amount=Decimal("2.00"), actor=tickets.Actor.staff(agent)
    )
    if comp.status != "approved":  # outside the standard: a supervisor decides
        compensation_approve(compensation=comp, actor=tickets.Actor.staff(supervisor))
    notes = ticket.messages.filter(internal=True)
    assert [m.body for m in notes] == ["补偿已批准，请跟进顾客"]
    assert notes[0].author_kind == "system"


def test_sla_warning_rule_acts_after_the_timers_chunk(
    shop, make_rule, django_capture_on_commit_callbacks
):
    from sla.models import Timer
    from tests.factories import fire_timer

    make_rule(event="sla.warning", actions=[{"type": "set_priority", "value": "high"}])
    ticket = make_ticket(shop)
    timer = Timer.objects.get(ticket=ticket, kind="first_response_warning")
    Timer.objects.filter(pk=timer.pk).update(state="claimed")
    with time_machine.travel(timer.due_at + dt.timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            fire_timer(timer.pk)
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla", data__what="warning").exists()
    ticket.refresh_from_db()
    assert ticket.priority == "high"


# --- conditions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("dispute_type", "eq", "damaged_on_arrival", True),
        ("dispute_type", "eq", "spoiled_food", False),
        ("dispute_type", "ne", "spoiled_food", True),
        ("status", "in", ["new", "open"], True),
        ("status", "not_in", ["new", "open"], False),
        ("status", "not_in", ["closed"], True),
        ("order.amount", "gte", "21.00", True),
        ("order.amount", "gte", "21.01", False),
        ("order.amount", "lte", "21.00", True),
        ("order.amount", "lte", "20.99", False),
        ("order.amount", "eq", "21", True),
        ("description", "contains", "碎", True),
        ("description", "contains", "破损", False),
        ("description", "contains", ["破损", "瓶子"], True),
        ("customer.name", "eq", "张三", True),
        ("customer.name", "eq", " 张三 ", True),
        ("order.courier", "in", ["sf", "yto"], True),  # case does not matter
        ("order.skus", "contains", "GLASS-500", True),
        ("order.skus", "not_in", ["GLASS-500"], False),
        ("tags", "contains", "vip", False),
        ("tags", "not_in", ["vip"], True),
        ("order.perishable", "eq", False, True),
        ("awaiting_reply", "eq", True, True),
        ("compensation.amount", "gte", "1.00", False),  # no compensation: no match
        ("compensation.status", "ne", "approved", True),
    ],
)
def test_each_operator(shop, field, op, value, expected):
    ticket = make_ticket(shop)
    cleaned = services.spec.rule_clean(
        {
            "name": "x",
            "event": "ticket.created",
            "conditions": {"all": [{"field": field, "op": op, "value": value}]},
            "actions": [{"type": "add_tag", "value": "t"}],
        },
        shop=shop,
    )
    assert conditions_match(cleaned["conditions"], Facts(ticket)) is expected


def test_money_is_compared_as_decimal_never_float(shop):
    data = ticket_payload()
    data["order"]["amount"] = "0.30"
    ticket = make_ticket(shop, order=data["order"])
    # 0.1 + 0.2 != 0.3 in floats; as decimals 0.30 >= 0.30 holds.
    assert conditions_match(
        {"all": [{"field": "order.amount", "op": "gte", "value": "0.30"}]}, Facts(ticket)
    )
    assert not conditions_match(
        {"all": [{"field": "order.amount", "op": "gte", "value": "0.31"}]}, Facts(ticket)
    )


def test_all_and_any(shop):
    ticket = make_ticket(shop)
    yes = {"field": "status", "op": "eq", "value": "new"}
    no = {"field": "status", "op": "eq", "value": "open"}
    assert conditions_match({"all": [yes], "any": [no, yes]}, Facts(ticket))
    assert not conditions_match({"all": [yes, no]}, Facts(ticket))
    assert not conditions_match({"any": [no]}, Facts(ticket))
    assert conditions_match({}, Facts(ticket))


# --- actions ------------------------------------------------------------------------------------


def test_assign_transition_remove_tag_and_notify_assignee(shop, make_rule):
    agent = staff_member(shop, "agent", username="wang")
    make_rule(
        actions=[
            {"type": "add_tag", "value": "a"},
            {"type": "add_tag", "value": "b"},
            {"type": "remove_tag", "value": "a"},
            {"type": "assign", "value": "wang"},
            {"type": "transition", "value": "open"},
            {"type": "notify", "value": "assignee"},
        ]
    )
    ticket = make_ticket(shop)
    ticket.refresh_from_db()
    assert tag_names(ticket) == {"b"}
    assert ticket.assignee == agent and ticket.status == "open"
    assert Notification.objects.filter(recipient=agent, kind="automation").count() == 1


def test_assign_auto_uses_automatic_assignment(shop, make_rule):
    from assignment.services import assignment_settings_update, availability_set

    agent = staff_member(shop, "agent", username="li")
    availability_set(user=agent, available=True)
    make_rule(event="ticket.updated", actions=[{"type": "assign", "value": "auto"}])
    ticket = make_ticket(shop)  # manual mode: nobody assigned at creation
    assert ticket.assignee_id is None
    assignment_settings_update(shop=shop, data={"mode": "round_robin"})
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
    tickets.ticket_tag_add(ticket=ticket, name="x", actor=tickets.Actor.system())
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_the_assignment_a_new_ticket_gets_is_part_of_its_creation_not_an_update(shop, make_rule):
    """ticket.updated rules see later changes; a ticket handed to an agent as it is created (an
    automatic mode) was not updated — it was created assigned."""
    from assignment.services import assignment_settings_update, availability_set

    availability_set(user=staff_member(shop, "agent", username="li"), available=True)
    assignment_settings_update(shop=shop, data={"mode": "round_robin"})
    make_rule(event="ticket.updated", actions=[{"type": "add_tag", "value": "changed"}])
    ticket = make_ticket(shop)
    ticket.refresh_from_db()
    assert ticket.assignee is not None and ticket.tag_list == []
    tickets.ticket_assign(ticket=ticket, assignee=None, actor=tickets.Actor.system())
    ticket.refresh_from_db()
    assert [tag.name for tag in ticket.tag_list] == ["changed"]


def replied_ticket(shop, make_rule, *, title: str):
    """A ticket created inside the contact window (11:00 in Shanghai) under a rule that replies
    with a new template of that title."""
    template = ReplyTemplate.objects.create(
        shop=shop, category="apology", title=title, body="亲，{order_no} 我们已收到"
    )
    make_rule(actions=[{"type": "reply", "value": template.pk}])
    inside = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with time_machine.travel(inside, tick=False):
        return make_ticket(shop)


def test_reply_within_the_contact_window_is_sent_and_outside_it_deferred_not_dropped(
    shop, make_rule, django_capture_on_commit_callbacks
):
    sent = replied_ticket(shop, make_rule, title="致歉")
    assert (
        OutboundContact.objects.filter(ticket=sent, purpose="rule_reply").get().body
        == "亲，T20261122001 我们已收到"
    )
    night = dt.datetime(2026, 12, 7, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    data = ticket_payload()
    data["order"]["order_no"] = "N1"
    data["customer"]["external_id"] = "c-night"
    with time_machine.travel(night, tick=False):
        late = make_ticket(shop, order=data["order"], customer=data["customer"])
    assert not OutboundContact.objects.filter(ticket=late).exists()
    firing = RuleFiring.objects.get(ticket=late)
    assert (firing.state, firing.outcome) == (FiringState.PENDING, Outcome.DEFERRED)
    assert firing.due_at == dt.datetime(
        2026, 12, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))
    )
    # The next morning the sweep sends it.
    from automation.sweep import automation_sweep

    with time_machine.travel(firing.due_at + dt.timedelta(minutes=1), tick=False):
        ids = []
        with django_capture_on_commit_callbacks(execute=True):
            automation_sweep(enqueue=ids.extend)
        assert ids == [firing.pk]
        assert engine.firing_due(firing_id=firing.pk) == Outcome.OK
    assert OutboundContact.objects.filter(ticket=late, purpose="rule_reply").count() == 1
    firing.refresh_from_db()
    assert firing.state == "done" and [d["result"] for d in firing.detail] == ["deferred", "ok"]


# --- order, disabled, versions ------------------------------------------------------------------


def test_rules_run_in_position_order_and_each_sees_what_the_earlier_did(shop, make_rule):
    make_rule(
        name="second",
        position=2,
        conditions={"all": [{"field": "priority", "op": "eq", "value": "urgent"}]},
        actions=[{"type": "add_tag", "value": "saw-urgent"}],
    )
    make_rule(name="first", position=1, actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = make_ticket(shop)
    assert tag_names(ticket) == {"saw-urgent"}
    assert [e.data["name"] for e in automation_events(ticket)] == ["first", "second"]


def test_disabled_and_deleted_rules_do_nothing(shop, make_rule):
    make_rule(enabled=False, actions=[{"type": "add_tag", "value": "off"}])
    deleted = make_rule(actions=[{"type": "add_tag", "value": "deleted"}])
    services.rule_delete(rule=deleted)
    assert tag_names(make_ticket(shop)) == set()


def test_other_shops_rules_never_act(shop, other_shop, make_rule):
    make_rule(shop=other_shop, actions=[{"type": "add_tag", "value": "other"}])
    assert tag_names(make_ticket(shop)) == set()


def test_an_edit_is_a_new_version_and_the_timeline_names_the_one_that_acted(shop, make_rule):
    rule = make_rule(actions=[{"type": "add_tag", "value": "v1"}])
    first = make_ticket_for(shop, order_no="A1")
    services.rule_update(rule=rule, data={"actions": [{"type": "add_tag", "value": "v2"}]})
    services.rule_update(rule=rule, data={"enabled": True, "position": 3})  # not a new version
    rule.refresh_from_db()
    assert rule.version == 2
    second = make_ticket_for(shop, order_no="A2")
    assert [e.data["version"] for e in automation_events(first)] == [1]
    assert [e.data["version"] for e in automation_events(second)] == [2]
    versions = RuleVersion.objects.filter(rule=rule).order_by("version")
    assert [v.actions[0]["value"] for v in versions] == ["v1", "v2"]


# --- safety -------------------------------------------------------------------------------------


def test_a_rule_never_triggers_itself_on_its_own_change(shop, make_rule):
    loop = make_rule(
        event="ticket.updated",
        actions=[{"type": "add_tag", "value": "again"}, {"type": "set_priority", "value": "high"}],
    )
    ticket = make_ticket(shop)
    tickets.ticket_priority_set(ticket=ticket, priority="low", actor=tickets.Actor.system())
    # Its own tag and priority changes are ticket.updated events too: it acted once, not again.
    assert RuleFiring.objects.filter(rule=loop).count() == 1


def test_chains_of_rules_are_bounded(shop, make_rule):
    # Two rules that keep changing the ticket in turn would ping-pong forever without a bound.
    make_rule(event="ticket.updated", name="a", actions=[{"type": "set_priority", "value": "high"}])
    make_rule(event="ticket.updated", name="b", actions=[{"type": "set_priority", "value": "low"}])
    ticket = make_ticket(shop)
    tickets.ticket_tag_add(ticket=ticket, name="start", actor=tickets.Actor.system())
    fired = RuleFiring.objects.filter(ticket=ticket).count()
    assert 2 <= fired <= engine.MAX_CHAIN_DEPTH * 2


def test_a_failing_action_is_logged_and_blocks_neither_the_write_nor_other_actions_or_rules(
    shop, make_rule
):
    make_rule(
        name="bad",
        position=1,
        actions=[
            {"type": "transition", "value": "resolve"},  # a new ticket cannot be resolved
            {"type": "add_tag", "value": "after-failure"},
        ],
    )
    make_rule(name="next", position=2, actions=[{"type": "add_tag", "value": "next-rule"}])
    ticket = make_ticket(shop)  # created all the same
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert tag_names(ticket) == {"after-failure", "next-rule"}
    bad = automation_events(ticket)[0]
    assert bad.data["outcome"] == "failed"
    assert bad.data["actions"][0]["result"] == "failed" and bad.data["actions"][0]["error"]
    assert RuleFiring.objects.get(rule__name="bad").outcome == "failed"


def test_an_unexpected_error_in_an_action_is_contained(shop, make_rule, monkeypatch):
    make_rule(
        actions=[{"type": "add_tag", "value": "boom"}, {"type": "set_priority", "value": "high"}]
    )

    def boom(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(engine.tickets, "ticket_tag_add", boom)
    ticket = make_ticket(shop)
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert automation_events(ticket)[0].data["actions"][0]["error"].startswith("RuntimeError")


def test_rules_never_grant_compensation(shop):
    with pytest.raises(services.ApplicationError) as info:
        services.rule_create(
            shop=shop,
            data={
                "name": "x",
                "event": "ticket.created",
                "actions": [{"type": "compensate", "value": "5.00"}],
            },
        )
    assert "actions[0].type" in info.value.fields


def test_now_is_when_it_acted(shop, make_rule):
    make_rule()
    ticket = make_ticket(shop)
    assert RuleFiring.objects.get(ticket=ticket).done_at <= timezone.now()


def test_the_rules_a_process_keeps_follow_every_change(shop, make_rule):
    """enabled_rules keeps each shop's prepared rules between events; an edit, a new rule, a
    disabled or deleted one is seen by the very next event, in the same process."""
    event = "ticket.created"

    def names():
        return [rule.name for rule in engine.enabled_rules(shop_id=shop.pk, event=event)]

    first = make_rule(name="first", actions=[{"type": "add_tag", "value": "a"}])
    assert names() == ["first"]
    assert (
        engine.enabled_rules(shop_id=shop.pk, event=event)[0]
        is (engine.enabled_rules(shop_id=shop.pk, event=event)[0])
    )  # kept, not read again
    services.rule_update(rule=first, data={"actions": [{"type": "add_tag", "value": "b"}]})
    (edited,) = engine.enabled_rules(shop_id=shop.pk, event=event)
    assert edited.actions == [{"type": "add_tag", "value": "b"}]
    second = make_rule(name="second")
    assert names() == ["first", "second"]
    services.rule_update(rule=first, data={"enabled": False})
    assert names() == ["second"]
    services.rule_delete(rule=second)
    assert names() == []


def test_a_rules_reply_on_the_timeline_names_the_template_as_sent(
    shop, make_rule, django_assert_num_queries
):
    """The automation event keeps the title of the template the rule replied with: the timeline
    reads no template per event, and still names it after the template is renamed or deleted."""
    from automation.templatetags.automation_tags import rule_action

    ticket = replied_ticket(shop, make_rule, title="致歉 · Apology")
    (event,) = automation_events(ticket)
    (action,) = event.data["actions"]
    assert (action["result"], action["title"]) == ("ok", "致歉 · Apology")
    ReplyTemplate.objects.filter(shop=shop).delete()
    with django_assert_num_queries(0), translation.override("en"):
        assert rule_action(action) == "Reply to the customer with the template: Apology"


def test_the_created_ticket_shows_what_rules_did_and_keeps_what_they_never_change(
    shop, agent, make_rule, django_assert_num_queries
):
    """ticket_create hands back its ticket as the rules left it (priority, assignee, tags) without
    reading again what no rule changes: its shop, customer, order and items, dispute type,
    judgments, compensations and evidence (the API's answer and the batch check use them)."""
    make_rule(
        actions=[
            {"type": "set_priority", "value": "urgent"},
            {"type": "add_tag", "value": "auto"},
            {"type": "assign", "value": agent.username},
        ]
    )
    ticket = make_ticket(shop)
    assert (ticket.priority, ticket.assignee_id) == ("urgent", agent.pk)
    with django_assert_num_queries(0):
        assert ticket.shop.pk == shop.pk and ticket.customer.external_id
        assert [item.sku for item in ticket.order.items.all()]
        assert ticket.dispute_type.code == "damaged_on_arrival"
        assert (
            list(ticket.judgments.all()),
            list(ticket.compensations.all()),
            list(ticket.attachments.all()),
        ) == ([], [], [])
    assert [tag.name for tag in ticket.tags.all()] == ["auto"]
    assert ticket.assignee.username == agent.username
