from rest_framework import serializers

from aftersales.api import MAX_LIST, AwareDateTimeField, MoneyField, StrictSerializer
from disputes.models import CompensationType, Party


class JudgmentIn(StrictSerializer):
    party = serializers.ChoiceField(choices=Party.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RuleOut(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField()
    text_zh = serializers.CharField()
    party = serializers.CharField()


class SuggestionOut(serializers.Serializer):
    party = serializers.CharField(allow_null=True)
    rules = RuleOut(many=True)
    penalty_exposure = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    batch_alert = serializers.BooleanField()


class JudgmentOut(serializers.Serializer):
    version = serializers.IntegerField()
    party = serializers.CharField()
    reason = serializers.CharField()
    note = serializers.CharField()
    suggested_party = serializers.CharField()
    overrides_suggestion = serializers.BooleanField()
    rules = serializers.JSONField()
    penalty_exposure = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class OptionsQueryIn(StrictSerializer):
    json_types = False  # read from the query string
    usable = serializers.BooleanField(required=False, default=True)
    customer_refused = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    return_shipping_quote = MoneyField(required=False, allow_null=True, default=None)
    ladder_step = serializers.IntegerField(min_value=0, max_value=2, required=False, default=0)


class OptionOut(serializers.Serializer):
    type = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    requires_return = serializers.BooleanField()
    requires_approval = serializers.BooleanField()
    virtual = serializers.BooleanField()
    rule = serializers.CharField()
    rationale = serializers.CharField()
    rationale_zh = serializers.CharField()


class CompensationItemIn(StrictSerializer):
    sku = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class OfferedIn(StrictSerializer):
    type = serializers.ChoiceField(choices=CompensationType.choices)
    amount = MoneyField()


class CompensationIn(StrictSerializer):
    type = serializers.ChoiceField(choices=CompensationType.choices)
    amount = MoneyField()
    items = CompensationItemIn(many=True, required=False, default=list, max_length=MAX_LIST)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    condition = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    # The 2-选-1 pair offered to the customer; the proposal is the one they chose.
    offered = OfferedIn(many=True, required=False, default=list, max_length=2)


class DecisionIn(StrictSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ExecutedIn(StrictSerializer):
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    executed_at = AwareDateTimeField(required=False, allow_null=True, default=None)


class FailedIn(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class CompensationOut(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(source="ticket.number")
    type = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    items = serializers.JSONField()
    note = serializers.CharField()
    status = serializers.CharField()
    within_standard = serializers.BooleanField()
    offered = serializers.JSONField()
    rule = serializers.CharField()
    policy_version = serializers.IntegerField(source="policy.version")
    proposed_by = serializers.CharField(
        source="proposed_by.username", allow_null=True, default=None
    )
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    external_ref = serializers.CharField()
    executed_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
