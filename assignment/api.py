"""GET / PUT /api/v1/shops/{code}/assignment/ (the shop's admins) and PUT /api/v1/me/availability/
(staff): API.md, Additions to v1 → Assignment."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser
from assignment import serializers as s
from assignment.services import (
    assignment_public,
    assignment_settings_get,
    assignment_settings_update,
    availability_set,
)
from shops.permissions import IsStaff, shop_for_admin


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ShopAssignmentApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        responses={200: s.AssignmentSettingsOut},
        description="The shop's admins; another shop's (or a shop key) is 404, a non-admin 403.",
    )
    def get(self, request, code):
        return Response(
            assignment_public(assignment_settings_get(shop=shop_for_admin(request, code)))
        )

    @extend_schema(
        request=s.AssignmentSettingsIn,
        responses={200: s.AssignmentSettingsOut},
        description="Replaces the settings (what is not given goes back to its default; an empty "
        "body is refused). Unknown usernames or dispute types are 400 with `fields.skills`. "
        "Waiting tickets are handed out under the new settings at once.",
    )
    def put(self, request, code):
        shop = shop_for_admin(request, code)
        data = _validated(s.AssignmentSettingsIn, request.data)
        return Response(assignment_public(assignment_settings_update(shop=shop, data=dict(data))))


class MyAvailabilityApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=s.AvailabilityIn,
        responses={200: s.AvailabilityOut},
        description="Staff only. Available: new tickets of your shops in an automatic mode may "
        "come to you, and waiting ones are handed out at once (up to the cap). Away: none come.",
    )
    def put(self, request):
        data = _validated(s.AvailabilityIn, request.data)
        row = availability_set(user=request.user, available=data["available"])
        return Response(s.AvailabilityOut({"available": row.available}).data)
