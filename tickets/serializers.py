from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.api import (
    MAX_LIST,
    AwareDateTimeField,
    FieldDictMixin,
    MoneyField,
    SharedFieldsMixin,
    StrictSerializer,
)
from tickets.models import TAG_NAME_MAX_LENGTH, TAGS_PER_TICKET, Attachment, LogisticsEvent
from tickets.selectors import attachments_risk_flags, sla_breached, tickets_risk_flags
from tickets.services import (
    BULK_ACTIONS,
    BULK_MAX_TICKETS,
    MESSAGE_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    SIGNED_BY_MAX_LENGTH,
)
from tickets.states import STAFF_ACTIONS, Priority

# --- input ------------------------------------------------------------------


class OrderItemIn(StrictSerializer):
    sku = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    batch_no = serializers.CharField(max_length=100, required=False, allow_blank=True)
    unit_price = MoneyField()
    quantity = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    perishable = serializers.BooleanField(default=False)
    shelf_life_days = serializers.IntegerField(
        min_value=0, max_value=36500, required=False, allow_null=True
    )


class OrderIn(StrictSerializer):
    order_no = serializers.CharField(max_length=100)
    amount = MoneyField(required=False, allow_null=True)
    paid_at = AwareDateTimeField(required=False, allow_null=True)
    shipped_at = AwareDateTimeField(required=False, allow_null=True)
    delivered_at = AwareDateTimeField(required=False, allow_null=True)
    courier = serializers.CharField(
        max_length=50, required=False, allow_blank=True, allow_null=True
    )
    tracking_no = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    items = OrderItemIn(many=True, required=False, max_length=MAX_LIST)


class CustomerIn(StrictSerializer):
    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.RegexField(
        r"^\+?[0-9 \-]{3,30}$", max_length=40, required=False, allow_blank=True
    )


class AffectedItemIn(StrictSerializer):
    sku = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class TicketCreateIn(SharedFieldsMixin, StrictSerializer):
    # The create path's input (bench/create_profile.py): its fields are built once.
    dispute_type = serializers.SlugField(max_length=50)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    channel = serializers.ChoiceField(
        choices=["api", "web", "phone", "chat", "email", "im"], default="api"
    )
    external_ref = serializers.CharField(max_length=100, required=False, allow_null=True)
    requested_resolution = serializers.CharField(max_length=50, required=False, allow_blank=True)
    customer = CustomerIn()
    order = OrderIn()
    affected_items = AffectedItemIn(many=True, required=False, max_length=MAX_LIST)
    platform_deadline_at = AwareDateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        ordered = {}
        for item in attrs["order"].get("items", []):
            ordered[item["sku"]] = ordered.get(item["sku"], 0) + item["quantity"]
        errors = {}
        for index, affected in enumerate(attrs.get("affected_items", [])):
            if affected["sku"] not in ordered:
                errors[str(index)] = gettext("SKU '%(sku)s' is not among the order's items.") % {
                    "sku": affected["sku"]
                }
            elif affected["quantity"] > ordered[affected["sku"]]:
                errors[str(index)] = gettext(
                    "Quantity %(quantity)s exceeds the %(ordered)s ordered."
                ) % {
                    "quantity": affected["quantity"],
                    "ordered": ordered[affected["sku"]],
                }
        if errors:
            raise serializers.ValidationError({"affected_items": errors})
        return attrs


TOO_LONG = {"max_length": _("At most {max_length} characters.")}


class MessageIn(StrictSerializer):
    body = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, error_messages=TOO_LONG)
    internal = serializers.BooleanField(default=False)
    # The newest timeline event the agent had on screen (staff): 409 stale_view if the customer
    # or a colleague wrote since.
    seen_event_id = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)


class AttachmentIn(StrictSerializer):
    file = serializers.FileField(allow_empty_file=False)
    kind = serializers.ChoiceField(choices=Attachment.Kind.choices)


