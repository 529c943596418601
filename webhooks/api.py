from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser
from aftersales.schema import results_of
from shops.permissions import IsShopKey
from webhooks import serializers as s
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookEndpoint


def _endpoint(request, endpoint_id) -> WebhookEndpoint:
    # Another shop's endpoint is a 404, like anything else of another shop's.
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, shop=request.user.shop, active=True)


class WebhookListCreateApi(APIView):
    permission_classes = [IsShopKey]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.EndpointIn, responses={201: s.EndpointCreatedOut})
    def post(self, request):
        serializer = s.EndpointIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(shop=request.user.shop, **serializer.validated_data)
        return Response(s.EndpointCreatedOut(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="webhooks_list", responses={200: results_of(s.EndpointOut)})
    def get(self, request):
        endpoints = WebhookEndpoint.objects.filter(shop=request.user.shop, active=True)
        return Response({"results": s.EndpointOut(endpoints, many=True).data})


class WebhookDetailApi(APIView):
    permission_classes = [IsShopKey]

    @extend_schema(responses={200: s.EndpointOut})
    def get(self, request, endpoint_id):
        return Response(s.EndpointOut(_endpoint(request, endpoint_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id):
        services.endpoint_deactivate(endpoint=_endpoint(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(APIView):
    permission_classes = [IsShopKey]

    @extend_schema(responses={200: results_of(s.AttemptOut)})
    def get(self, request, endpoint_id):
        endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, shop=request.user.shop)
        attempts = (
            WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
            .select_related("delivery__event")
            .order_by("-attempted_at", "-id")[:200]
        )
        return Response({"results": s.AttemptOut(attempts, many=True).data})
