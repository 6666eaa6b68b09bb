"""Messages follow Accept-Language: English or Simplified Chinese; Chinese when the client names neither."""

import re

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]

HAN = re.compile(r"[\u4e00-\u9fff]")


def _message(response) -> str:
    return response.json()["error"]["message"]


@pytest.mark.parametrize("language", ["en", "en-US,en;q=0.9", "en-GB"])
def test_english_clients_get_english_messages(api, language):
    response = api.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 401
    assert _message(response) == "Authentication credentials were not provided."
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize("language", ["zh-hans", "zh-CN", "zh", "zh-Hans-CN,zh;q=0.9,en;q=0.5"])
def test_chinese_clients_get_chinese_messages(api, language):
    response = api.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 401
    assert HAN.search(_message(response))
    assert response["Content-Language"] == "zh-hans"


def test_chinese_is_the_default(api):
    response = api.get("/api/v1/me")

    assert HAN.search(_message(response))


def test_field_messages_are_translated_too(api):
    english = api.post("/api/v1/auth/register", {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api.post("/api/v1/auth/register", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert english["error"]["fields"]["phone"] == ["This field is required."]
    assert HAN.search(chinese["error"]["fields"]["phone"][0])
    assert english["error"]["code"] == chinese["error"]["code"] == "validation_error"


def test_a_language_the_service_lacks_falls_back_to_chinese(api):
    response = api.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="fr")

    assert HAN.search(_message(response))


def test_greenloops_own_messages_are_translated(api, resident):
    phone = str(resident.phone)
    body = {"phone": phone, "password": "sorting-is-fun-42", "display_name": "x"}

    english = api.post("/api/v1/auth/register", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    chinese = api.post("/api/v1/auth/register", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english.status_code == chinese.status_code == 409
    assert _message(english) == "An account with this phone number already exists."
    assert HAN.search(_message(chinese))


def test_the_body_guard_answers_in_the_requests_language(api, settings):
    big = str(settings.API_MAX_BODY_BYTES + 1)

    english = api.generic(
        "POST",
        "/api/v1/auth/register",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=big,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    chinese = api.generic(
        "POST",
        "/api/v1/auth/register",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=big,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert _message(english) == "The request body is too large."
    assert HAN.search(_message(chinese))
