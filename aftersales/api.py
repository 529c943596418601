"""Shared API building blocks: strict serializers, a float-free JSON parser, pagination."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """Parses JSON numbers with a fraction as Decimal, so money never passes through float."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding), parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(_("Malformed JSON: %(error)s") % {"error": exc})
        except RecursionError:
            raise exceptions.ParseError(_("Malformed JSON: nested too deeply."))
        _check_text(data)
        return data


MAX_JSON_DEPTH = 20  # our deepest body (a ticket's order items) is 4 levels


def _check_text(value, depth: int = 0, path: tuple = ()) -> None:
    """No NUL bytes or lone surrogates in keys or strings (they cannot be stored or compared):
    a validation error naming the field, as a serializer would; and no nesting deeper than any
    of our bodies."""
    from aftersales.middleware import bad_text

    if depth > MAX_JSON_DEPTH:
        raise exceptions.ParseError(_("Malformed JSON: nested too deeply."))
    if isinstance(value, str):
        if bad_text(value):
            raise exceptions.ValidationError(_nested(path, _("Contains a character that is not allowed (a NUL byte or a lone surrogate).")))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1, path)
            _check_text(item, depth + 1, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, depth + 1, (*path, str(index)))


def _nested(path: tuple, message: str) -> dict:
    """{"customer": {"external_id": [message]}} for path ("customer", "external_id")."""
    from aftersales.middleware import _clean

    if not path:
        return {"non_field_errors": [message]}
    error: dict | list = [message]
    for key in reversed(path):
        error = {_clean(key) or "?": error}
    return error


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON (DRF's own parser refuses them too)."""
    raise ValueError(f"{name} is not valid JSON")


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error instead of silently ignored."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: [_("Unknown field.")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


def MoneyField(**kwargs):  # noqa: N802 - reads like a field class at the call site
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), **kwargs)


class CreatedCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]})
        # DRF only checks the cursor's shape; a forged position would reach the query and fail there (500).
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:
                valid = False
            if not valid:
                raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]})
        return cursor
