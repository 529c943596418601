"""GET/POST /api/v1/shops/{code}/rules/, GET/PATCH/DELETE .../rules/{id}/ and POST
.../rules/{id}/preview/ (the shop's admins): API.md "Automation rules"."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import DecimalJSONParser
from aftersales.exceptions import ApplicationError
from automation import serializers as s
from automation import services, spec
from automation.selectors import shop_rule, shop_rules
from shops.permissions import IsStaff, shop_for_admin


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApplicationError(
            "validation_error",
            _("The request has invalid fields."),
            fields={"non_field_errors": _("Send a JSON object.")},
        )
    return dict(request.data)


class RuleListApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        responses={200: s.RuleListOut},
        description="The shop's rules in the order they run (position, then id). The first look "
        "at a shop that never had rules adds the shipped default rules, disabled.",
    )
    def get(self, request, code):
        shop = shop_for_admin(request, code)
        services.rules_defaults_ensure(shop=shop)
        return Response({"results": [services.rule_public(r) for r in shop_rules(shop=shop)]})

    @extend_schema(
        request=s.RuleIn,
        responses={201: s.RuleOut},
        description="A bad rule is 400 with `fields` naming the place, e.g. "
        "`conditions.all[0].op`. Rules never grant compensation.",
    )
    def post(self, request, code):
        shop = shop_for_admin(request, code)
        rule = services.rule_create(shop=shop, data=_body(request), user=request.user)
        return Response(services.rule_public(rule), status=201)


class RuleDetailApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: s.RuleOut})
    def get(self, request, code, rule_id):
        rule = shop_rule(shop=shop_for_admin(request, code), rule_id=rule_id)
        return Response(services.rule_public(rule))

    @extend_schema(
        request=s.RulePatchIn,
        responses={200: s.RuleOut},
        description="What is given replaces. A change to what the rule says (name, event, "
        "after, conditions, actions) is a new version; enabling and moving are not.",
    )
    def patch(self, request, code, rule_id):
        rule = shop_rule(shop=shop_for_admin(request, code), rule_id=rule_id)
        rule = services.rule_update(rule=rule, data=_body(request), user=request.user)
        return Response(services.rule_public(rule))

    @extend_schema(responses={204: None})
    def delete(self, request, code, rule_id):
        rule = shop_rule(shop=shop_for_admin(request, code), rule_id=rule_id)
        services.rule_delete(rule=rule)
        return Response(status=204)


class RulePreviewApi(APIView):
    permission_classes = [IsStaff]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=s.PreviewIn,
        responses={200: s.PreviewOut},
        description="Which of the last `days` days' tickets (1-90, default 30) the rule would "
        "have matched (`examples`: up to 20 numbers, newest first) and the actions it would "
        "have taken. Changes nothing.",
    )
    def post(self, request, code, rule_id):
        rule = shop_rule(shop=shop_for_admin(request, code), rule_id=rule_id)
        body = _body(request)
        unknown = sorted(set(body) - {"days"})
        if unknown:
            raise ApplicationError(
                "validation_error",
                _("The request has invalid fields."),
                fields={key: _("Unknown field.") for key in unknown},
            )
        definition = spec.rule_clean({}, shop=rule.shop, partial_of=rule)
        return Response(
            services.rule_preview(shop=rule.shop, definition=definition, days=body.get("days", 30))
        )
