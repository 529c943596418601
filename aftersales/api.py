"""Shared API building blocks: strict serializers, a float-free JSON parser, pagination."""

import datetime as dt
import json
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.fields import SkipField, empty
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.relations import PKOnlyObject, RelatedField
from rest_framework.utils.serializer_helpers import BindingDict

from aftersales.middleware import bad_text, text_clean


class DecimalJSONParser(JSONParser):
    """Parses JSON numbers with a fraction as Decimal, so money never passes through float."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(
                stream.read().decode(encoding), parse_float=Decimal, parse_constant=_refuse_constant
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(_("Malformed JSON: %(error)s") % {"error": exc}) from None
        except RecursionError:
            raise exceptions.ParseError(_("Malformed JSON: nested too deeply.")) from None
        _check_text(data)
        return data


# The longest list a body may carry (an order's lines, the affected items, a compensation's items).
MAX_LIST = 200
MAX_JSON_DEPTH = 20  # our deepest body (a ticket's order items) is 4 levels


def _check_text(value, depth: int = 0, path: tuple = ()) -> None:
    """No NUL bytes or lone surrogates in keys or strings (they cannot be stored or compared):
    a validation error naming the field, as a serializer would; and no nesting deeper than any
    of our bodies."""
    if depth > MAX_JSON_DEPTH:
        raise exceptions.ParseError(_("Malformed JSON: nested too deeply."))
    if isinstance(value, str):
        if bad_text(value):
            raise exceptions.ValidationError(
                _nested(
                    path,
                    _("Contains a character that is not allowed (a NUL byte or a lone surrogate)."),
                )
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1, path)
            _check_text(item, depth + 1, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, depth + 1, (*path, str(index)))


def _nested(path: tuple, message: str) -> dict:
    """{"customer": {"external_id": [message]}} for path ("customer", "external_id")."""
    if not path:
        return {"non_field_errors": [message]}
    error: dict | list = [message]
    for key in reversed(path):
        error = {text_clean(key) or "?": error}
    return error


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON (DRF's own parser refuses them too)."""
    raise ValueError(f"{name} is not valid JSON")


class FieldDict(BindingDict):
    """DRF's BindingDict (a serializer's fields), whose keys, values and items are its dict's
    own views: DRF's come from MutableMapping's generic ones, two Python calls per field every
    time a serializer walks its fields (validating a create-ticket's body walks them ~20 times)."""

    def keys(self):
        return self.fields.keys()

    def values(self):
        return self.fields.values()

    def items(self):
        return self.fields.items()

    def __setitem__(self, key, field):
        super().__setitem__(key, field)
        self._readable = None

    def __delitem__(self, key):
        super().__delitem__(key)
        self._readable = None

    _readable = None

    def readable(self) -> list[tuple]:
        """(name, field, source attributes, how the value is written) of each field an answer
        shows, in order: worked out once per set of fields. A related field has no attributes
        to follow: DRF reads only its key (PKOnlyObject), not the related row."""
        if self._readable is None:
            self._readable = [
                (
                    name,
                    field,
                    None if isinstance(field, RelatedField) else tuple(field.source_attrs),
                    _WRITTEN.get(type(field)),
                )
                for name, field in self.fields.items()
                if not field.write_only
            ]
        return self._readable


# Fields whose to_representation is this builtin (DRF's CharField: str(value), IntegerField:
# int(value)); the others' own to_representation is called.
_WRITTEN = {serializers.CharField: str, serializers.IntegerField: int}


class _Fallback(Exception):
    """The attribute is not a plain one (see PlainRepresentationMixin)."""


class PlainRepresentationMixin:
    """A serializer of model instances that reads each field's attribute itself when it is a
    plain one, the rest as DRF does.

    DRF reads an answer's every attribute through Field.get_attribute: a Mapping test (an ABC
    check), a test for a method to call (inspect) and the error handling, for each field of
    each row — a create-ticket's answer has ~50, a page of the list API ~1,250. Here a field's
    attribute path is followed with getattr while each step is neither callable nor missing;
    anything else (a method or manager to call, a missing related row, a dict, a related
    field) takes DRF's own get_attribute and to_representation, so an answer is the same
    (tests/tickets/test_api_representation.py compares them)."""

    def to_representation(self, instance):
        if not isinstance(instance, Model):
            return super().to_representation(instance)
        answer = {}
        for name, field, attrs, written in self.fields.readable():
            try:
                if attrs is None:
                    raise _Fallback
                value = instance
                for attr in attrs:
                    value = getattr(value, attr)
                    if callable(value):
                        raise _Fallback
            except (_Fallback, AttributeError, KeyError, ObjectDoesNotExist):
                # (what DRF's get_attribute handles; anything else it would raise too)
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                if value is None or (isinstance(value, PKOnlyObject) and value.pk is None):
                    answer[name] = None
                else:
                    answer[name] = field.to_representation(value)
                continue
            if value is None:
                answer[name] = None
            elif written is not None:
                answer[name] = written(value)
            else:
                answer[name] = field.to_representation(value)
        return answer


def _bound_fields(serializer) -> FieldDict:
    """The serializer's fields, bound to it (what DRF's Serializer.fields builds)."""
    fields = FieldDict(serializer)
    for name, field in serializer.get_fields().items():
        fields[name] = field
    return fields


class FieldDictMixin(PlainRepresentationMixin):
    """A serializer whose fields are a FieldDict: for the hot paths' serializers."""

    @cached_property
    def fields(self):
        return _bound_fields(self)


