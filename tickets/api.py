"""REST API for tickets (API.md). Views parse input, call one service, render output."""

import django_filters
from django.contrib.auth import authenticate, get_user_model, user_logged_in
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import CreatedCursorPagination, DecimalJSONParser
from aftersales.db import prepared_queries
from aftersales.exceptions import ApplicationError
from aftersales.schema import PAGE_PARAMETERS, page_of, results_of
from shops.models import Shop
from shops.permissions import IsStaff, is_shop_key, is_staff_user
from shops.selectors import shop_and_role
from tickets import serializers as s
from tickets import services
from tickets.idempotency import KEY_PATTERN, idempotent_run
from tickets.models import TAG_NAME_MAX_LENGTH, Ticket
from tickets.selectors import (
    customer_get,
    customer_summary,
    for_output_page,
    tagged,
    ticket_attachments,
    ticket_events,
    ticket_get,
    ticket_messages,
    tickets_attach_shared,
    tickets_visible_to,
    visible_shop_ids,
)
from tickets.states import Priority, Status

User = get_user_model()


def actor_for(request) -> services.Actor:
    if is_shop_key(request):
        return services.Actor.shop(request.user.shop)
    return services.Actor.staff(request.user)


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PingApi(APIView):
    """A trivial endpoint: the framework's floor in benchmarks, and a health check."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response({"ok": True})


class TokenApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [DecimalJSONParser, FormParser]

    @extend_schema(
        request=s.TokenIn,
        responses={200: inline_serializer("TokenOut", {"token": serializers.CharField()})},
    )
    def post(self, request):
        data = validated(s.TokenIn, request.data)
        # The HttpRequest, not DRF's wrapper: django-axes marks a locked-out login on it for its middleware.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise ApplicationError(
                "invalid_credentials", gettext("Wrong username or password."), status_code=401
            )
        # A token is a login: the signal resets django-axes' failure count and records last_login.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class TicketFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    tag = django_filters.CharFilter(method="filter_tag", max_length=TAG_NAME_MAX_LENGTH)
    dispute_type = django_filters.CharFilter(field_name="dispute_type__code")
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    order_no = django_filters.CharFilter(method="filter_order_no")

    class Meta:
        model = Ticket
        fields = ["status", "dispute_type", "priority", "updated_after", "order_no", "tag"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tagged(shop_ids=visible_shop_ids(self.request.user), name=value))

    def filter_order_no(self, queryset, name, value):
        # An order belongs to its ticket's shop: naming the shops lets the (shop, order_no)
        # index find it instead of scanning every order (bench: 68 ms -> 0.5 ms at 1M).
        return queryset.filter(
            order__order_no=value, order__shop_id__in=visible_shop_ids(self.request.user)
        )


class TicketListCreateApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=s.TicketCreateIn,
        responses={201: s.TicketOut},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                pattern=f"^{KEY_PATTERN}$",
                description="Replays the first answer for a repeated create (24 h).",
            )
        ],
    )
    def post(self, request):
        if not is_shop_key(request):
            raise ApplicationError(
                "shop_key_required",
                gettext("Tickets are created by shop backends (Api-Key)."),
                status_code=403,
            )
        shop = request.user.shop

        def create() -> tuple[int, dict]:
            data = validated(s.TicketCreateIn, request.data)
            ticket = services.ticket_create(
                shop=shop,
                actor=actor_for(request),
                dispute_type_code=data["dispute_type"],
                customer=data["customer"],
                order=data["order"],
                description=data.get("description", ""),
                channel=data["channel"],
                external_ref=data.get("external_ref"),
                requested_resolution=data.get("requested_resolution", ""),
                affected_items=data.get("affected_items"),
                platform_deadline_at=data.get("platform_deadline_at"),
            )
            # Rendered from what was just written (ticket_create fills its relations): no read-back.
            return status.HTTP_201_CREATED, s.TicketOut(ticket).data

        key = request.headers.get("Idempotency-Key")
        if key is None:
            code, body = create()
            return Response(body, status=code)
        code, body, replayed = idempotent_run(
            shop=shop, key=key, payload=request.data, action=create
        )
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="tickets_list",
        responses={200: page_of(s.TicketOut)},
        parameters=[
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("dispute_type", str),
            OpenApiParameter("priority", str, enum=Priority.values),
            OpenApiParameter("updated_after", OpenApiTypes.DATETIME, description="ISO-8601 time"),
            OpenApiParameter("order_no", str),
            OpenApiParameter("tag", str, description="Tickets with this tag (any case)."),
            *PAGE_PARAMETERS,
        ],
    )
    def get(self, request):
        filterset = TicketFilter(
            request.query_params, queryset=tickets_visible_to(request.user), request=request
        )
        if not filterset.is_valid():
            raise ApplicationError(
                "validation_error",
                gettext("Invalid filter."),
                fields=filterset.errors.get_json_data(),
            )
        paginator = CreatedCursorPagination()
        # The page's reads as prepared statements: the tickets' is planned in 2.8 ms and run in
        # 0.7 at 1M; the related rows' and the risk flags' likewise.
        with prepared_queries():
            page = paginator.paginate_queryset(for_output_page(filterset.qs), request, view=self)
            key_shop = getattr(request.user, "shop", None)  # a shop's key: its own tickets only
            tickets_attach_shared(page, shops=(key_shop,) if key_shop else (), merged_into=True)
            body = s.TicketOut(page, many=True).data
        return paginator.get_paginated_response(body)


class TicketDetailApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: s.TicketOut})
    def get(self, request, number):
        return Response(
            s.TicketOut(ticket_get(user=request.user, number=number, for_output=True)).data
        )

    @extend_schema(
        request=s.TicketUpdateIn,
        responses={200: s.TicketOut},
        description="Staff only. Tags (replacing the set) and/or priority; each change is on "
        "the timeline.",
    )
    def patch(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(s.TicketUpdateIn, request.data)
        services.ticket_update(
            ticket=ticket,
            actor=actor_for(request),
            tags=data.get("tags"),
            priority=data.get("priority"),
        )
        return Response(
            s.TicketOut(ticket_get(user=request.user, number=number, for_output=True)).data
        )


class TicketBulkApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=s.BulkIn,
        responses={200: s.BulkOut},
        description="Staff only. Each ticket on its own (its own transaction, the single-ticket "
        "service): what failed is listed with why and never blocks the others; a number the "
        "caller cannot see is `not_found`. A bad action or value is a 400 for the whole request.",
    )
    def post(self, request):
        if not is_staff_user(request):
            raise exceptions.PermissionDenied(IsStaff.message)
        data = validated(s.BulkIn, request.data)
        result = services.tickets_bulk(
            shop_ids=visible_shop_ids(request.user),
            numbers=data["numbers"],
            action=data["action"],
            value=data["value"],
            actor=actor_for(request),
        )
        return Response(s.BulkOut(result).data)


class TicketEventsApi(APIView):
    @extend_schema(responses={200: results_of(s.EventOut)})
    def get(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        return Response({"results": s.EventOut(ticket_events(ticket=ticket), many=True).data})


class TicketMessagesApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.MessageIn, responses={201: s.MessageOut})
    def post(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        data = validated(s.MessageIn, request.data)
        message = services.message_add(
            ticket=ticket,
            body=data["body"],
            internal=data["internal"],
            actor=actor_for(request),
            seen_event_id=data.get("seen_event_id"),
        )
        return Response(s.MessageOut(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: results_of(s.MessageOut)})
    def get(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        # With the messages of the duplicates merged into it, each naming its ticket.
        return Response({"results": s.MessageOut(ticket_messages(ticket=ticket), many=True).data})


class TicketAttachmentsApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.AttachmentIn}, responses={201: s.AttachmentOut}
    )
    def post(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        data = validated(s.AttachmentIn, request.data)
        attachment = services.attachment_add(
            ticket=ticket, uploaded_file=data["file"], kind=data["kind"], actor=actor_for(request)
        )
        return Response(s.AttachmentOut(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: results_of(s.AttachmentOut)})
    def get(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        return Response(
            {"results": s.AttachmentOut(ticket_attachments(ticket=ticket), many=True).data}
        )


class TicketLogisticsApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.LogisticsIn, responses={201: s.LogisticsOut})
    def post(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        data = validated(s.LogisticsIn, request.data)
        row = services.logistics_event_add(
            ticket=ticket,
            event=data["event"],
            at=data["at"],
            signed_by=data.get("signed_by", ""),
            authorized=data.get("authorized"),
            reason=data.get("reason", ""),
            actor=actor_for(request),
        )
        return Response(s.LogisticsOut(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: results_of(s.LogisticsOut)})
    def get(self, request, number):
        ticket = ticket_get(user=request.user, number=number)
        return Response({"results": s.LogisticsOut(ticket.logistics_events.all(), many=True).data})


def staff_ticket_get(request, number):
    """The ticket for a staff-only action. Visibility is checked first: another shop's ticket
    is 404 to a shop key too (API.md), and only then is a shop key refused with 403."""
    ticket = ticket_get(user=request.user, number=number)
    if not is_staff_user(request):
        raise exceptions.PermissionDenied(IsStaff.message)
    return ticket


class TicketTransitionApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.TransitionIn, responses={200: s.TicketOut}, description="Staff only.")
    def post(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(s.TransitionIn, request.data)
        services.ticket_transition(
            ticket=ticket,
            action=data["action"],
            note=data.get("note", ""),
            actor=actor_for(request),
        )
        return Response(
            s.TicketOut(ticket_get(user=request.user, number=number, for_output=True)).data
        )


class TicketAssignApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=s.AssignIn, responses={200: s.TicketOut}, description="Staff only.")
    def post(self, request, number):
        ticket = staff_ticket_get(request, number)
        data = validated(s.AssignIn, request.data)
        assignee = None
        if data["assignee"]:
            assignee = User.objects.filter(username=data["assignee"], is_active=True).first()
            if assignee is None:
                raise ApplicationError(
                    "invalid_assignee",
                    gettext("No active user '%(name)s'.") % {"name": data["assignee"]},
                )
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=actor_for(request))
        return Response(
            s.TicketOut(ticket_get(user=request.user, number=number, for_output=True)).data
        )


class TicketMergeApi(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=s.MergeIn,
        responses={200: s.TicketOut},
        description="Staff only. Merges this ticket (a duplicate) into `into`, a ticket of the same "
        "shop and customer: this one is closed with `merged_into`; the target is returned. "
        "409 merge_not_allowed with the reason (different customer, compensation in flight, "
        "closed or merged ticket); another shop's ticket is 404.",
    )
    def post(self, request, number):
        source = staff_ticket_get(request, number)
        data = validated(s.MergeIn, request.data)
        target = ticket_get(user=request.user, number=data["into"])
        if target.shop_id != source.shop_id:  # another shop's ticket is unknown here
            raise Http404("No such ticket.")
        services.ticket_merge(
            source=source, target=target, note=data["note"], actor=actor_for(request)
        )
        return Response(
            s.TicketOut(ticket_get(user=request.user, number=target.number, for_output=True)).data
        )


def requested_shop(request) -> Shop:
    """The shop a read about one shop is for: a shop key's own; for staff the `?shop=CODE` they
    name, or their only shop. A shop the caller does not work for is 404, as its objects are;
    staff of several shops who name none get a 400 asking for `shop`."""
    code = (request.query_params.get("shop") or "").strip()
    if is_shop_key(request):
        if code and code != request.user.shop.code:
            raise Http404("No such shop.")
        return request.user.shop
    if code:
        shop, _role = shop_and_role(user=request.user, code=code)
        if shop is None:
            raise Http404("No such shop.")
        return shop
    shop_ids = visible_shop_ids(request.user)
    if not shop_ids:
        raise Http404("No such shop.")
    if len(shop_ids) > 1:
        raise ApplicationError(
            "validation_error",
            gettext("You work for several shops: name one with ?shop=CODE."),
            fields={"shop": [gettext("Required when you work for several shops.")]},
        )
    return Shop.objects.get(pk=shop_ids[0])


class CustomerDetailApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "shop",
                str,
                description="Staff of several shops: the shop's code. A shop key needs none.",
            )
        ],
        responses={200: s.CustomerDetailOut},
        description="The customer in one shop: tickets (newest first, at most 500), orders, "
        "compensation and risk flags. Another shop's customer is 404.",
    )
    def get(self, request, external_id):
        customer = customer_get(shop_id=requested_shop(request).pk, external_id=external_id)
        return Response(s.CustomerDetailOut(customer_summary(customer=customer)).data)
