from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimerKind(models.TextChoices):
    FIRST_RESPONSE_WARNING = "first_response_warning", _("First response: 80 % warning")
    FIRST_RESPONSE_BREACH = "first_response_breach", _("First response: breach")
    RESOLUTION_WARNING = "resolution_warning", _("Resolution: 80 % warning")
    RESOLUTION_BREACH = "resolution_breach", _("Resolution: breach")
    PLATFORM_DEADLINE = "platform_deadline", _("Platform deadline approaching")
    SHIPPING_DEADLINE = "shipping_deadline", _("72-hour shipping deadline")
    PROGRESS_REMINDER = "progress_reminder", _("Daily progress update")
    AUTO_CLOSE = "auto_close", _("Auto-close unanswered ticket")
    FOLLOW_UP = "follow_up", _("Follow-up and satisfaction survey")
    RESHIP_TRACKING = "reship_tracking", _("Re-shipment tracking number")


class TimerState(models.TextChoices):
    PENDING = "pending", _("Pending")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    # Failed SLA_TIMER_MAX_ATTEMPTS times: kept with its error for an admin, no longer retried.
    PARKED = "parked", _("Parked after repeated errors")


LIVE_STATES = (TimerState.PENDING.value, TimerState.CLAIMED.value)


class Timer(models.Model):
    """A deadline of one ticket, kept as a row and swept by Celery beat (never a Celery ETA).

    pending --sweep--> claimed --task--> done; a claim left too long goes back to pending
    (the reaper); a timer the ticket no longer needs is cancelled; one whose handler keeps
    raising is parked with its error after SLA_TIMER_MAX_ATTEMPTS claims. At most one live
    (pending or claimed) timer per ticket and kind."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="timers", db_index=False
    )
    kind = models.CharField(max_length=30, choices=TimerKind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=TimerState.choices, default=TimerState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    # What the handler did ("fired", "skipped: ...", "deferred"), for the admin and the tests.
    result = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The sweep: only pending rows, by due time. Its size is the number of pending
            # timers, not of tickets, so an empty tick costs the same at 100k and at 1M.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="timer_pending_due"),
            models.Index(
                fields=["claimed_at"], condition=Q(state="claimed"), name="timer_claimed_at"
            ),
            models.Index(fields=["ticket", "kind"], name="timer_ticket_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(state__in=LIVE_STATES),
                name="timer_one_live_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} #{self.ticket_id} @ {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


class ContactPurpose(models.TextChoices):
    """Why the customer was contacted (OutboundContact.purpose), in words for the workspace."""

    AUTO_CLOSE = "auto_close", _("Notice that the ticket closes")
    FOLLOW_UP = "follow_up", _("Follow-up and satisfaction survey")
    RESHIP_TRACKING = "reship_tracking", _("Re-shipment tracking number")
    RULE_REPLY = "rule_reply", _("Automation rule's reply")


class OutboundContact(models.Model):
    """One message sent (or call placed) to a customer: the log the per-day limit counts."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        CALL = "call", _("Call")

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "tickets.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=40)
    to = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="contact_customer_created")]
