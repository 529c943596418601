from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def text_render(template: str, params: dict | None) -> str:
    """A stored notification text in the reader's language: `template` is the English msgid the
    writer marked with gettext_noop, `params` its %-parameters. Rows without params (written before
    notifications were stored this way) are shown as they were written."""
    if params is None:
        return template
    translated = gettext(template) if template else ""
    try:
        return translated % params if params else translated
    except (KeyError, TypeError, ValueError):
        return template


class Notification(models.Model):
    """A message to one staff user in the workspace (the bell). Read once, never deleted."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # What it is about, e.g. "sla_warning", "sla_breached", "approval_requested", "batch_alert".
    kind = models.CharField(_("kind"), max_length=40)
    # title and body are English msgids (gettext_noop) with %(name)s parameters from `params`,
    # rendered when read, in the reader's language (text_render). A user's own words (a note)
    # travel as a parameter, never as the template.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    params = models.JSONField(null=True, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], name="notification_recipient_created"
            ),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self):
        return f"{self.recipient_id}: {self.title_text}"

    @property
    def title_text(self) -> str:
        return text_render(self.title, self.params)

    @property
    def body_text(self) -> str:
        return text_render(self.body, self.params)
