from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from shops.config import new_version, version_seen


class Shop(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    # Overrides of shops.sla.DEFAULT_SLA (business hours, calendar, targets per priority).
    sla_settings = models.JSONField(_("SLA settings"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Changed by database triggers whenever the shop's configuration changes (shops.config):
    # never written from Python once the shop exists.
    config_version = models.BigIntegerField(default=new_version, editable=False)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        # An update leaves config_version alone: the value read earlier may be stale, and writing
        # it back would make values cached under it current again.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "config_version"
            ]
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        shop = super().from_db(db, field_names, values)
        if "config_version" in shop.__dict__:  # not deferred
            version_seen(shop.pk, shop.config_version)
        return shop


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Admin")


class Membership(models.Model):
    """A staff user's role in one shop. A user may work for several shops."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="membership_unique_user_shop")
        ]

    def __str__(self):
        return f"{self.user} @ {self.shop.code}: {self.role}"


class ShopAPIKey(AbstractAPIKey):
    """A shop backend's key. Only its SHA-512 hash is stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("shop API key")
        verbose_name_plural = _("shop API keys")
