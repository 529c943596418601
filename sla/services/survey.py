"""The satisfaction survey: its link, page and answer."""

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from tickets.models import SatisfactionSurvey, Ticket, TicketEvent
from tickets.services import Actor, event_record

# --- the satisfaction survey ------------------------------------------------------------------


def survey_for(*, ticket: Ticket, now: dt.datetime) -> SatisfactionSurvey:
    survey, _created = SatisfactionSurvey.objects.get_or_create(
        ticket=ticket, defaults={"token": secrets.token_urlsafe(32), "sent_at": now}
    )
    return survey


def survey_get(*, token: str) -> SatisfactionSurvey | None:
    return (
        SatisfactionSurvey.objects.select_related("ticket__shop").filter(token=token).first()
        if token
        else None
    )


@transaction.atomic
def survey_answer(*, token: str, score, comment: str = "") -> SatisfactionSurvey:
    """The customer's one answer: 1-5 stars and an optional comment. A second answer is refused."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score is None or not 1 <= score <= 5:
        raise ApplicationError(
            "validation_error",
            _("The request has invalid fields."),
            fields={"score": _("Choose 1 to 5 stars.")},
        )
    comment = (comment or "").strip()[:2000]
    survey = (
        SatisfactionSurvey.objects.select_for_update().filter(token=token).first()
        if token
        else None
    )
    if survey is None:
        raise ApplicationError("not_found", _("No such survey."), status_code=404)
    if survey.answered_at is not None:
        raise ApplicationError(
            "already_answered", _("This survey has already been answered."), status_code=409
        )
    survey.score, survey.comment, survey.answered_at = score, comment, timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at"])
    ticket = Ticket.objects.locked().get(pk=survey.ticket_id)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.SURVEY,
        actor=Actor(label="customer", kind="customer"),
        data={"what": "answered", "score": score, "comment": comment},
    )
    return survey
