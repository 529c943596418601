from rest_framework import serializers

from aftersales.api import StrictSerializer
from assignment.models import DEFAULT_MAX_OPEN_PER_AGENT, Mode
from assignment.services import MAX_OPEN_LIMIT


class AssignmentSettingsIn(StrictSerializer):
    """PUT replaces: what is not given goes back to its default. An empty body is refused."""

    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    max_open_per_agent = serializers.IntegerField(
        min_value=1, max_value=MAX_OPEN_LIMIT, required=False
    )
    skills = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=50)),
        required=False,
        help_text="username -> dispute type codes the agent takes; an agent not listed (or with "
        "an empty list) takes every type. Usernames must work for the shop.",
    )


class AssignmentSettingsOut(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Mode.choices)
    max_open_per_agent = serializers.IntegerField(default=DEFAULT_MAX_OPEN_PER_AGENT)
    skills = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AvailabilityIn(StrictSerializer):
    available = serializers.BooleanField()


class AvailabilityOut(serializers.Serializer):
    available = serializers.BooleanField()
