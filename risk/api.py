"""REST API of risk (API.md "Risk"): a supervisor dismisses a ticket's flag with a note."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser, StrictSerializer
from risk import selectors, services
from tickets.api import actor_for, staff_ticket_get, validated
from tickets.serializers import RiskOut


class DismissIn(StrictSerializer):
    code = serializers.ChoiceField(choices=selectors.CODES)
    note = serializers.CharField(max_length=services.NOTE_MAX)


class FlagDismissApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=DismissIn,
        responses={200: RiskOut},
        description="Supervisor or admin only (403 for agents). Dismisses the ticket's risk flag "
        "`code` with a `note` (required), recorded on the timeline: the flag stays listed with "
        "`dismissed` {by, at, note} and no longer makes the ticket's compensation wait for a "
        "supervisor. Returns the ticket's risk. 409 flag_not_raised when the ticket does not "
        "carry the flag, 409 flag_already_dismissed when it is dismissed already; another "
        "shop's ticket is 404.",
    )
    def post(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(DismissIn, request.data)
        findings = services.flag_dismiss(
            ticket=ticket, code=data["code"], note=data["note"], actor=actor_for(request)
        )
        return Response(selectors.flags_of(findings))
