from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class DisputeCategory(models.TextChoices):
    PRODUCT = "product", _("Product")
    LOGISTICS = "logistics", _("Logistics")
    PRICING = "pricing", _("Pricing")
    REFUND = "refund", _("Refund")
    SERVICE = "service", _("Service")
    COMMITMENT = "commitment", _("Commitment")


class DisputeType(models.Model):
    """A kind of dispute (DOMAIN.md §2). Global types have no shop; shops may add their own."""

    code = models.SlugField(_("code"), max_length=50)
    shop = models.ForeignKey("shops.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="dispute_types")
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=DisputeCategory.choices)
    default_priority = models.CharField(_("default priority"), max_length=10, default="normal")
    photo_required = models.BooleanField(_("photo required before compensation"), default=False)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("dispute type")
        verbose_name_plural = _("dispute types")
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(shop__isnull=True), name="dispute_type_unique_global_code"),
            models.UniqueConstraint(fields=["shop", "code"], name="dispute_type_unique_shop_code"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en
