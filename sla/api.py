"""GET / PUT / PATCH /api/v1/shops/{code}/sla/ (API.md, Configuration): the shop's admins only."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser
from shops.permissions import IsStaff, shop_for_admin
from shops.services import shop_sla_update
from shops.sla import sla_public


class ShopSlaApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: dict})
    def get(self, request, code):
        return Response(sla_public(shop_for_admin(request, code)))

    @extend_schema(request=dict, responses={200: dict})
    def put(self, request, code):
        shop = shop_sla_update(
            shop=shop_for_admin(request, code), data=_plain(request.data), replace=True
        )
        return Response(sla_public(shop))

    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request, code):
        shop = shop_sla_update(
            shop=shop_for_admin(request, code), data=_plain(request.data), replace=False
        )
        return Response(sla_public(shop))


def _plain(data):
    """Numbers with a fraction arrive as Decimal (DecimalJSONParser); the settings are JSON floats."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, Decimal):
        return float(data)
    return data
