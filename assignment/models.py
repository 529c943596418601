from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_MAX_OPEN_PER_AGENT = 40


class Mode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


AUTOMATIC_MODES = frozenset({Mode.ROUND_ROBIN, Mode.LEAST_LOADED})


class AssignmentSettings(models.Model):
    """How a shop's new tickets find an agent. Its row is also the shop's assignment lock: every
    choice of an agent takes it (select_for_update), so two choices never both see an agent under
    the cap. A shop without a row assigns by hand."""

    shop = models.OneToOneField(
        "shops.Shop", on_delete=models.CASCADE, related_name="assignment_settings"
    )
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, default=Mode.MANUAL)
    max_open_per_agent = models.PositiveIntegerField(
        _("open tickets per agent, at most"), default=DEFAULT_MAX_OPEN_PER_AGENT
    )
    # username -> [dispute type code, ...]; an agent not listed takes every type.
    skills = models.JSONField(_("skills"), default=dict, blank=True)
    # round_robin: whose turn it was last; the next agent after them (by username) comes next.
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assignment settings")
        verbose_name_plural = _("assignment settings")

    def __str__(self):
        return f"{self.shop_id}: {self.mode}"


class Availability(models.Model):
    """Whether a staff user takes new tickets now. One flag per person, whatever shops they work
    for; no row means away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    available = models.BooleanField(_("available"), default=False)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")

    def __str__(self):
        return f"{self.user_id}: {'available' if self.available else 'away'}"
