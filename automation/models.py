"""A shop's automation rules ("when … if … then …"), their immutable versions, and the log of
every firing — which is also the queue of what is still to do (time rules, deferred replies)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("A ticket is created")
    TICKET_UPDATED = "ticket.updated", _("A ticket's priority, tags or assignee change")
    MESSAGE_RECEIVED = "message.received", _("The customer writes")
    COMPENSATION_DECIDED = "compensation.decided", _("A compensation is approved or rejected")
    SLA_WARNING = "sla.warning", _("An SLA deadline is near (80 % warning)")
    TIME = "time", _("Some hours after …")


class AfterField(models.TextChoices):
    CREATED_AT = "created_at", _("the ticket was created")
    UPDATED_AT = "updated_at", _("the ticket last changed")
    STATUS_SINCE = "status_since", _("the ticket entered its current status")


class Rule(models.Model):
    """The rule as it is now; `version` names its current RuleVersion. Deleting only marks it
    (its firings and timeline entries keep naming it)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=1)
    enabled = models.BooleanField(_("enabled"), default=False)
    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    after_field = models.CharField(max_length=20, choices=AfterField.choices, blank=True)
    after_hours = models.PositiveIntegerField(null=True, blank=True)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=1)
    # Time rules: tickets whose field was at most this are already swept for this version.
    swept_until = models.DateTimeField(null=True, blank=True)
    # Shipped with the product (seeds): `default_key` names which one.
    default_key = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["position", "id"]
        indexes = [
            models.Index(
                fields=["shop", "event", "position"],
                condition=Q(enabled=True, deleted_at__isnull=True),
                name="rule_enabled_by_event",
            )
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def after(self) -> dict | None:
        if self.event != Event.TIME:
            return None
        return {"field": self.after_field, "hours": self.after_hours}


class RuleVersion(models.Model):
    """What a rule said at one version; written once, never changed."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    event = models.CharField(max_length=30, choices=Event.choices)
    after_field = models.CharField(max_length=20, blank=True)
    after_hours = models.PositiveIntegerField(null=True, blank=True)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="rule_version_unique")
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class FiringState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    CLAIMED = "claimed", _("Running")
    DONE = "done", _("Done")


class Outcome(models.TextChoices):
    OK = "ok", _("Acted")
    FAILED = "failed", _("An action failed")
    DEFERRED = "deferred", _("Reply deferred (contact rules)")
    SKIPPED = "skipped", _("No longer matched")


class RuleFiring(models.Model):
    """One rule version acting (or about to act) on one ticket. Event rules write it done (or
    pending with a deferred reply); the time sweep writes it pending, at most once per rule
    version and ticket (the unique constraint), and a task does it. pending --sweep--> claimed
    --task--> done; a claim left too long goes back to pending (the reaper)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    version = models.PositiveIntegerField()
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event = models.CharField(max_length=30)
    state = models.CharField(max_length=10, choices=FiringState.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    # [{"type", "value", "result": "ok"|"failed"|"deferred"|..., "error"?}] in the order run.
    detail = models.JSONField(default=list, blank=True)
    # Actions still to run when it is due (a time rule's, or a deferred reply).
    pending_actions = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(state="pending"), name="firing_pending_due"
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(state="claimed"), name="firing_claimed_at"
            ),
            models.Index(fields=["rule", "-created_at"], name="firing_rule_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "version", "ticket"],
                condition=Q(event="time"),
                name="firing_time_once_per_version",
            )
        ]

    def __str__(self):
        return f"rule {self.rule_id} v{self.version} on {self.ticket_id}: {self.state}"
