from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AnalyticsSettings(models.Model):
    """A shop's early-warning thresholds (DOMAIN.md §7). A shop without a row uses the defaults.
    The batch-alert threshold and window are not here: they are the compensation policy's
    (disputes.ShopPolicy: batch_alert_threshold, batch_alert_window_days), shared with rule R7."""

    DEFAULT_COURIER_THRESHOLD = Decimal("5.00")
    DEFAULT_SATISFACTION_TARGET = Decimal("4.00")

    shop = models.OneToOneField(
        "shops.Shop", on_delete=models.CASCADE, related_name="analytics_settings"
    )
    # Complaints per 1,000 shipments above which a courier is flagged.
    courier_complaint_threshold = models.DecimalField(
        _("courier complaints per 1,000 shipments threshold"),
        max_digits=8,
        decimal_places=2,
        default=DEFAULT_COURIER_THRESHOLD,
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Average survey score (1-5) below which an agent is flagged for follow-up.
    satisfaction_target = models.DecimalField(
        _("satisfaction target"),
        max_digits=3,
        decimal_places=2,
        default=DEFAULT_SATISFACTION_TARGET,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")


class ShipmentStat(models.Model):
    """How many parcels a shop handed to one courier on one day (shop time), as the shop reported.
    A later report for the same day and courier replaces the count."""

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField(_("date"))
    courier = models.CharField(_("courier"), max_length=50)
    shipments = models.PositiveIntegerField(_("shipments"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shipment count")
        verbose_name_plural = _("shipment counts")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "date", "courier"], name="shipmentstat_unique_shop_date_courier"
            )
        ]


class BatchAlert(models.Model):
    """Quality tickets on one SKU + batch reached the shop's threshold within its window.
    At most one unresolved alert per shop+SKU+batch (a partial unique constraint: concurrent
    ticket creation cannot make two)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sku = models.CharField(_("SKU"), max_length=100)
    batch_no = models.CharField(_("batch number"), max_length=100)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    threshold = models.PositiveIntegerField(_("threshold"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    tickets = models.ManyToManyField(
        "tickets.Ticket", through="BatchAlertTicket", related_name="batch_alerts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("batch quality alert")
        verbose_name_plural = _("batch quality alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "sku", "batch_no"],
                condition=~Q(status="resolved"),
                name="batchalert_one_unresolved",
            )
        ]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"], name="batchalert_shop_status")
        ]

    def __str__(self):
        return f"{self.sku} / {self.batch_no}"


class BatchAlertTicket(models.Model):
    """A ticket counted by an alert: the mark that it belongs to a batch problem."""

    alert = models.ForeignKey(BatchAlert, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "ticket"], name="batchalertticket_unique")
        ]


# The party key of a ticket with no judgment yet (DailyStat.Dimension.PARTY).
UNJUDGED = "unjudged"


class DailyStat(models.Model):
    """The dashboard's rollup: figures of one shop's tickets created on one shop-local day (or,
    for `sku_month`, one month), of one dispute type (`type_id`; 0 = all types together), broken
    down by one dimension. Derived data only: analytics.rollup rewrites a day's rows from the
    tickets whenever a DailyStatStale marker says that day changed; nothing else writes here."""

    class Dimension(models.TextChoices):
        TOTAL = "total", "total"  # key ""
        HOUR = "hour", "hour"  # key "0".."23", shop-local hour of creation
        AGENT = "agent", "agent"  # key: the assignee's user id
        COURIER = "courier", "courier"  # key: Order.courier
        PARTY = "party", "party"  # key: the latest judgment's party, or "unjudged"
        COMP_TYPE = "comp_type", "comp_type"  # key: Compensation.type
        SKU = "sku", "sku"  # key: OrderItem.sku
        SKU_MONTH = "sku_month", "sku_month"  # SKU per month (date = the 1st), all types only

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    type_id = models.PositiveIntegerField()  # DisputeType id, 0 for all types
    key = models.CharField(max_length=100, blank=True)
    tickets = models.PositiveIntegerField(db_default=0)
    responded = models.PositiveIntegerField(db_default=0)
    responded_in_time = models.PositiveIntegerField(db_default=0)
    resolved = models.PositiveIntegerField(db_default=0)
    resolved_in_time = models.PositiveIntegerField(db_default=0)
    breached = models.PositiveIntegerField(db_default=0)
    first_response_total = models.DurationField(null=True)  # sum over the responded tickets
    resolution_total = models.DurationField(null=True)  # sum over the resolved tickets
    surveys_answered = models.PositiveIntegerField(db_default=0)
    score_total = models.PositiveIntegerField(db_default=0)
    satisfied = models.PositiveIntegerField(db_default=0)
    # Compensations counted as cost (approved, executing, executed) of these tickets.
    compensations = models.PositiveIntegerField(db_default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, db_default=Decimal("0"))
    recovered = models.DecimalField(
        max_digits=14, decimal_places=2, db_default=Decimal("0")
    )  # courier claims

    class Meta:
        constraints = [
            # Also the index every dashboard read uses (shop, dimension, type, date range).
            models.UniqueConstraint(
                fields=["shop", "dimension", "type_id", "date", "key"], name="dailystat_unique"
            ),
        ]
        # Recomputing a day deletes all its rows first.
        indexes = [models.Index(fields=["shop", "date"], name="dailystat_shop_date")]


class DailyStatStale(models.Model):
    """A change to a ticket (or its order, items, judgments, compensations, survey) created at
    `created_at`: that shop-local day's DailyStat rows must be recomputed. Written by database
    triggers (migration analytics 0002), so no write path, ORM update or raw SQL can forget it.
    created_at NULL: the whole shop (a new time zone, or stats never computed)."""

    shop_id = models.BigIntegerField()
    created_at = models.DateTimeField(null=True)
    marked_at = models.DateTimeField(
        db_default=Now()
    )  # when the change was made (its transaction's start)

    class Meta:
        indexes = [
            models.Index(fields=["shop_id", "created_at"], name="dailystatstale_shop_created")
        ]