class StrictSerializer(FieldDictMixin, serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error instead of silently ignored; in a
    JSON body, a value of the wrong JSON type too (DRF would read 12 as the text "12", 0 as
    false and "5" as 5). A query string or a form carries only text: `json_types = False`."""

    json_types = True

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: [_("Unknown field.")] for name in unknown}
        if self.json_types and type(data) is dict:  # a QueryDict is a form's or a query's text
            for name, field in self.fields.items():
                value = data.get(name)
                if value is not None and not _json_type_fits(field, value):
                    errors[name] = [field.error_messages["invalid"]]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class SharedFieldsMixin(PlainRepresentationMixin):
    """The serializer's fields built and bound once per class, shared by every instance, instead
    of DRF's deep copy of the declared fields (and of each nested serializer's) per instance: for
    a serializer on a hot path (create-ticket: ~80 field constructions a request for its input,
    ~50 for its answer, `TicketOut`).

    Only for serializers whose fields keep no state between uses and read nothing from the
    serializer they are bound to (no context, no instance, no fields changed in __init__; a
    method field's method must not use `self`): what one validation finds lives on the root
    instance (initial_data, errors, validated_data), and so does what it answers (data), which
    stay per request. A root instance takes the attributes DRF's Field.__init__ gave its class's
    first one instead of running it again (__init__ below)."""

    @cached_property
    def fields(self):
        shared = type(self).__dict__.get("_shared_fields")
        if shared is None:
            shared = type(self)._shared_fields = _bound_fields(self)
        return shared

    def __init__(self, instance=None, data=empty, **kwargs):
        # A root instance (no field options: what a view makes per request) takes the field
        # attributes DRF's Field.__init__ gave the class's first one, without running it: it
        # writes a class attribute (Field._creation_counter), which retags Field and all its
        # subclasses in CPython's attribute caches (aftersales.runtime), and walks the MRO
        # for the error messages.
        root = type(self).__dict__.get("_root_attributes")
        if root is None or kwargs.keys() - _ROOT_OPTIONS:
            super().__init__(instance, data, **kwargs)
            if root is None and not kwargs.keys() - _ROOT_OPTIONS:
                type(self)._root_attributes = {
                    name: value for name, value in vars(self).items() if name not in _PER_USE
                }
            return
        vars(self).update(
            {name: value.copy() if type(value) is dict else value for name, value in root.items()}
        )
        self.instance = instance
        if data is not empty:
            self.initial_data = data
        self.partial = kwargs.get("partial", False)
        self._context = kwargs.get("context", {})


# What a serializer is given per use (DRF's Field.__new__ keeps the arguments, BaseSerializer's
# __init__ the rest; a root serializer's other attributes are the same for every instance of its
# class), and the options a root one may be given.
_PER_USE = frozenset({"_args", "_kwargs", "instance", "initial_data", "partial", "_context"})
_ROOT_OPTIONS = frozenset({"partial", "context"})


def _json_type_fits(field, value) -> bool:
    if isinstance(field, serializers.CharField):
        return isinstance(value, str)
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    return True


# The form of the text; how many digits it may have is DecimalField's check (with its own message).
MONEY_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")


class StrictMoneyField(serializers.DecimalField):
    """Money as API.md writes it: a decimal string of ASCII digits ("10.50"), or a JSON number
    with the same digits. Python's Decimal would also take "１０", "١٠", "1_0", "-0.00" and
    "1e-999999": each of those is a typo or a probe, refused with the field named."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str):
            text = data.strip()
            if not MONEY_TEXT.fullmatch(text):
                self.fail("invalid")
        elif isinstance(data, (int, Decimal)):
            value = Decimal(data)
            if not value.is_finite() or value.is_signed() or not -3 <= value.adjusted() < 10:
                if value.is_finite() and value.is_zero() and not value.is_signed():
                    return super().to_internal_value(data)
                self.fail("invalid")
        return super().to_internal_value(data)


ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})"
)
EARLIEST_YEAR, YEARS_AHEAD = 2000, 5


class AwareDateTimeField(serializers.DateTimeField):
    """A moment as API.md writes it: ISO-8601 with a date, a time and an offset
    ("2026-11-20T10:00:00+08:00"), between 2000 and five years ahead. A bare date, a week date,
    a time without offset (whose zone would be a guess) or year 1 (whose timers could never be
    computed) is refused with the field named."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not ISO_DATETIME.fullmatch(value.strip()):
            raise serializers.ValidationError(
                _("Give a date and time with its offset, e.g. 2026-11-20T10:00:00+08:00."),
                code="invalid",
            )
        moment = super().to_internal_value(value.strip())
        latest_year = dt.date.today().year + YEARS_AHEAD
        if not EARLIEST_YEAR <= moment.year <= latest_year:
            raise serializers.ValidationError(
                _("Give a time between %(first)s and %(last)s.")
                % {"first": EARLIEST_YEAR, "last": latest_year},
                code="invalid",
            )
        return moment


def MoneyField(**kwargs):
    return StrictMoneyField(max_digits=12, decimal_places=2, min_value=Decimal("0"), **kwargs)


class CreatedCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        """DRF falls back to the default for `page_size=abc` or `0`; a client asking for a size
        it will not get should hear so. Empty is not given, as for every list parameter."""
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]}) from None
        # DRF only checks the cursor's shape; a forged position would reach the query and fail there (500).
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:
                valid = False
            if not valid:
                raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]})
        return cursor
