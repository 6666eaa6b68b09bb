"""Django's own error pages: the envelope under /api/, Django's HTML elsewhere."""

import json

import pytest
from django.test import RequestFactory

from api import handlers

pytestmark = pytest.mark.django_db

PAGES = [
    (handlers.bad_request, 400, "malformed_request"),
    (handlers.permission_denied, 403, "permission_denied"),
    (handlers.not_found, 404, "not_found"),
    (handlers.server_error, 500, "server_error"),
]


def _call(handler, path):
    request = RequestFactory().get(path)
    return handler(request) if handler is handlers.server_error else handler(request, Exception("x"))


@pytest.mark.parametrize(("handler", "status", "code"), PAGES)
def test_api_error_pages_are_the_envelope(handler, status, code):
    response = _call(handler, "/api/v1/anything")

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(("handler", "status", "code"), PAGES)
def test_other_error_pages_stay_html(handler, status, code):
    response = _call(handler, "/admin/anything")

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")


def test_the_server_error_page_reveals_nothing_of_the_failure():
    response = _call(handlers.server_error, "/api/v1/x")

    assert b"Traceback" not in response.content
    assert set(json.loads(response.content)["error"]) == {"code", "message"}
