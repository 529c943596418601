from rest_framework import serializers

from aftersales.api import StrictSerializer


class EndpointIn(StrictSerializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.CharField(max_length=50), default=lambda: ["*"], max_length=20
    )


class EndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.JSONField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class EndpointCreatedOut(EndpointOut):
    secret = serializers.CharField(
        help_text="Shown once: keep it to verify X-Aftersales-Signature."
    )


class AttemptOut(serializers.Serializer):
    event_id = serializers.CharField(source="delivery.event_id")
    event_type = serializers.CharField(source="delivery.event.type")
    status_code = serializers.IntegerField(allow_null=True)
    attempted_at = serializers.DateTimeField()
    error = serializers.CharField()
    duration_ms = serializers.IntegerField()
    delivery_status = serializers.CharField(source="delivery.status")
