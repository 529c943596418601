"""How disputes takes part in the core (aftersales.hooks): what it does when a ticket is created,
and what it adds to the ticket's API body, its page's labels and its reply templates, and to the
customer's body and page (compensation, judgments)."""

from django.db.models import Prefetch
from django.utils.text import format_lazy
from django.utils.translation import gettext

from aftersales import hooks
from disputes import standard
from disputes.models import (
    CLOSED_STATUSES,
    Compensation,
    CompensationStatus,
    CompensationType,
    Judgment,
    Party,
)
from disputes.selectors import customer_compensation, customer_judgments_by_party
from disputes.services import (
    authority_used,
    food_safety_escalate,
    judgment_latest,
    policy_current,
    policy_of,
    ticket_facts,
)
from tickets.reply_templates import yuan


@hooks.subscribe(hooks.TICKET_CREATED)
def escalate_food_safety(*, ticket, **_):
    food_safety_escalate(ticket=ticket)


@hooks.provide(hooks.TICKET_OUTPUT_QUERYSET)
def judgments_and_compensations(queryset):
    """The API's ticket body shows the judgments (newest first) and the compensations."""
    return queryset.prefetch_related(
        Prefetch(
            "judgments", queryset=Judgment.objects.select_related("created_by").order_by("-version")
        ),
        Prefetch("compensations", queryset=Compensation.objects.order_by("created_at", "id")),
    )


@hooks.provide(hooks.WORKSPACE_LABELS)
def dispute_labels():
    return {
        "resolution": CompensationType,  # what the customer asks for uses the same words
        "compensation_status": CompensationStatus,
        "party": Party,
    }


MONEY_KEYS = ("granted", "pending", "recovered")


@hooks.provide(hooks.CUSTOMER_OUTPUT)
def customer_compensation_output(*, customer):
    """API.md "Customers": granted / pending / recovered over the customer's tickets."""
    totals = customer_compensation(customer_id=customer.pk)
    return {"compensation": {key: totals[key] for key in MONEY_KEYS}}


@hooks.provide(hooks.CUSTOMER_PAGE_SECTIONS)
def customer_compensation_and_judgments(*, customer):
    totals = customer_compensation(customer_id=customer.pk)
    return {
        "disputes": {
            "template": "disputes/_customer_history.html",
            "compensation": {key: totals[key] for key in MONEY_KEYS},
            "judgments": customer_judgments_by_party(customer_id=customer.pk),
        }
    }


@hooks.provide(hooks.REPLY_TEMPLATE_VALUES)
def compensation_words(*, ticket):
    """The refundable total and the standard's 2-选-1 pair, as compensation_options computes them
    (with the facts read once). The pair's words are lazy, so they come out in the language the
    template is filled in (the customer's, not the agent's page)."""
    values = {}
    try:
        policy = policy_of(policy_current(shop=ticket.shop))
        facts = ticket_facts(ticket=ticket, policy=policy)
        values["refundable_total"] = yuan(standard.refundable_total(facts))
        judgment = judgment_latest(ticket=ticket)
        options = standard.compensation_options(
            facts,
            policy,
            already_granted=authority_used(ticket=ticket),
            party=judgment.party if judgment else None,
        )
        pair = standard.two_options(options)
    except (ValueError, TypeError):  # facts the standard cannot read: the agent fills these in
        pair = []
    for index, option in enumerate(pair, start=1):
        label = (
            CompensationType(option.type).label
            if option.type in CompensationType.values
            else option.type
        )
        values[f"option_{index}"] = format_lazy("{} {}", label, yuan(option.amount))
        values[f"option_{index}_amount"] = yuan(option.amount)
    return values


@hooks.provide(hooks.MERGE_BLOCKERS)
def compensations_in_flight(*, ticket):
    """A ticket whose compensation is still on its way (proposed, waiting for a supervisor, approved
    or being executed) is not merged: the money would belong to a closed ticket. Compensation
    decisions lock the ticket's row too, so none starts while the merge holds it."""
    waiting = Compensation.objects.filter(ticket=ticket).exclude(status__in=CLOSED_STATUSES)
    return {
        f"compensation_{compensation.pk}": gettext(
            "Compensation #%(id)s (%(type)s ¥%(amount)s) is %(status)s: let it finish or cancel "
            "it first."
        )
        % {
            "id": compensation.pk,
            "type": CompensationType(compensation.type).label
            if compensation.type in CompensationType.values
            else compensation.type,
            "amount": f"{compensation.amount:.2f}",
            "status": CompensationStatus(compensation.status).label.lower(),
        }
        for compensation in waiting.order_by("id")
    }
