"""Forms of the agent workspace. They only parse and validate input; writes go through services."""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tickets.models import TAG_NAME_MAX_LENGTH, Attachment, LogisticsEvent
from tickets.services import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH
from tickets.states import Channel, Priority, Status

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
        self.dispute_types = list(dispute_types)  # the queue's rows take theirs from these
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
    # The macro the reply was written from: its actions run once the reply is sent.
    macro = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

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


class MergeForm(forms.Form):
    """Merge `source` (the page's ticket when empty) into `into`, with a note saying why."""

    source = forms.CharField(max_length=20, required=False, strip=True)
    into = forms.CharField(
        max_length=20,
        strip=True,
        error_messages={
            "required": _("Enter the number of the ticket to merge into."),
            "max_length": _("That is not a ticket number."),
        },
    )
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": _("Say why these tickets are one case."),
            "max_length": TOO_LONG,
        },
    )

    def clean_into(self) -> str:
        return self.cleaned_data["into"].upper()


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


# --- A ticket created in the workspace (a customer called or wrote on chat) ---------------------

WORKSPACE_CHANNELS = [
    (Channel.PHONE, Channel.PHONE.label),
    (Channel.CHAT, Channel.CHAT.label),
    (Channel.IM, Channel.IM.label),
    (Channel.EMAIL, Channel.EMAIL.label),
    (Channel.WEB, _("Other")),
]
PHONE_PATTERN = r"^\+?[0-9 \-]{3,30}$"  # as the API's customer.phone
NEW_ORDER = ""


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple> (Django's documented recipe)."""

    class Widget(forms.ClearableFileInput):
        allow_multiple_selected = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", self.Widget(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class TicketNewForm(forms.Form):
    """The workspace's new-ticket form: the same data the API's create takes, for a person."""

    shop = forms.ChoiceField(label=_("Shop"))
    channel = forms.ChoiceField(label=_("Channel"), choices=WORKSPACE_CHANNELS)
    customer_id = forms.CharField(label=_("Customer ID"), max_length=100, required=False)
    customer_name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    customer_phone = forms.RegexField(
        label=_("Phone"),
        regex=PHONE_PATTERN,
        max_length=40,
        required=False,
        error_messages={"invalid": _("Digits only, e.g. 138 0013 8000.")},
    )
    earlier_order = forms.CharField(label=_("Order"), max_length=100, required=False)
    order_no = forms.CharField(label=_("Order number"), max_length=100, required=False)
    order_amount = forms.DecimalField(
        label=_("Order amount (¥)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    delivered_at = forms.DateTimeField(
        label=_("Delivered at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={"invalid": _("Enter the date and time as 2026-03-10 14:30.")},
    )
    dispute_type = forms.ChoiceField(label=_("Dispute type"))
    description = forms.CharField(
        label=_("What the customer says"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
        required=False,
        error_messages={"max_length": TOO_LONG},
    )
    evidence = MultipleFileField(label=_("Evidence (photos, video, PDF)"), required=False)

    def __init__(self, *args, shops=(), dispute_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].choices = [(shop.code, shop.name) for shop in shops]
        self.fields["dispute_type"].choices = [("", _("Choose…"))] + [
            (code, name) for code, name in dispute_types
        ]

    def clean(self):
        data = super().clean()
        if not data.get("customer_id") and not data.get("customer_phone"):
            self.add_error(
                "customer_id", _("Give the customer's ID in the shop, or their phone number.")
            )
        if data.get("earlier_order", NEW_ORDER) == NEW_ORDER and not data.get("order_no"):
            self.add_error("order_no", _("Give the order number, or pick one of the customer's."))
        return data


class OrderItemRowForm(forms.Form):
    """One line of the order; a row left blank is skipped."""

    sku = forms.CharField(label=_("SKU"), max_length=100, required=False)
    name = forms.CharField(label=_("Item"), max_length=300, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price (¥)"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=100000, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("sku") and data.get("unit_price") is None:
            self.add_error("unit_price", _("Give the unit price of this item."))
        if not data.get("sku") and (data.get("name") or data.get("unit_price") is not None):
            self.add_error("sku", _("Give the item's SKU."))
        return data


OrderItemFormSet = forms.formset_factory(
    OrderItemRowForm, extra=3, max_num=50, absolute_max=50, validate_max=True
)


class MacroForm(forms.Form):
    """A shop's own reply template, and what it also does when its reply is sent (tickets.macros)."""

    category = forms.ChoiceField(label=_("Group"))
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"max_length": TOO_LONG},
    )
    language = forms.ChoiceField(
        label=_("Language of the reply"), choices=[("zh-hans", "中文"), ("en", "English")]
    )
    set_status = forms.ChoiceField(label=_("Then change the status to"), required=False)
    set_priority = forms.ChoiceField(
        label=_("Then set the priority to"),
        choices=[("", _("(leave as it is)")), *Priority.choices],
        required=False,
    )
    add_tag = forms.CharField(label=_("Then add the tag"), max_length=30, required=False)
    assign_me = forms.BooleanField(label=_("Then assign the ticket to me"), required=False)

    def __init__(self, *args, categories=(), status_actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = list(categories)
        self.fields["set_status"].choices = [("", _("(leave as it is)")), *status_actions]

    def actions(self) -> list[dict]:
        data = self.cleaned_data
        chosen = [
            {"type": "set_status", "value": data["set_status"]} if data["set_status"] else None,
            {"type": "set_priority", "value": data["set_priority"]}
            if data["set_priority"]
            else None,
            {"type": "add_tag", "value": data["add_tag"]} if data["add_tag"] else None,
            {"type": "assign_me"} if data["assign_me"] else None,
        ]
        return [action for action in chosen if action]

    @classmethod
    def initial_for(cls, template) -> dict:
        initial = {
            "category": template.category,
            "title": template.title,
            "body": template.body,
            "language": template.language,
        }
        for action in template.actions or []:
            initial[action["type"]] = action.get("value", True)
        return initial
