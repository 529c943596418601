"""The OpenAPI schema says what the API answers (aftersales/schema.py); `make fuzz` checks it
against a live server, these tests pin what it must keep saying."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from tickets.models import Message


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def response_schema(schema, path, method, status):
    content = schema["paths"][path][method]["responses"][status]["content"]
    return resolve(schema, content["application/json"]["schema"])


def test_shop_keys_are_a_security_scheme_and_ticket_operations_accept_both(schema):
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    security = schema["paths"]["/api/v1/tickets/"]["post"]["security"]
    assert {"ApiKeyAuth": []} in security and {"tokenAuth": []} in security


def test_lists_are_documented_as_the_views_answer_them(schema):
    page = response_schema(schema, "/api/v1/tickets/", "get", "200")
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True
    assert page["properties"]["results"]["type"] == "array"
    events = response_schema(schema, "/api/v1/tickets/{number}/events/", "get", "200")
    assert set(events["properties"]) == {"results"}
    options = response_schema(
        schema, "/api/v1/tickets/{number}/compensation-options/", "get", "200"
    )
    assert set(options["properties"]) == {"options", "pair"}


def test_every_operation_documents_its_errors_with_the_error_body(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if operation.get("security") != [{}]:
            assert {"401", "403", "429"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status >= "400":
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_request_bodies_refuse_unknown_fields_and_blank_required_text(schema):
    closed = 0
    for _path, _method, operation in operations(schema):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            body = resolve(schema, media["schema"])
            if body.get("type") == "object" and "properties" in body:
                assert body["additionalProperties"] is False
                closed += 1
    assert closed >= 15
    create = schema["components"]["schemas"]["TicketCreateInRequest"]
    customer = resolve(schema, create["properties"]["customer"])
    assert customer["additionalProperties"] is False  # nested objects too
    assert customer["properties"]["external_id"]["minLength"] == 1
    money = resolve(schema, create["properties"]["order"])["properties"]["amount"]
    text, number = money["anyOf"]
    assert text["pattern"] == r"^[0-9]+(\.[0-9]+)?$" and number == {"type": "number", "minimum": 0}


@pytest.mark.django_db
def test_text_fields_take_strings_only(shop_client, ticket):
    before = Message.objects.filter(ticket=ticket).count()
    response = shop_client.post(
        f"/api/v1/tickets/{ticket.number}/messages/", {"body": 12}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"body"}
    assert Message.objects.filter(ticket=ticket).count() == before
    ok = shop_client.post(
        f"/api/v1/tickets/{ticket.number}/messages/", {"body": "12"}, format="json"
    )
    assert ok.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("size", ["null", "0", "101", "-1", "１"])
def test_a_page_size_the_list_cannot_give_is_refused(shop_client, size):
    response = shop_client.get(f"/api/v1/tickets/?page_size={size}")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"page_size"}


@pytest.mark.django_db
def test_page_size_within_bounds_or_empty_is_used(shop_client):
    assert shop_client.get("/api/v1/tickets/?page_size=100").status_code == 200
    assert shop_client.get("/api/v1/tickets/?page_size=").status_code == 200
