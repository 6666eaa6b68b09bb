"""The same guards hold when requests arrive through the ASGI application, as they do in production."""

import json

import pytest
from channels.testing import HttpCommunicator
from django.conf import settings

from backend.asgi import application


async def _call(method: str, path: str, body: bytes = b"", headers=(), query: bytes = b""):
    communicator = HttpCommunicator(application, method, path, body=body, headers=list(headers))
    communicator.scope["query_string"] = query
    response = await communicator.get_response(timeout=10)
    return response["status"], response["body"]


@pytest.mark.asyncio
async def test_an_oversized_declared_body_is_413_over_asgi():
    status, body = await _call(
        "POST",
        "/api/v1/auth/register",
        b"{}",
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(settings.API_MAX_BODY_BYTES + 1).encode()),
        ],
    )

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


@pytest.mark.asyncio
@pytest.mark.parametrize("query", [b"q=%00", b"q=a\x00b"])
async def test_a_nul_in_the_query_is_400_over_asgi(query):
    status, body = await _call("GET", "/api/v1/districts", query=query)

    assert status == 400
    assert json.loads(body)["error"]["code"] == "malformed_request"


@pytest.mark.asyncio
async def test_deeply_nested_json_is_400_over_asgi():
    status, body = await _call(
        "POST", "/api/v1/auth/register", b"[" * 10_000, headers=[(b"content-type", b"application/json")]
    )

    assert status == 400
    assert json.loads(body)["error"]["code"] == "malformed_request"
