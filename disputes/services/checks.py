"""Input checks shared by the disputes writes: one field's error, bounded notes."""

from django.utils.translation import gettext

from aftersales.exceptions import ApplicationError
from tickets.services import NOTE_MAX_LENGTH  # the same bound as a ticket's notes


def field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        "validation_error", gettext("The request has invalid fields."), fields={field: message}
    )


def notes_bounded(**texts: str) -> None:
    """Reasons and notes are at most NOTE_MAX_LENGTH characters: a longer one is refused, naming
    the field, never cut short without a word."""
    for field, text in texts.items():
        if len(text or "") > NOTE_MAX_LENGTH:
            raise field_error(
                field,
                gettext("At most %(limit)s characters (this has %(length)s).")
                % {"limit": NOTE_MAX_LENGTH, "length": len(text)},
            )
