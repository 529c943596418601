"""The rules API's bodies, for the OpenAPI schema. The rule itself is checked by
automation.spec.rule_clean (one validator for the API, the settings page and the preview), whose
errors name the place (`conditions.all[0].op`)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.api import StrictSerializer
from automation import spec
from automation.models import AfterField, Event


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "boolean"}]}},
        ]
    }
)
class AnyValueField(serializers.JSONField):
    pass


class ConditionIn(StrictSerializer):
    field = serializers.ChoiceField(choices=list(spec.FIELDS))
    op = serializers.ChoiceField(choices=spec.OPS)
    value = AnyValueField(help_text="Money as a decimal string; in / not_in take a list.")


class ConditionsIn(StrictSerializer):
    all = ConditionIn(many=True, required=False)
    any = ConditionIn(many=True, required=False)


class ActionIn(StrictSerializer):
    type = serializers.ChoiceField(choices=spec.ACTIONS)
    value = AnyValueField(
        help_text="set_priority: a priority; assign: a username or `auto`; add_tag / remove_tag: "
        "a tag; transition: a staff action; reply: a reply template id (sent within the contact "
        "window and daily limit, deferred otherwise); internal_note: text; notify: "
        "`supervisors` or `assignee`."
    )


class AfterIn(StrictSerializer):
    field = serializers.ChoiceField(choices=AfterField.choices)
    hours = serializers.IntegerField(min_value=1, max_value=spec.MAX_AFTER_HOURS)


class RuleIn(StrictSerializer):
    name = serializers.CharField(max_length=spec.NAME_MAX_LENGTH)
    enabled = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=1, max_value=10000, required=False)
    event = serializers.ChoiceField(choices=Event.choices)
    after = AfterIn(required=False, allow_null=True, help_text="Time rules only.")
    conditions = ConditionsIn(required=False)
    actions = ActionIn(many=True)


class RulePatchIn(RuleIn):
    name = serializers.CharField(max_length=spec.NAME_MAX_LENGTH, required=False)
    event = serializers.ChoiceField(choices=Event.choices, required=False)
    actions = ActionIn(many=True, required=False)


class AfterOut(serializers.Serializer):
    field = serializers.CharField()
    hours = serializers.IntegerField()


class RuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    position = serializers.IntegerField()
    event = serializers.ChoiceField(choices=Event.choices)
    after = AfterOut(allow_null=True)
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RuleListOut(serializers.Serializer):
    results = RuleOut(many=True)


class PreviewIn(StrictSerializer):
    days = serializers.IntegerField(min_value=1, max_value=90, required=False, default=30)


class PreviewOut(serializers.Serializer):
    matched = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField())
    days = serializers.IntegerField()
