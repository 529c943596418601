"""A shop's compensation standard (versioned policy, the shipping deadline it sets) and its
own dispute types."""

import datetime as dt
import re

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from aftersales.exceptions import ApplicationError
from disputes.facts import Policy, policy_from_changes
from disputes.models import (
    ShopPolicy,
)
from shops.config import shop_config
from shops.models import Shop
from tickets.models import DisputeType, Ticket
from tickets.services import Actor

# --- policy -----------------------------------------------------------------


def policy_current(*, shop: Shop) -> ShopPolicy:
    """The shop's latest policy version; version 1 (DOMAIN.md defaults) is made on first use.
    Kept per process until the shop's configuration changes (shops.config)."""
    return shop_config(shop.pk, "policy", lambda: _policy_latest(shop))


def _policy_latest(shop: Shop) -> ShopPolicy:
    row = ShopPolicy.objects.filter(shop=shop).order_by("-version").first()
    if row is not None:
        return row
    with transaction.atomic():
        Shop.objects.select_for_update().get(pk=shop.pk)  # one creator at a time
        row = ShopPolicy.objects.filter(shop=shop).order_by("-version").first()
        return row or ShopPolicy.objects.create(shop=shop, version=1, values=Policy().to_json())


def policy_of(row: ShopPolicy) -> Policy:
    """The version's values as a Policy, parsed once per row object: the row policy_current keeps
    serves every request of the process (a create parsed it twice, ~0.15 ms each), and a Policy
    is frozen. Values given to the row anew are parsed anew."""
    parsed = row.__dict__.get("_parsed_policy")
    if parsed is None or parsed[0] is not row.values:
        parsed = row._parsed_policy = (row.values, Policy.from_json(row.values))
    return parsed[1]


def shipping_deadline(*, ticket: Ticket) -> dt.datetime | None:
    """When the order must be shipped: `ship_within_hours` (72) of payment, the shop policy's one
    setting that rule R3 judges by and the SLA's shipping timer warns before."""
    if ticket.order.paid_at is None:
        return None
    policy = policy_of(policy_current(shop=ticket.shop))
    return ticket.order.paid_at + dt.timedelta(hours=policy.ship_within_hours)


@transaction.atomic
def policy_update(*, shop: Shop, changes: dict, actor: Actor) -> ShopPolicy:
    """A new version with `changes` applied; compensations already proposed keep theirs."""
    Shop.objects.select_for_update().get(pk=shop.pk)
    # Under the lock: the latest, not what this request or process read before.
    current = _policy_latest(shop)
    updated, errors = policy_from_changes(policy_of(current), changes)
    if errors:
        raise ApplicationError(
            "validation_error",
            gettext("The policy has invalid values."),
            fields={name: gettext(message) for name, message in errors.items()},
        )
    if updated.to_json() == current.values:
        return current
    return ShopPolicy.objects.create(
        shop=shop, version=current.version + 1, values=updated.to_json(), created_by=actor.user
    )


# disputes.facts' field messages (facts.py stays free of Django), for makemessages.
POLICY_FIELD_MESSAGES = (
    gettext_noop("Must be a decimal number."),
    gettext_noop("Must not be negative."),
    gettext_noop("Must be less than 10,000,000,000."),
    gettext_noop("At most 2 decimal places."),
    gettext_noop("Must be between 0 and 1."),
    gettext_noop("Must be a whole number."),
    gettext_noop("Must be at least 1."),
    gettext_noop("Must be at most 10,000."),
    gettext_noop("Unknown policy field."),
)


# --- dispute types -------------------------------------------------------------


PRIORITIES = ("low", "normal", "high", "urgent")
FOOD_SAFETY_CODE = "spoiled_food"


@transaction.atomic
def dispute_type_create(
    *,
    shop: Shop,
    code: str,
    name_zh: str,
    name_en: str,
    rules_as: str,
    default_priority: str = "",
    photo_required: bool | None = None,
) -> DisputeType:
    """A shop's own dispute type. It follows the rules of a global type (DOMAIN.md §2), takes
    that type's category, and by default its priority and evidence requirement; food safety
    stays urgent with a photo whatever is asked."""
    errors = {}
    code = (code or "").strip()
    if not code or not re.fullmatch(r"[a-z0-9_-]{1,50}", code):
        errors["code"] = gettext("Use 1-50 lower-case letters, digits, '_' or '-'.")
    elif DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop), code=code).exists():
        errors["code"] = gettext("The code '%(code)s' is taken.") % {"code": code}
    if not (name_zh or "").strip() and not (name_en or "").strip():
        errors["name_zh"] = gettext("Give the type a name.")
    base = DisputeType.objects.filter(shop__isnull=True, code=rules_as).first()
    if base is None:
        errors["rules_as"] = gettext("Choose one of the standard dispute types.")
    if default_priority and default_priority not in PRIORITIES:
        errors["default_priority"] = gettext("Choose one of the priorities.")
    if errors:
        raise ApplicationError(
            "validation_error", gettext("The dispute type has invalid fields."), fields=errors
        )
    food = base.rule_code == FOOD_SAFETY_CODE
    return DisputeType.objects.create(
        shop=shop,
        code=code,
        name_zh=(name_zh or name_en).strip()[:100],
        name_en=(name_en or name_zh).strip()[:100],
        category=base.category,
        default_priority="urgent" if food else (default_priority or base.default_priority),
        photo_required=True
        if food
        else (base.photo_required if photo_required is None else photo_required),
        rules_as=base.code,
    )
