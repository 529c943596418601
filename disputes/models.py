from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Party(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    COURIER = "courier", _("Courier")
    CUSTOMER = "customer", _("Customer")
    MANUFACTURER = "manufacturer", _("Manufacturer")
    NONE = "none", _("No fault")


class ShopPolicy(models.Model):
    """One version of a shop's compensation standard. A change is a new row; old rows stay,
    so a compensation always points at the numbers it was computed under."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    # disputes.facts.Policy's fields, decimals as strings.
    values = models.JSONField()
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop policy")
        verbose_name_plural = _("shop policies")
        ordering = ["shop", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="policy_unique_shop_version")
        ]

    def __str__(self):
        return f"{self.shop.code} policy v{self.version}"


class Judgment(models.Model):
    """Who bears the fault, as confirmed by an agent. Versioned: a revision is a new row."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="judgments")
    version = models.PositiveIntegerField()
    party = models.CharField(_("party"), max_length=20, choices=Party.choices)
    reason = models.TextField(_("reason"), blank=True)
    note = models.TextField(_("note"), blank=True)
    suggested_party = models.CharField(max_length=20, blank=True)
    rules = models.JSONField(default=list, blank=True)  # [{"id": "R5", "text": ...}] as suggested
    penalty_exposure = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticket", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "version"], name="judgment_unique_ticket_version"
            )
        ]

    @property
    def overrides_suggestion(self) -> bool:
        return bool(self.suggested_party) and self.suggested_party != self.party


class CompensationType(models.TextChoices):
    REFUND = "refund", _("Refund")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    RESHIP = "reship", _("Re-ship")
    REPAIR = "repair", _("Repair")
    COUPON = "coupon", _("Coupon")
    CASH = "cash", _("Cash (red packet / transfer)")
    RETURN_SHIPPING_SUBSIDY = "return_shipping_subsidy", _("Return shipping subsidy")
    COURIER_CLAIM = "courier_claim", _("Courier claim")


class CompensationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    EXECUTING = "executing", _("Executing")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# The compensation lifecycle, the shape of tickets.states.TRANSITIONS: action -> (the statuses it
# may start from, the status it leads to). disputes.services.compensation_move applies it.
COMPENSATION_TRANSITIONS = {
    "approve": (frozenset({CompensationStatus.PENDING_APPROVAL}), CompensationStatus.APPROVED),
    "reject": (frozenset({CompensationStatus.PENDING_APPROVAL}), CompensationStatus.REJECTED),
    # The approved instruction went out to the shop backend's webhook.
    "send": (frozenset({CompensationStatus.APPROVED}), CompensationStatus.EXECUTING),
    "execute": (
        frozenset({CompensationStatus.APPROVED, CompensationStatus.EXECUTING}),
        CompensationStatus.EXECUTED,
    ),
    "fail": (
        frozenset({CompensationStatus.APPROVED, CompensationStatus.EXECUTING}),
        CompensationStatus.FAILED,
    ),
    "cancel": (
        frozenset(
            {
                CompensationStatus.PROPOSED,
                CompensationStatus.PENDING_APPROVAL,
                CompensationStatus.APPROVED,
            }
        ),
        CompensationStatus.CANCELLED,
    ),
}


# What the amount column holds (max_digits=12, decimal_places=2): amounts are below 10^10.
AMOUNT_LIMIT = Decimal("10000000000")
# Goods, not money: the amount is the goods' value, which may be unknown (0) — e.g. the seal part
# the standard re-ships with goodwill for a leaking item (standard.py, rule reship_seal_part).
GOODS_TYPES = (CompensationType.RESHIP, CompensationType.EXCHANGE, CompensationType.REPAIR)
CLOSED_STATUSES = (
    CompensationStatus.REJECTED,
    CompensationStatus.EXECUTED,
    CompensationStatus.FAILED,
    CompensationStatus.CANCELLED,
)


class Compensation(models.Model):
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="compensations"
    )
    type = models.CharField(_("type"), max_length=30, choices=CompensationType.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    items = models.JSONField(default=list, blank=True)  # [{"sku", "quantity"}]
    note = models.TextField(blank=True)
    # The 2-选-1 pair put to the customer ([{"type", "amount"}]); this row is the one they chose.
    offered = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=CompensationStatus.choices, default=CompensationStatus.PROPOSED
    )
    within_standard = models.BooleanField(default=True)
    rule = models.CharField(max_length=100, blank=True)  # the standard's row it follows
    policy = models.ForeignKey(ShopPolicy, on_delete=models.PROTECT, related_name="compensations")
    proposed_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    external_ref = models.CharField(max_length=100, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="compensation_status_created"),
        ]
        constraints = [
            # What the books hold: 12 digits with 2 places, so below 10^10, and never negative.
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount__lt=AMOUNT_LIMIT),
                name="compensation_amount_fits",
            ),
            # Money still to be decided or paid is more than ¥0; goods (re-ship, exchange, repair)
            # may have no value given, and rows already closed stay as they were written.
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(type__in=GOODS_TYPES) | Q(status__in=CLOSED_STATUSES),
                name="compensation_money_above_zero",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} ¥{self.amount} ({self.get_status_display()})"
