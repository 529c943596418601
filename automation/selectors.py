"""Reads of a shop's rules, scoped to the shop."""

from django.http import Http404

from automation.models import Rule, RuleFiring


def shop_rules(*, shop) -> list[Rule]:
    return list(Rule.objects.filter(shop=shop, deleted_at__isnull=True).order_by("position", "id"))


def shop_rule(*, shop, rule_id) -> Rule:
    """The shop's rule, else 404 (another shop's is not found either). `rule_id` comes from an
    `<int:…>` route."""
    rule = Rule.objects.filter(shop=shop, pk=rule_id, deleted_at__isnull=True).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


def rule_firings(*, rule: Rule, limit: int = 50) -> list[RuleFiring]:
    """The rule's latest firings, newest first, with their tickets' numbers."""
    return list(
        RuleFiring.objects.filter(rule=rule)
        .select_related("ticket")
        .only(
            "id",
            "version",
            "event",
            "state",
            "outcome",
            "detail",
            "due_at",
            "created_at",
            "done_at",
            "ticket__number",
        )
        .order_by("-created_at", "-id")[:limit]
    )
