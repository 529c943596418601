"""The domain events and extension points the core uses to reach the features (aftersales.hooks)."""

import pytest
from django.db import transaction

from aftersales import hooks


def test_the_features_subscribe_to_ticket_created_in_layer_order():
    assert hooks.subscribers(hooks.TICKET_CREATED) == [
        "disputes.subscribers.escalate_food_safety",
        "sla.subscribers.timers_for_new_ticket",
        "automation.subscribers.on_ticket_created",
        "analytics.subscribers.check_batch (after commit)",
    ]


def test_unknown_events_and_points_are_refused_at_once():
    with pytest.raises(KeyError, match="unknown domain event"):
        hooks.emit("ticket_creatd", ticket=None)
    with pytest.raises(KeyError, match="unknown domain event"):
        hooks.subscribe("ticket_creatd")
    with pytest.raises(KeyError, match="unknown extension point"):
        hooks.provide("ticket_pag_context")


@pytest.mark.django_db(transaction=True)
def test_after_commit_subscribers_wait_for_the_commit_and_never_undo_the_write(monkeypatch):
    calls = []
    monkeypatch.setitem(
        hooks._in_transaction, hooks.MESSAGE_ADDED, [lambda **kw: calls.append("in")]
    )
    monkeypatch.setitem(
        hooks._after_commit,
        hooks.MESSAGE_ADDED,
        [lambda **kw: calls.append("after"), lambda **kw: 1 / 0, lambda **kw: calls.append("next")],
    )
    with transaction.atomic():
        hooks.emit(hooks.MESSAGE_ADDED, ticket=None, message=None, actor=None)
        assert calls == ["in"]
    # A failing after-commit subscriber is logged; the others still run.
    assert calls == ["in", "after", "next"]

    calls.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        hooks.emit(hooks.MESSAGE_ADDED, ticket=None, message=None, actor=None)
        raise RuntimeError("rolled back")
    assert calls == ["in"]  # nothing after a rollback
