"""Every refusal under /api/ leaves as `{"error": {"code", "message", "fields"?}}`; input never causes a 500."""

import re

import pytest

from accounts.models import User
from tests import factories
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]

REGISTER = "/api/v1/auth/register"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert SNAKE_CASE.match(error["code"]), error["code"]
    assert isinstance(error["message"], str) and error["message"].strip()
    assert set(error) <= {"code", "message", "fields", "server_time"}
    if code is not None:
        assert error["code"] == code
    return error


def _post_raw(client, path, body: bytes, content_type="application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def test_a_validation_error_names_its_fields(api):
    error = assert_envelope(api.post(REGISTER, {"phone": "138"}, format="json"), 400, "validation_error")

    assert set(error["fields"]) == {"password", "display_name"}
    assert all(isinstance(messages, list) and messages for messages in error["fields"].values())


def test_a_body_that_is_not_an_object_is_a_validation_error(api):
    error = assert_envelope(_post_raw(api, REGISTER, b"[1, 2]"), 400, "validation_error")

    assert "non_field_errors" in error["fields"]


def test_unauthenticated_is_401(api):
    response = api.get("/api/v1/me")

    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_forbidden_role_is_403(as_user, resident):
    assert_envelope(as_user(resident).post("/api/v1/staff", {}, format="json"), 403, "permission_denied")


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/nope", "/api/v1/", "/api/v1/districts/abc/communities"]
)
def test_an_unknown_path_is_404_json(api, path):
    assert_envelope(api.get(path), 404, "not_found")


def test_an_unknown_api_path_is_json_even_with_debug_on(api, settings):
    settings.DEBUG = True

    assert_envelope(api.get("/api/v1/nope"), 404, "not_found")


def test_a_404_outside_the_api_stays_an_html_page(client, db):
    response = client.get("/nope")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_405(api):
    response = api.delete("/api/v1/districts")

    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_an_unsupported_media_type_is_415(api):
    response = _post_raw(api, REGISTER, b"phone=1", content_type="text/plain")

    assert_envelope(response, 415, "unsupported_media_type")
    assert not User.objects.exists()


def test_an_unacceptable_accept_header_is_406(api):
    assert_envelope(api.get("/api/v1/districts", HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_a_declared_length_over_the_limit_is_413_before_reading(api, settings):
    response = _post_raw(api, REGISTER, b"{}", CONTENT_LENGTH=str(settings.API_MAX_BODY_BYTES + 1))

    assert_envelope(response, 413, "payload_too_large")


def test_a_real_body_over_the_limit_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000

    response = _post_raw(api, REGISTER, b'{"phone": "' + b"1" * 2000 + b'"}')

    assert_envelope(response, 413, "payload_too_large")
    assert not User.objects.exists()


def test_a_json_body_over_the_form_memory_limit_is_refused_cleanly(api, settings):
    body = (
        b'{"phone": "13800138000", "password": "x", "display_name": "'
        + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
        + b'"}'
    )

    response = _post_raw(api, REGISTER, body)

    assert_envelope(response, 413, "payload_too_large")
    assert not User.objects.exists()


def test_a_content_length_that_is_not_a_number_is_400(api):
    assert_envelope(_post_raw(api, REGISTER, b"{}", CONTENT_LENGTH="abc"), 400, "malformed_request")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"phone": }',
        b"{'phone': '1'}",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[" * 10_000,
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"[" * 40 + b"]" * 40,
        b'"\\u0000"',
        b'{"display_name": "a\\u0000b"}',
        b'{"a\\u0000": 1}',
        b'{"x": ["ok", {"y": "\\u0000"}]}',
        b'{"phone": "\xff\xfe"}',
        b"\xef\xbb\xbf{}",
        b'{"phone": "\\ud800"}',
        b'{"phone": ' + b"1" * 5000 + b"}",
        b"",
        b"null",
    ],
    ids=[
        "unclosed",
        "missing-value",
        "single-quotes",
        "nan",
        "infinity",
        "10000-open-brackets",
        "10000-deep-array",
        "5000-deep-object",
        "40-deep",
        "nul-string",
        "nul-in-value",
        "nul-in-key",
        "nul-nested",
        "invalid-utf8",
        "utf8-bom",
        "lone-surrogate",
        "5000-digit-number",
        "empty",
        "null",
    ],
)
def test_hostile_json_is_a_400_never_a_500(api, body):
    response = _post_raw(api, REGISTER, body)

    assert_envelope(response, 400)
    assert not User.objects.exists()


