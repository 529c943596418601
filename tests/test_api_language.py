"""The API's error messages follow Accept-Language: Simplified Chinese by default, English on
request. Codes never change with the language (programs read them)."""

import pytest

from tests.factories import staff_member, ticket_payload

LANGUAGES = {"zh-hans": {}, "en": {"HTTP_ACCEPT_LANGUAGE": "en"}}


def test_validation_errors_of_the_create_follow_the_language(shop_client):
    body = ticket_payload(colour="red")
    del body["customer"]["external_id"]
    chinese = shop_client.post("/api/v1/tickets/", body, format="json").json()["error"]
    english = shop_client.post(
        "/api/v1/tickets/", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["error"]
    assert chinese["code"] == english["code"] == "validation_error"
    assert english["message"] == "The request has invalid fields."
    assert english["fields"]["colour"] == "Unknown field."
    assert english["fields"]["customer"]["external_id"] == "This field is required."
    assert chinese["message"] == "请求中有无效的字段。"
    assert chinese["fields"]["colour"] == "未知字段。"
    assert chinese["fields"]["customer"]["external_id"] == "该字段是必填项。"


@pytest.mark.parametrize("language", LANGUAGES)
def test_authentication_and_parse_errors_follow_the_language(client, db, language):
    bad_key = client.get(
        "/api/v1/tickets/", HTTP_AUTHORIZATION="Api-Key nonsense", **LANGUAGES[language]
    ).json()["error"]
    assert bad_key["code"] == "authentication_failed"
    assert bad_key["message"] == {"en": "Invalid API key.", "zh-hans": "API 密钥无效。"}[language]


def test_malformed_json_keeps_its_code_in_chinese(shop_client):
    response = shop_client.generic(
        "POST", "/api/v1/tickets/", "{oops", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert response.json()["error"]["message"].startswith("JSON 格式错误")


@pytest.mark.parametrize("language", LANGUAGES)
def test_settings_errors_follow_the_language(shop, token_client, language):
    admin = token_client(staff_member(shop, "admin", username="boss"))
    error = admin.patch(
        "/api/v1/shops/demo/sla/",
        {"contact_window": ["18:00", "10:00"]},
        format="json",
        **LANGUAGES[language],
    ).json()["error"]
    assert (
        error["fields"]["contact_window"]
        == {
            "en": "The opening time must be before the closing time.",
            "zh-hans": "开始时间必须早于结束时间。",
        }[language]
    )
