"""Writes of risk: a photo's hash, bands and matches, stored with the photo."""

from risk import photos
from risk.models import PhotoBand, PhotoHash, PhotoMatch
from tickets.models import Attachment


def photo_hash_store(*, attachment: Attachment) -> PhotoHash | None:
    """Hash an image attachment and record which photos of the same shop it matches (never
    another shop's). Runs in the attachment's transaction; a file Pillow cannot read is not
    hashed (None) and the attachment stays."""
    if not attachment.is_image:
        return None
    with attachment.file.open("rb") as file:
        facts = photos.photo_facts(file)
    if facts is None:
        return None
    ticket = attachment.ticket
    photo = PhotoHash.objects.create(
        attachment=attachment,
        shop_id=ticket.shop_id,
        ticket=ticket,
        order_no=ticket.order.order_no,
        phash=facts.phash,
        taken_at=facts.taken_at,
        exif_present=facts.exif_present,
        compared=facts.comparable,
    )
    if not facts.comparable:
        return photo
    bands = photos.bands(facts.phash)
    candidates = (
        PhotoHash.objects.filter(
            pk__in=PhotoBand.objects.filter(shop_id=ticket.shop_id, band__in=bands).values(
                "photo_id"
            )
        )
        .exclude(pk=photo.pk)
        .values_list("pk", "phash")
    )
    matches = []
    for other_id, other_hash in candidates:
        distance = photos.distance(facts.phash, other_hash)
        if distance <= photos.MATCH_DISTANCE:
            matches.append(PhotoMatch(photo=photo, other_id=other_id, distance=distance))
            matches.append(PhotoMatch(photo_id=other_id, other=photo, distance=distance))
    PhotoBand.objects.bulk_create(
        PhotoBand(photo=photo, shop_id=ticket.shop_id, band=band) for band in bands
    )
    PhotoMatch.objects.bulk_create(matches)
    return photo
