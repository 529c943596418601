"""Forms of the agent workspace. They only parse and validate input; writes go through services."""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tickets.models import TAG_NAME_MAX_LENGTH, Attachment, LogisticsEvent
from tickets.services import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH
from tickets.states import Priority, Status

QUEUE_TABS = [("all", _("All my shops")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))]
QUEUE_SORTS = [("due", _("Due first")), ("newest", _("Newest")), ("updated", _("Recently updated"))]
STATUS_ACTIVE, STATUS_ALL = "", "all"


class QueueFilterForm(forms.Form):
    """The queue's GET parameters. Invalid values fall back to their defaults (see `values`)."""

    tab = forms.ChoiceField(choices=QUEUE_TABS, required=False)
    status = forms.ChoiceField(
        choices=[(STATUS_ACTIVE, _("Active")), (STATUS_ALL, _("All statuses")), *Status.choices],
        required=False,
    )
    dispute_type = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    priority = forms.ChoiceField(
        choices=[("", _("Any priority")), *Priority.choices], required=False
    )
    due_soon = forms.BooleanField(required=False)
    overdue = forms.BooleanField(required=False)
    q = forms.CharField(max_length=100, required=False, strip=True)
    tag = forms.CharField(max_length=TAG_NAME_MAX_LENGTH, required=False, strip=True)
    sort = forms.ChoiceField(choices=QUEUE_SORTS, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    DEFAULTS = {
        "tab": "all",
        "status": STATUS_ACTIVE,
        "dispute_type": None,
        "priority": "",
        "due_soon": False,
        "overdue": False,
        "q": "",
        "tag": "",
        "sort": "due",
        "page": 1,
    }

    def __init__(self, *args, dispute_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dispute_type"].choices = [("", _("Any dispute type"))] + [
            (t.pk, t.name) for t in dispute_types
        ]

    def values(self) -> dict:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {key: cleaned.get(key) or default for key, default in self.DEFAULTS.items()}


def queue_filter_query(query: str) -> str:
    """A queue URL's query string reduced to the queue's own filters (no page, nothing empty,
    nothing unknown): what a saved view stores and compares."""
    params = QueryDict(query)
    kept = QueryDict(mutable=True)
    for name in QueueFilterForm.base_fields:
        value = (params.get(name) or "").strip()
        if name != "page" and value:
            kept[name] = value
    return kept.urlencode()


TOO_LONG = _("At most %(limit_value)d characters; this one has %(show_value)d.")


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea,
        strip=True,
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"required": _("The message may not be blank."), "max_length": TOO_LONG},
    )
    visibility = forms.ChoiceField(
        choices=[("public", _("Public reply")), ("internal", _("Internal note"))], required=False
    )
    # The newest timeline event on the agent's screen (the collision guard); absent: not checked.
    seen_event_id = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1)

    @property
    def internal(self) -> bool:
        return self.cleaned_data.get("visibility") == "internal"


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=40)
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        strip=True,
        error_messages={"max_length": TOO_LONG},
    )


class AttachmentForm(forms.Form):
    file = forms.FileField()
    kind = forms.ChoiceField(choices=Attachment.Kind.choices, initial=Attachment.Kind.PHOTO)


class LogisticsReturnForm(forms.Form):
    """The parcel came back (returned / refused) and why (rule R6)."""

    event = forms.ChoiceField(
        choices=[
            (v, label)
            for v, label in LogisticsEvent.Event.choices
            if v in LogisticsEvent.RETURN_EVENTS
        ],
        error_messages={
            "required": _("Choose what happened to the parcel."),
            "invalid_choice": _("Choose what happened to the parcel."),
        },
    )
    reason = forms.ChoiceField(
        choices=LogisticsEvent.ReturnReason.choices,
        error_messages={
            "required": _("Choose why the parcel came back."),
            "invalid_choice": _("Choose why the parcel came back."),
        },
    )
    at = forms.DateTimeField(
        required=False,
        error_messages={"invalid": _("Enter the date and time as 2026-03-10 14:30.")},
    )
