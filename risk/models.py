from django.conf import settings
from django.db import models
from django.db.models import Lookup
from django.utils import timezone
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
    """One band of a hash (risk.photos.bands): matches are looked up by (shop, band) among the
    probes of the new hash (risk.photos.probes). The index carries the photo and its whole hash,
    so a lookup reads the index alone (an index-only scan) and never the photos' rows."""

    photo = models.ForeignKey(PhotoHash, on_delete=models.CASCADE, related_name="bands")
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    band = models.IntegerField()
    phash = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["shop", "band"],
                include=["photo", "phash"],
                name="risk_photoband_lookup",
            )
        ]


class AnyOf(Lookup):
    """`band__any_of=frozenset(...)`: IN for thousands of integers without thousands of
    parameters — on PostgreSQL one array literal (`= ANY('{1,2,…}'::integer[])`, read by
    array_in; an ARRAY[…] of 3,588 expressions takes the planner ~10 ms). A set, not a list:
    Django walks a list's items to resolve expressions (bench/risk_index.py measured both)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(value) for value in self.rhs]
        placeholders = ", ".join(["%s"] * len(values)) or "NULL"
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        literal = "{" + ",".join(str(int(value)) for value in self.rhs) + "}"
        return f"{lhs} = ANY(%s::integer[])", [*lhs_params, literal]


PhotoBand._meta.get_field("band").register_lookup(AnyOf)


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


class FlagDismissal(models.Model):
    """A supervisor's judgment that a ticket's flag does not hold (risk.services.flag_dismiss):
    the flag stays shown, as dismissed with the note, and no longer holds the ticket's
    compensation for a supervisor. It covers the evidence the flag named then (`refs`): a flag
    naming something new (another reused photo's ticket) is raised again."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="risk_dismissals"
    )
    code = models.CharField(_("flag"), max_length=40)
    refs = models.JSONField(default=list, blank=True)
    note = models.TextField(_("note"))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("dismissed risk flag")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "code"], name="risk_dismissal_unique")
        ]