@pytest.mark.parametrize("value", [b"1e999", b"-1e999", b"1" * 400, b"1.5", b"true"])
def test_odd_json_numbers_for_an_id_are_a_clean_4xx(as_user, district_officer, value):
    response = _post_raw(
        as_user(district_officer), "/api/v1/communities", b'{"name": "x", "district_id": ' + value + b"}"
    )

    assert response.status_code in {400, 404}
    assert_envelope(response, response.status_code)


def test_moderate_nesting_is_still_accepted_as_json(api):
    body = b'{"phone": "13800138000", "password": "' + PASSWORD.encode() + b'", "display_name": "a", "x": '
    body += b"[" * 20 + b"]" * 20 + b"}"

    assert _post_raw(api, REGISTER, body).status_code == 201


@pytest.mark.parametrize("query", ["?q=%00", "?page=1%00", "?%00=1"], ids=["value", "suffix", "key"])
def test_a_nul_in_the_query_string_is_400(api, query):
    assert_envelope(api.get("/api/v1/districts" + query), 400, "malformed_request")


def test_a_nul_in_the_path_is_400(api):
    assert_envelope(api.get("/api/v1/districts%00"), 400, "malformed_request")


def test_a_raw_nul_byte_in_the_query_string_is_400(api):
    assert_envelope(api.get("/api/v1/districts", QUERY_STRING="q=a\x00b"), 400, "malformed_request")


def test_invalid_utf8_in_the_query_string_is_a_clean_404_page(api):
    assert_envelope(api.get("/api/v1/districts?page=%FF%FE"), 404, "not_found")


def test_invalid_utf8_in_the_path_is_a_clean_404(api):
    assert_envelope(api.get("/api/v1/districts/%FF/communities"), 404, "not_found")


def test_a_nul_in_a_form_field_is_refused(api):
    response = api.post(
        REGISTER,
        "phone=13800138000&password=sorting-is-fun-42&display_name=a%00b",
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 400, "validation_error")
    assert not User.objects.exists()


def test_malformed_multipart_is_400(api):
    response = _post_raw(
        api, REGISTER, b"--xx\r\nContent-Disposition: form-data\r\n\r\n", content_type="multipart/form-data"
    )

    assert_envelope(response, 400)


@pytest.mark.parametrize("value", [10**30, -(10**30), "1e400", 2**63])
def test_an_out_of_range_integer_is_a_clean_4xx(as_user, district_officer, value):
    response = as_user(district_officer).post(
        "/api/v1/communities", {"district_id": value, "name": "x"}, format="json"
    )

    assert response.status_code in {400, 404}
    assert_envelope(response, response.status_code)


def test_an_out_of_range_id_in_the_path_is_404(api):
    assert_envelope(api.get("/api/v1/districts/99999999999999999999999/communities"), 404, "not_found")


@pytest.mark.parametrize(
    "query", ["?page=-1", "?page=0", "?page_size=100000", "?page_size=-5", "?page_size=abc"]
)
def test_odd_paging_parameters_never_fail(api, query):
    response = api.get("/api/v1/districts" + query)

    assert response.status_code in {200, 404}
    if response.status_code == 404:
        assert_envelope(response, 404, "not_found")


def test_a_throttled_request_is_429(api, throttle_rates):
    throttle_rates(register="1/min")
    api.post(REGISTER, {}, format="json")

    response = api.post(REGISTER, {}, format="json")

    assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_a_domain_error_keeps_its_code_and_status(api):
    factories.ResidentFactory(phone="+8613800138000")

    response = api.post(
        REGISTER, {"phone": "13800138000", "password": PASSWORD, "display_name": "x"}, format="json"
    )

    assert_envelope(response, 409, "phone_taken")


def test_messages_are_json_with_readable_unicode(api):
    response = api.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert b"\\u" not in response.content


def test_a_bad_request_is_json_even_with_debug_on(api, settings):
    settings.DEBUG = True

    assert_envelope(api.get("/api/v1/districts", HTTP_HOST="evil.example"), 400, "malformed_request")


def test_a_bad_host_is_400_json_under_the_api(api):
    assert_envelope(api.get("/api/v1/districts", HTTP_HOST="evil.example"), 400, "malformed_request")
