"""The plain facts the dispute engine reasons about, and the shop's compensation standard (Policy).

Pure Python: no Django, no database. `rules.py` (responsibility, DOMAIN.md §4) and `standard.py`
(compensation, DOMAIN.md §5) take these frozen dataclasses and return plain values, so every rule
can be tested with a handful of literals.

Money is always `Decimal` with 2 places; a float anywhere is a bug (`money()` refuses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

LOGISTICS_EVENTS = ("picked_up", "in_transit", "delivered", "signed", "returned", "refused", "lost")
# Why a parcel came back to the shop (API.md); the first three are the customer's doing (DOMAIN.md §4 R6).
RETURN_REASONS = ("wrong_address", "unreachable", "refused_without_reason", "other", "")


def money(value: Decimal | int | str) -> Decimal:
    """`value` as CNY with 2 places, rounded half up. Floats are refused: they cannot hold 0.10."""
    if isinstance(value, (float, bool)):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ItemFact:
    """One order line. `affected_quantity` is how many units the dispute is about (0 = none)."""

    sku: str
    name: str
    batch_no: str
    unit_price: Decimal
    quantity: int
    perishable: bool
    affected_quantity: int

    def __post_init__(self):
        if not isinstance(self.unit_price, Decimal):
            raise TypeError(f"unit_price must be a Decimal, not {type(self.unit_price).__name__}")
        if not 0 <= self.affected_quantity <= self.quantity:
            raise ValueError("affected_quantity must be between 0 and quantity")


@dataclass(frozen=True)
class LogisticsFact:
    """One courier event. `authorized` only matters for `signed` (did the customer authorise the
    signer?), `reason` only for `returned` / `refused` (wrong_address | unreachable |
    refused_without_reason | other | "")."""

    event: str  # picked_up | in_transit | delivered | signed | returned | refused | lost
    at: datetime
    signed_by: str = ""
    authorized: bool | None = None
    reason: str = ""

    def __post_init__(self):
        if self.event not in LOGISTICS_EVENTS:
            raise ValueError(f"unknown logistics event {self.event!r}")
        if self.reason not in RETURN_REASONS:
            raise ValueError(f"unknown return reason {self.reason!r}")


@dataclass(frozen=True)
class TicketFacts:
    """Everything the rules look at for one ticket. `same_batch_ticket_count` counts quality
    tickets on the same SKU+batch within `Policy.batch_alert_window_days`, this one included
    (ticket_facts counts them only where the rules read the count: a quality ticket, or one
    judged as spoiled food; 0 for the others)."""

    dispute_type: str
    reported_at: datetime
    order_amount: Decimal | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    courier: str
    items: tuple[ItemFact, ...]
    logistics: tuple[LogisticsFact, ...]
    has_photo: bool
    same_batch_ticket_count: int
    now: datetime
    # The dispute type's category (ticket_facts gives it; "" = the global type's of that code).
    dispute_category: str = ""

    @property
    def quality_type(self) -> bool:
        """A quality ticket (disputes.quality), by the category and the rules the type follows."""
        from disputes.quality import is_quality, is_quality_code

        if not self.dispute_category:
            return is_quality_code(self.dispute_type)
        return is_quality(category=self.dispute_category, rule_code=self.dispute_type)

    def __post_init__(self):
        if self.order_amount is not None and not isinstance(self.order_amount, Decimal):
            raise TypeError(
                f"order_amount must be a Decimal, not {type(self.order_amount).__name__}"
            )


# --- The compensation standard ------------------------------------------------------------------

# Fields that are money (2 places) and fields that are ratios (0..1); every other field is an int.
MONEY_FIELDS = (
    "goodwill_step",
    "goodwill_total_cap",
    "minor_defect_goodwill_min",
    "return_shipping_cap",
    "agent_authority",
    "food_safety_min_claim",
    "frequent_claimant_amount",
)
RATIO_FIELDS = ("goodwill_price_ratio_cap", "late_ship_penalty_rate")
# Ints that must be at least 1 (0 would make every ticket a batch alert / an empty window).
POSITIVE_INT_FIELDS = ("batch_alert_threshold", "batch_alert_window_days", "risk_window_days")
# Money must fit the amount columns it ends up in (12 digits, 2 places: below 10^10); counts (days,
# hours, multiples, points) stay sane, and within what a timedelta can hold.
MONEY_LIMIT = Decimal("10000000000")
INT_LIMIT = 10000


@dataclass(frozen=True)
class Policy:
    """A shop's compensation standard (DOMAIN.md §5, seed 002 天猫售后处理标准) and the numbers of
    the responsibility rules (§4). Every value is a per-shop setting; these are the defaults."""

    goodwill_step: Decimal = Decimal("2.00")  # one goodwill offer (赔偿2元)
    goodwill_total_cap: Decimal = Decimal(
        "5.00"
    )  # goodwill per ticket without approval (总计不超过5元)
    minor_defect_goodwill_min: Decimal = Decimal("1.00")  # scratch/bubble: ¥1–2 (赔偿1~2元)
    return_shipping_cap: Decimal = Decimal(
        "13.00"
    )  # return shipping the shop subsidises (13元以内补差价)
    goodwill_price_ratio_cap: Decimal = Decimal(
        "0.50"
    )  # goodwill instead of a return ≤ half the price
    agent_authority: Decimal = Decimal("50.00")  # cash-equivalent an agent may grant per ticket
    perishable_window_days: int = 7  # after-sales window for perishables, from delivery
    batch_alert_threshold: int = 3  # quality tickets on one SKU+batch ...
    batch_alert_window_days: int = 30  # ... within this many days → batch alert
    ship_within_hours: int = 72  # ship within 72 h of payment (seed: 七十二小时之内)
    late_ship_penalty_rate: Decimal = Decimal("0.05")  # else 5 % of the order amount ...
    late_ship_penalty_points: int = 3  # ... and 3 points
    courier_usual_transit_hours: int = 72  # transit longer than this is the courier's delay
    food_safety_min_claim: Decimal = Decimal("1000.00")  # 食品安全法 Art. 148: at least ¥1,000
    food_safety_price_multiple: int = 10  # ... 10 × the price
    food_safety_loss_multiple: int = 3  # ... or 3 × the loss
    # Risk (API.md "Risk"): a customer with more than this many tickets, or more than this much
    # granted compensation, within the window is a frequent claimant.
    risk_window_days: int = 90
    frequent_claimant_tickets: int = 3
    frequent_claimant_amount: Decimal = Decimal("200.00")

    def validate(self) -> dict[str, str]:
        """Field errors of this policy (wrong type, negative, ratio > 1); empty when valid."""
        errors = {}
        for name in field_names():
            error = _field_error(name, getattr(self, name))
            if error:
                errors[name] = error
        return errors

    def as_dict(self) -> dict[str, str | int]:
        """JSON-ready: money and ratios as decimal strings ("5.00", "0.50"), counts as ints."""
        return {
            name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in self._items()
        }

    def to_json(self) -> dict[str, str | int]:
        """Same as `as_dict()`: what a policy version stores."""
        return self.as_dict()

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Policy:
        """A stored version back to a Policy (missing fields take the defaults); ValueError if invalid."""
        return policy_from_dict(data)

    @staticmethod
    def errors_for(values: Mapping[str, object]) -> dict[str, str]:
        """Field errors of raw (JSON) values, e.g. a PATCH body merged over the current version."""
        return policy_from_changes(Policy(), values)[1]

    def _items(self):
        return ((name, getattr(self, name)) for name in field_names())


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Policy))


def _field_error(name: str, value: object) -> str:
    """Why `value` is not acceptable for the already-parsed field `name` ("" when it is)."""
    if name in MONEY_FIELDS or name in RATIO_FIELDS:
        if not isinstance(value, Decimal) or not value.is_finite():
            return "Must be a decimal number."
        if value < 0:
            return "Must not be negative."
        if name in MONEY_FIELDS and value >= MONEY_LIMIT:
            return "Must be less than 10,000,000,000."
        if name in MONEY_FIELDS and not _whole_cents(value):
            return "At most 2 decimal places."
        if name in RATIO_FIELDS and value > 1:
            return "Must be between 0 and 1."
        return ""
    if not isinstance(value, int) or isinstance(value, bool):
        return "Must be a whole number."
    if name in POSITIVE_INT_FIELDS and value < 1:
        return "Must be at least 1."
    if value < 0:
        return "Must not be negative."
    if value > INT_LIMIT:
        return "Must be at most 10,000."
    return ""


def _whole_cents(value: Decimal) -> bool:
    try:
        return value == value.quantize(CENT)
    except InvalidOperation:  # too many digits to hold in cents
        return False


def _parse(name: str, raw: object) -> object:
    """Turn a JSON value into the field's type; anything unusable is returned as-is so that
    `_field_error` reports it. Floats from JSON are read through their decimal text ("0.5")."""
    if isinstance(raw, bool) or raw is None:
        return raw
    if name in MONEY_FIELDS or name in RATIO_FIELDS:
        if isinstance(raw, (int, float, str, Decimal)):
            try:
                value = Decimal(str(raw).strip())
            except InvalidOperation:
                return raw
            if name in MONEY_FIELDS and value.is_finite() and _whole_cents(value):
                return value.quantize(CENT)
            return value
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return raw


def policy_from_changes(
    base: Policy, changes: Mapping[str, object]
) -> tuple[Policy, dict[str, str]]:
    """Apply a PATCH body to `base`: returns (new policy, {}) or (base, field errors).

    Unknown fields, wrong types ("abc", true, null, lists), negative values, ratios above 1 and
    money with more than 2 decimal places are errors; the API answers them with a 400.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    known = set(field_names())
    for name, raw in changes.items():
        if name not in known:
            errors[name] = "Unknown policy field."
            continue
        value = _parse(name, raw)
        error = _field_error(name, value)
        if error:
            errors[name] = error
        else:
            parsed[name] = value
    if errors:
        return base, errors
    values = dict(base._items())
    values.update(parsed)
    return Policy(**values), {}


def policy_from_dict(data: Mapping[str, object]) -> Policy:
    """A stored policy (e.g. `as_dict()` saved as JSON) back to a Policy; missing fields take the
    defaults. Raises ValueError with the field errors if the data is invalid."""
    policy, errors = policy_from_changes(Policy(), data)
    if errors:
        raise ValueError(errors)
    return policy
