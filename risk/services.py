"""Writes of risk: a photo's hash, bands and matches, stored with the photo; a supervisor's
dismissal of a flag."""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftersales.exceptions import ApplicationError
from risk import photos
from risk.models import FlagDismissal, PhotoBand, PhotoHash, PhotoMatch
from risk.selectors import CODES, Finding, photos_within, ticket_findings
from shops.permissions import is_supervisor
from shops.selectors import user_role_in_shop
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.services import Actor, event_record

NOTE_MAX = 2000


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
    matches = []
    for other_id, distance in photos_within(shop_id=ticket.shop_id, phash=facts.phash):
        matches.append(PhotoMatch(photo=photo, other_id=other_id, distance=distance))
        matches.append(PhotoMatch(photo_id=other_id, other=photo, distance=distance))
    PhotoBand.objects.bulk_create(
        PhotoBand(photo=photo, shop_id=ticket.shop_id, band=band, phash=facts.phash)
        for band in photos.bands(facts.phash)
    )
    PhotoMatch.objects.bulk_create(matches)
    return photo


@transaction.atomic
def flag_dismiss(*, ticket: Ticket, code: str, note: str, actor: Actor) -> list[Finding]:
    """A supervisor (or admin) says a flag of the ticket does not hold, with a note: recorded on
    the timeline (who, when, the flag, what it named, the note). The flag stays shown, marked
    dismissed, and no longer holds the ticket's compensation for a supervisor. Dismissing again
    (the flag came back naming something new) covers what it names now. Returns the ticket's
    findings as they now stand (the API answers with them, without reading them again)."""
    note = (note or "").strip()
    fields = {}
    if code not in CODES:
        fields["code"] = gettext("Not a risk flag: %(code)s.") % {"code": code}
    if not note:
        fields["note"] = gettext("Say why the flag does not hold.")
    elif len(note) > NOTE_MAX:
        fields["note"] = gettext("At most %(count)s characters.") % {"count": NOTE_MAX}
    if fields:
        raise ApplicationError(
            "validation_error", gettext("The request has invalid fields."), fields=fields
        )
    role = user_role_in_shop(user=actor.user, shop_id=ticket.shop_id) if actor.user else None
    if not is_supervisor(role):
        raise ApplicationError(
            "not_allowed",
            gettext("Only a supervisor or an admin can dismiss a risk flag."),
            status_code=403,
        )
    locked = Ticket.objects.locked().select_related("customer", "order", "shop")
    locked = locked.get(pk=ticket.pk)
    findings = ticket_findings(locked)
    finding = next((f for f in findings if f.code == code), None)
    if finding is None:
        raise ApplicationError(
            "flag_not_raised",
            gettext("This ticket does not carry that flag (any more)."),
            status_code=409,
        )
    if finding.dismissal is not None:
        raise ApplicationError(
            "flag_already_dismissed",
            gettext("This flag was already dismissed."),
            status_code=409,
        )
    dismissal, _ = FlagDismissal.objects.update_or_create(
        ticket=locked,
        code=code,
        defaults={
            "refs": finding.refs,
            "note": note,
            "dismissed_by": actor.user,
            "dismissed_by_label": actor.label,
            "created_at": timezone.now(),
        },
    )
    event_record(
        ticket=locked,
        kind=TicketEvent.Kind.RISK_FLAG_DISMISSED,
        actor=actor,
        # The flag's sentence as the supervisor read it, and in which language: the timeline shows
        # it to readers of that language, the flag's name and references to the others.
        data={
            "code": code,
            "message": finding.message,
            "language": translation.get_language(),
            "refs": finding.refs,
            "note": note,
        },
    )
    finding.dismissal = dismissal
    return findings
