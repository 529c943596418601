"""Writes for disputes, one module per subject; the decisions themselves are the plain functions
of rules.py and standard.py. Callers use `from disputes import services` (or import a name from
here); the modules:

- policy: the shop's versioned compensation standard, the shipping deadline, its own dispute types
- judgments: the facts a ticket gives the rules, suggested and recorded responsibility
- compensations: options, proposals against the agent's authority, decisions, execution
- checks: input checks they share
"""

from disputes.services.checks import (
    field_error,
    notes_bounded,
)
from disputes.services.compensations import (
    AUTHORITY_STATUSES,
    GRANTED_STATUSES,
    PENDING_STATUSES,
    amount_error,
    authority_used,
    compensation_approve,
    compensation_cancel,
    compensation_ceiling,
    compensation_granted,
    compensation_move,
    compensation_options,
    compensation_payload,
    compensation_propose,
    compensation_reject,
    compensation_report_executed,
    compensation_report_failed,
    compensation_totals,
    compensation_type_label,
    food_safety_escalate,
    is_granted,
    review_reasons,
)
from disputes.services.judgments import (
    judgment_create,
    judgment_latest,
    judgment_suggest,
    ticket_facts,
)
from disputes.services.policy import (
    FOOD_SAFETY_CODE,
    POLICY_FIELD_MESSAGES,
    PRIORITIES,
    dispute_type_create,
    policy_current,
    policy_of,
    policy_update,
    shipping_deadline,
)

__all__ = [
    "AUTHORITY_STATUSES",
    "FOOD_SAFETY_CODE",
    "GRANTED_STATUSES",
    "PENDING_STATUSES",
    "POLICY_FIELD_MESSAGES",
    "PRIORITIES",
    "amount_error",
    "authority_used",
    "compensation_approve",
    "compensation_cancel",
    "compensation_ceiling",
    "compensation_granted",
    "compensation_move",
    "compensation_options",
    "compensation_payload",
    "compensation_propose",
    "compensation_reject",
    "compensation_report_executed",
    "compensation_report_failed",
    "compensation_totals",
    "compensation_type_label",
    "dispute_type_create",
    "field_error",
    "food_safety_escalate",
    "is_granted",
    "judgment_create",
    "judgment_latest",
    "judgment_suggest",
    "notes_bounded",
    "policy_current",
    "policy_of",
    "policy_update",
    "review_reasons",
    "shipping_deadline",
    "ticket_facts",
]
