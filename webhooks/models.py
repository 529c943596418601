import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = [
    "ticket.created",
    "ticket.status_changed",
    "ticket.sla_breached",
    "compensation.approved",
    "compensation.rejected",
]


class WebhookEndpoint(models.Model):
    """A shop backend's receiver. Deleting one deactivates it; its delivery log stays."""

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)  # ["*"] or a list of EVENT_TYPES
    # Kept in clear: it signs every delivery (HMAC), like Stripe's endpoint secrets.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class WebhookEvent(models.Model):
    """The outbox: written in the same transaction as the change it announces."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=50)
    data = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    @staticmethod
    def new_id() -> str:
        return f"evt_{uuid.uuid4().hex}"


class WebhookDelivery(models.Model):
    """One event to one endpoint, retried with backoff until delivered or 24 h have passed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        # The endpoint was removed before this was delivered: kept in the log, never sent.
        DROPPED = "dropped", _("Dropped (endpoint removed)")

    # No index of its own: delivery_unique_event_endpoint (event, endpoint) serves lookups by event.
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker owns the delivery until then; past it, a crashed worker's claim is free again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="delivery_unique_event_endpoint"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_pending_due",
            ),
        ]


class WebhookAttempt(models.Model):
    """The delivery log: every HTTP attempt with its outcome."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
