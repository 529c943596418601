"""REST API for responsibility, compensation and the shop's policy (API.md)."""

from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import CreatedCursorPagination, DecimalJSONParser
from aftersales.exceptions import ApplicationError
from aftersales.schema import PAGE_PARAMETERS, page_of, results_of
from disputes import serializers as s
from disputes import services, standard
from disputes.models import Compensation, CompensationStatus
from shops.permissions import IsShopKey, IsStaff, is_shop_key, is_staff_user, shop_for_admin
from tickets.api import actor_for, staff_ticket_get, validated
from tickets.selectors import visible_shop_ids


class JudgmentSuggestionApi(APIView):
    @extend_schema(responses={200: s.SuggestionOut})
    def get(self, request, number):
        suggestion = services.judgment_suggest(ticket=staff_ticket_get(request, number))
        return Response(s.SuggestionOut(suggestion).data)


class JudgmentCreateApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.JudgmentIn, responses={201: s.JudgmentOut})
    def post(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(s.JudgmentIn, request.data)
        judgment = services.judgment_create(ticket=ticket, actor=actor_for(request), **data)
        return Response(s.JudgmentOut(judgment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: results_of(s.JudgmentOut)})
    def get(self, request, number):
        ticket = staff_ticket_get(request, number)
        return Response(
            {
                "results": s.JudgmentOut(
                    ticket.judgments.select_related("created_by"), many=True
                ).data
            }
        )


class CompensationOptionsApi(APIView):
    @extend_schema(
        parameters=[s.OptionsQueryIn],
        responses={
            200: inline_serializer(
                "CompensationOptions",
                {"options": s.OptionOut(many=True), "pair": s.OptionOut(many=True)},
            )
        },
    )
    def get(self, request, number):
        ticket = staff_ticket_get(request, number)
        given = {key: value for key, value in request.query_params.items() if value != ""}
        query = validated(s.OptionsQueryIn, given)
        options = services.compensation_options(
            ticket=ticket,
            usable=query["usable"],
            customer_refused=query["customer_refused"] or None,
            return_shipping_quote=query["return_shipping_quote"],
            ladder_step=query["ladder_step"],
        )
        return Response(
            {
                "options": s.OptionOut(options, many=True).data,
                # The 2-选-1 pair to offer the customer (seeds 001/004).
                "pair": s.OptionOut(standard.two_options(options), many=True).data,
            }
        )


class TicketCompensationsApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.CompensationIn, responses={201: s.CompensationOut})
    def post(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(s.CompensationIn, request.data)
        compensation = services.compensation_propose(
            ticket=ticket, actor=actor_for(request), **data
        )
        return Response(s.CompensationOut(compensation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: results_of(s.CompensationOut)})
    def get(self, request, number):
        ticket = staff_ticket_get(request, number)
        rows = ticket.compensations.select_related("ticket", "policy", "proposed_by", "decided_by")
        return Response({"results": s.CompensationOut(rows, many=True).data})


def compensation_get(request, compensation_id, *, only: str | None = None) -> Compensation:
    """A compensation of a shop the caller can see, else 404 (to everyone, as API.md wants);
    then 403 when the action is only for staff (only="staff") or only for shop backends ("shop")."""
    row = (
        Compensation.objects.select_related("ticket__shop", "policy", "proposed_by", "decided_by")
        .filter(pk=compensation_id, ticket__shop_id__in=visible_shop_ids(request.user))
        .first()
    )
    if row is None:
        raise Http404("No such compensation.")
    if only == "staff" and not is_staff_user(request):
        raise exceptions.PermissionDenied(IsStaff.message)
    if only == "shop" and not is_shop_key(request):
        raise exceptions.PermissionDenied(IsShopKey.message)
    return row


class CompensationListApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=CompensationStatus.values),
            *PAGE_PARAMETERS,
        ],
        responses={200: page_of(s.CompensationOut)},
    )
    def get(self, request):
        rows = Compensation.objects.select_related(
            "ticket", "policy", "proposed_by", "decided_by"
        ).filter(ticket__shop_id__in=visible_shop_ids(request.user))
        wanted = request.query_params.get("status")
        if wanted:  # an empty parameter is not given, as in every list's filters
            if wanted not in CompensationStatus.values:
                raise ApplicationError(
                    "validation_error",
                    gettext("Invalid filter."),
                    fields={
                        "status": gettext("Unknown status; use one of %(statuses)s.")
                        % {"statuses": ", ".join(CompensationStatus.values)}
                    },
                )
            rows = rows.filter(status=wanted)
        paginator = CreatedCursorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(s.CompensationOut(page, many=True).data)


class CompensationDecisionApi(APIView):
    """approve / reject / cancel: one staff decision with an optional note (reject needs one)."""

    parser_classes = [DecimalJSONParser]
    decision = None  # set per route: as_view(decision="approve")
    DECISIONS = {
        "approve": services.compensation_approve,
        "reject": services.compensation_reject,
        "cancel": services.compensation_cancel,
    }

    @extend_schema(request=s.DecisionIn, responses={200: s.CompensationOut})
    def post(self, request, compensation_id):
        compensation = compensation_get(request, compensation_id, only="staff")
        data = validated(s.DecisionIn, request.data)
        done = self.DECISIONS[self.decision](
            compensation=compensation, actor=actor_for(request), note=data["note"]
        )
        return Response(s.CompensationOut(done).data)


class CompensationExecutedApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.ExecutedIn, responses={200: s.CompensationOut})
    def post(self, request, compensation_id):
        compensation = compensation_get(request, compensation_id, only="shop")
        data = validated(s.ExecutedIn, request.data)
        done = services.compensation_report_executed(
            compensation=compensation, actor=actor_for(request), **data
        )
        return Response(s.CompensationOut(done).data)


class CompensationFailedApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.FailedIn, responses={200: s.CompensationOut})
    def post(self, request, compensation_id):
        compensation = compensation_get(request, compensation_id, only="shop")
        data = validated(s.FailedIn, request.data)
        done = services.compensation_report_failed(
            compensation=compensation, actor=actor_for(request), reason=data["reason"]
        )
        return Response(s.CompensationOut(done).data)


class ShopPolicyApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    def _body(self, row):
        return {
            "shop": row.shop.code,
            "version": row.version,
            "created_at": row.created_at,
            **row.values,
        }

    @extend_schema(responses={200: dict})
    def get(self, request, code):
        row = services.policy_current(shop=shop_for_admin(request, code))
        return Response(self._body(row))

    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request, code):
        shop = shop_for_admin(request, code)
        if not isinstance(request.data, dict):
            raise ApplicationError(
                "validation_error", gettext("Send a JSON object of settings to change.")
            )
        row = services.policy_update(
            shop=shop, changes=dict(request.data), actor=actor_for(request)
        )
        return Response(self._body(row))
