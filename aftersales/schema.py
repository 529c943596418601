"""The OpenAPI schema tells the truth about the API (drf-spectacular).

- Lists: `results_of(X)` is `{"results": [X]}`, `page_of(X)` the cursor page
  `{"next", "previous", "results"}` — the shapes the views answer.
- Errors: every operation documents the statuses it can answer with the one error body of
  `aftersales.exceptions` (`add_error_responses`, a postprocessing hook).
- An empty query parameter is not given (`allow_empty_query_values`).
- Bodies are strict: request objects refuse unknown fields (`StrictSerializer`), so their schemas
  say `additionalProperties: false` (`close_request_bodies`).
- Security: the shop backend's `Api-Key` scheme next to the staff's `Token`.
"""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from aftersales.api import ISO_DATETIME, MONEY_TEXT, CreatedCursorPagination


def results_of(serializer_class):
    """`{"results": [...]}`: a ticket's events, messages, attachments, a shop's webhooks."""
    return inline_serializer(
        name=f"{serializer_class.__name__.removesuffix('Out')}Results",
        fields={"results": serializer_class(many=True)},
    )


def page_of(serializer_class):
    """One page of a cursor-paginated list (`aftersales.api.CreatedCursorPagination`)."""
    return inline_serializer(
        name=f"{serializer_class.__name__.removesuffix('Out')}Page",
        fields={
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null."
            ),
            "results": serializer_class(many=True),
        },
    )


# The query parameters of every cursor-paginated list.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="From the previous page's next/previous."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": CreatedCursorPagination.max_page_size},
        description=f"Default {CreatedCursorPagination.page_size}.",
    ),
]

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine code, e.g. not_found."},
                "message": {"type": "string", "description": "In the reader's language."},
                "fields": {
                    "type": "object",
                    "description": "Per-field messages (validation_error, stale_view, …).",
                },
            },
        }
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (validation_error, malformed_request, …).",
    "401": "No credentials, or wrong ones.",
    "403": "The caller's role may not do this.",
    "404": "No such object among the caller's shops.",
    "409": "The object's state does not allow this (illegal_transition, stale_view, …).",
    "413": "The body is too large (too_large).",
    "415": "Unsupported Content-Type.",
    "429": "Too many requests (throttled, too_many_attempts); see Retry-After.",
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def add_error_responses(result, generator, request, public):
    """Every operation lists the error statuses it can answer, with the error body:
    400 when it reads a body or query parameters, 401/403/429 when it needs credentials,
    404 for a path naming an object, 409 for writes to an existing object (and creates, which
    replay or refuse by Idempotency-Key), 413/415 when it reads a body."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = set()
            has_body = "requestBody" in operation
            authenticated = operation.get("security") != [{}]
            if has_body or any(p["in"] == "query" for p in operation.get("parameters", [])):
                statuses.add("400")
            if authenticated:
                statuses |= {"401", "403", "429"}
            if "{" in path:
                statuses.add("404")
            if method in WRITE_METHODS and authenticated:
                statuses.add("409")
            if has_body:
                statuses |= {"413", "415"}
            if path.endswith("/auth/token/"):
                statuses |= {"401", "429"}  # wrong password; locked out after too many
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses):
                responses.setdefault(
                    code,
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result


def allow_empty_query_values(result, generator, request, public):
    """Every list and filter reads an empty `?status=` as not given (as HTML forms send it)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def close_request_bodies(result, generator, request, public):
    """Request objects refuse unknown fields: every schema reached from a request body (through
    $refs and nested objects) gets `additionalProperties: false` unless it says otherwise."""
    schemas = result.get("components", {}).get("schemas", {})
    seen = set()

    def close(schema):
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in schemas:
                seen.add(name)
                close(schemas[name])
            return
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.get("properties", {}).values():
            close(value)
        close(schema.get("items"))
        for key in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(key, []):
                close(part)

    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                close(media.get("schema"))
    return result


class ShopApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "shops.authentication.ShopAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A shop backend\'s key with the prefix "Api-Key": `Api-Key <key>`.',
        }


class StrictMoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "aftersales.api.StrictMoneyField"

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.DECIMAL)
        if direction != "request":
            return schema
        # A decimal string of ASCII digits, or a JSON number with the same digits.
        text = {**schema, "pattern": f"^{MONEY_TEXT.pattern}$"}
        return {"anyOf": [text, {"type": "number", "minimum": 0}]}


class AwareDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "aftersales.api.AwareDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.DATETIME)
        if direction == "request":
            schema["pattern"] = f"^{ISO_DATETIME.pattern}$"
            schema["description"] = "With its offset, between 2000 and five years ahead."
        return schema
