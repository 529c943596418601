"""REST API of analytics (API.md style): shipment counts from shops, the summary and alerts."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser, StrictSerializer
from aftersales.exceptions import ApplicationError
from analytics import rollup, selectors, services
from analytics.models import BatchAlert
from analytics.params import period_from_params
from shops.permissions import IsShopKey, IsShopKeyOrStaff, IsStaff
from tickets.selectors import visible_shop_ids


def plain(value):
    """Decimals as strings (money and ratios never pass through float), dates as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class ShipmentStatIn(StrictSerializer):
    date = serializers.DateField()
    courier = serializers.CharField(max_length=50, trim_whitespace=True)
    shipments = serializers.IntegerField(min_value=0, max_value=100_000_000)

    def validate_date(self, value):
        if value > timezone.now().date() + dt.timedelta(days=1):
            raise serializers.ValidationError(_("The date is in the future."))
        if value < dt.date(2000, 1, 1):
            raise serializers.ValidationError(_("The date is too far in the past."))
        return value


class ShipmentStatsApi(APIView):
    """POST /api/v1/shipments/stats/ (shop key): parcels handed to a courier on a day. A second
    report for the same day and courier replaces the first (200), a new one is 201."""

    permission_classes = [IsShopKey]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=ShipmentStatIn, responses={201: ShipmentStatIn, 200: ShipmentStatIn})
    def post(self, request):
        serializer = ShipmentStatIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row, created = services.shipment_stat_record(
            shop=request.user.shop,
            date=data["date"],
            courier=data["courier"],
            shipments=data["shipments"],
        )
        body = {"date": row.date.isoformat(), "courier": row.courier, "shipments": row.shipments}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AnalyticsSummaryApi(APIView):
    """GET /api/v1/analytics/summary/?from=&to=&shop=&dispute_type= (supervisor/admin token)."""

    permission_classes = [IsStaff]

    @extend_schema(responses={200: dict})
    def get(self, request):
        period = period_from_params(request.query_params, user=request.user)
        stale_days = rollup.stats_refresh_period(period)
        data = selectors.dashboard(period)
        body = {
            "shop": period.shop.code,
            "timezone": period.shop.timezone,
            "from": period.date_from,
            "to": period.date_to,
            "dispute_type": period.dispute_type.code if period.dispute_type else None,
            "tickets": data["funnel"][0]["tickets"],
            "by_dispute_type": [
                {"code": r["code"], "tickets": r["tickets"]} for r in data["by_dispute_type"]
            ],
            "by_responsibility": data["by_party"],
            "by_courier": data["couriers"],
            "by_sku": data["by_sku"],
            "by_agent": data["agents"],
            "funnel": data["funnel"],
            "response": data["response"],
            "satisfaction": data["satisfaction"],
            "compensation": {
                **data["compensation_totals"],
                "by_type": data["compensation_by_type"],
                "by_party": data["compensation_by_party"],
            },
            "volume_by_day": data["volume_by_day"],
            # Days of the period whose figures are still being recomputed (after a bulk change); 0 normally.
            "stale_days": stale_days,
        }
        return Response(plain(body))


class AlertListApi(APIView):
    """GET /api/v1/alerts/?status=open|acknowledged|resolved — batch-quality alerts of the caller's shops."""

    permission_classes = [IsShopKeyOrStaff]

    @extend_schema(responses={200: dict})
    def get(self, request):
        wanted = (request.query_params.get("status") or "").strip()
        if wanted and wanted not in BatchAlert.Status.values:
            raise ApplicationError(
                "validation_error",
                _("The filters are invalid."),
                fields={"status": _("Unknown status '%(status)s'.") % {"status": wanted[:30]}},
            )
        rows = selectors.alerts_for(visible_shop_ids(request.user), wanted or None)[:500]
        return Response({"results": [plain(alert_body(a)) for a in rows]})


def alert_body(alert: BatchAlert) -> dict:
    return {
        "id": alert.pk,
        "shop": alert.shop.code,
        "sku": alert.sku,
        "batch_no": alert.batch_no,
        "status": alert.status,
        "tickets": alert.ticket_count,
        "threshold": alert.threshold,
        "window_days": alert.window_days,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "note": alert.note,
        "suggestion": "recall / 下架",
    }
