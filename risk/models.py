from django.db import models
from django.utils.translation import gettext_lazy as _


class PhotoHash(models.Model):
    """A photo's perceptual hash and capture time (risk.photos), stored when the photo is."""

    attachment = models.OneToOneField(
        "tickets.Attachment", on_delete=models.CASCADE, related_name="photo_hash"
    )
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="photo_hashes"
    )
    order_no = models.CharField(_("order number"), max_length=100)
    # The 64-bit pHash as a signed integer (a bigint holds it).
    phash = models.BigIntegerField()
    # EXIF DateTimeOriginal (or DateTime); exif_present is False when the photo carries neither.
    taken_at = models.DateTimeField(null=True, blank=True)
    exif_present = models.BooleanField(default=False)
    # False for pictures too small or too plain to compare (risk.photos.MIN_SIDE): no bands.
    compared = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo hash")


class PhotoBand(models.Model):
    """One band of a hash (risk.photos.bands): matches are looked up by (shop, band)."""

    photo = models.ForeignKey(PhotoHash, on_delete=models.CASCADE, related_name="bands")
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    band = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["shop", "band"], name="risk_photoband_shop_band")]


class PhotoMatch(models.Model):
    """Two photos of one shop within the match distance, found when the later one was stored;
    kept in both directions so each photo reads its matches with one index lookup."""

    photo = models.ForeignKey(PhotoHash, on_delete=models.CASCADE, related_name="matches")
    other = models.ForeignKey(PhotoHash, on_delete=models.CASCADE, related_name="+")
    distance = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["photo", "other"], name="risk_photomatch_unique")
        ]