class LogisticsIn(StrictSerializer):
    event = serializers.ChoiceField(choices=LogisticsEvent.Event.choices)
    at = AwareDateTimeField()
    signed_by = serializers.CharField(
        max_length=SIGNED_BY_MAX_LENGTH, required=False, allow_blank=True, error_messages=TOO_LONG
    )
    authorized = serializers.BooleanField(required=False, allow_null=True, default=None)
    # Why the parcel came back, with event "returned" or "refused" (API.md; rule R6). The service
    # refuses it on other events.
    reason = serializers.ChoiceField(
        choices=LogisticsEvent.ReturnReason.choices, required=False, allow_blank=True
    )


class TransitionIn(StrictSerializer):
    action = serializers.ChoiceField(choices=[(a.value, a.label) for a in STAFF_ACTIONS])
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, error_messages=TOO_LONG
    )


class MergeIn(StrictSerializer):
    into = serializers.CharField(max_length=20, help_text="The number of the ticket to merge into.")
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, error_messages=TOO_LONG, help_text="Why they are one case."
    )


class AssignIn(StrictSerializer):
    assignee = serializers.CharField(max_length=150, allow_null=True)


class TextField(serializers.CharField):
    """Text in a JSON list: 12 or true is refused, not read as "12" (StrictSerializer checks
    only the body's own fields)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TicketUpdateIn(StrictSerializer):
    tags = serializers.ListField(
        child=TextField(max_length=TAG_NAME_MAX_LENGTH),
        max_length=TAGS_PER_TICKET,
        required=False,
        help_text="Replaces the ticket's tags; unknown names become the shop's new tags.",
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(gettext("Give tags, priority or both."))
        return attrs


class BulkIn(StrictSerializer):
    numbers = serializers.ListField(
        child=TextField(max_length=20), min_length=1, max_length=BULK_MAX_TICKETS
    )
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    value = serializers.CharField(
        max_length=150,
        allow_null=True,
        help_text="assign: a username, or null to unassign; transition: the transition "
        "endpoint's action; add_tag / remove_tag: one tag.",
    )

    def validate(self, attrs):
        if attrs["value"] is None and attrs["action"] != "assign":
            raise serializers.ValidationError({"value": [gettext("This field may not be null.")]})
        return attrs


class BulkErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class BulkFailureOut(serializers.Serializer):
    number = serializers.CharField()
    error = BulkErrorOut()


class BulkOut(serializers.Serializer):
    done = serializers.ListField(child=serializers.CharField())
    failed = BulkFailureOut(many=True)


class TokenIn(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


# --- output -----------------------------------------------------------------


class OrderItemOut(FieldDictMixin, serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    batch_no = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    perishable = serializers.BooleanField()
    shelf_life_days = serializers.IntegerField(allow_null=True)


class OrderOut(FieldDictMixin, serializers.Serializer):
    order_no = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    courier = serializers.CharField()
    tracking_no = serializers.CharField()
    items = OrderItemOut(many=True)  # the manager: the list takes .all() (no signature check)


class CustomerOut(FieldDictMixin, serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(source="masked_phone", help_text="Masked, e.g. 138****0000.")


class SlaOut(FieldDictMixin, serializers.Serializer):
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    first_responded_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.SerializerMethodField()

    def get_breached(self, ticket) -> bool:
        return sla_breached(ticket)


class RiskDismissedOut(serializers.Serializer):
    by = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField()


class RiskFlagOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    refs = serializers.ListField(child=serializers.CharField(), default=list)
    dismissed = RiskDismissedOut(
        allow_null=True,
        required=False,
        help_text="A supervisor's dismissal (who, when, the note): the flag no longer holds the "
        "ticket's compensation for a supervisor. Null when not dismissed.",
    )


class RiskOut(serializers.Serializer):
    flags = RiskFlagOut(many=True, help_text="Empty when nothing is found.")


class _WithRiskList(serializers.ListSerializer):
    """A list whose risk flags are read for all its rows at once (a fixed number of queries,
    however long the page): `risk_of(rows) -> {id: flags}` sets `risk_flags` on each row."""

    risk_of = None

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        flags = type(self).risk_of(rows)
        for row in rows:
            row.risk_flags = flags[row.pk]
        return super().to_representation(rows)


class TicketListOut(_WithRiskList):
    risk_of = staticmethod(tickets_risk_flags)


class AttachmentListOut(_WithRiskList):
    risk_of = staticmethod(attachments_risk_flags)


def _risk(row, risk_of) -> dict:
    flags = getattr(row, "risk_flags", None)
    if flags is None:
        flags = risk_of([row])[row.pk]
    return {"flags": flags}


class TicketOut(SharedFieldsMixin, serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    dispute_type = serializers.CharField(source="dispute_type.code")
    shop = serializers.CharField(source="shop.code")
    channel = serializers.CharField()
    external_ref = serializers.CharField(allow_null=True)
    requested_resolution = serializers.CharField()
    description = serializers.CharField()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    merged_into = serializers.CharField(
        source="merged_into.number",
        allow_null=True,
        default=None,
        help_text="The ticket this duplicate was merged into (it is closed); null otherwise.",
    )
    affected_items = serializers.JSONField()
    platform_deadline_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    sla = SlaOut(source="*")
    tags = serializers.SerializerMethodField()
    responsibility = serializers.SerializerMethodField()
    compensations = serializers.SerializerMethodField()
    customer = CustomerOut()
    order = OrderOut()
    risk = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = TicketListOut

    @extend_schema_field(RiskOut)
    def get_risk(self, ticket) -> dict:
        """API.md "Risk": what the features find (risk: reused or old evidence, frequent claims,
        linked accounts)."""
        return _risk(ticket, tickets_risk_flags)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, ticket) -> list[str]:
        """The tags' names, sorted (read with the ticket: tickets.selectors.with_tags)."""
        return [tag.name for tag in ticket.tag_list]

    def get_responsibility(self, ticket) -> dict | None:
        """The latest judgment (judgments are prefetched newest first)."""
        latest = next(iter(ticket.judgments.all()), None)
        if latest is None:
            return None
        return {
            "party": latest.party,
            "reason": latest.reason,
            "note": latest.note,
            "version": latest.version,
            "suggested_party": latest.suggested_party or None,
            "penalty_exposure": f"{latest.penalty_exposure:.2f}"
            if latest.penalty_exposure is not None
            else None,
            "judged_by": latest.created_by.username if latest.created_by else None,
            "judged_at": serializers.DateTimeField().to_representation(latest.created_at),
        }

    def get_compensations(self, ticket) -> list:
        return [
            {"id": c.pk, "type": c.type, "amount": f"{c.amount:.2f}", "status": c.status}
            for c in ticket.compensations.all()
        ]


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(
        source="ticket.number",
        help_text="The ticket it was written on: a duplicate merged into this one, or this one.",
    )
    author_kind = serializers.CharField()
    author = serializers.CharField(source="author.username", allow_null=True, default=None)
    body = serializers.CharField()
    internal = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class AttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(
        source="ticket.number",
        help_text="The ticket it was sent on: a duplicate merged into this one, or this one.",
    )
    kind = serializers.CharField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    risk = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = AttachmentListOut

    @extend_schema_field(RiskOut)
    def get_risk(self, attachment) -> dict:
        """This photo's own flags: reused on another order's ticket, or taken before the order."""
        return _risk(attachment, attachments_risk_flags)


class LogisticsOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    at = AwareDateTimeField()
    signed_by = serializers.CharField()
    authorized = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- a customer's history (API.md "Customers") ---------------------------------


class CustomerTicketOut(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    dispute_type = serializers.CharField(source="dispute_type.code")
    created_at = serializers.DateTimeField()


class CustomerCompensationOut(serializers.Serializer):
    """Money strings; what each counts is disputes.services.compensation_totals."""

    granted = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Approved, executing or executed."
    )
    pending = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Proposed or waiting for a supervisor."
    )
    recovered = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Courier claims granted (money coming back)."
    )


class CustomerDetailOut(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(help_text="Masked, e.g. 138****0000.")
    tickets = CustomerTicketOut(
        many=True, help_text="Newest first; at most the newest 500 (CUSTOMER_TICKETS_LIMIT)."
    )
    orders_count = serializers.IntegerField()
    compensation = CustomerCompensationOut()
    risk = RiskOut()
