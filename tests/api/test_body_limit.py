"""Bodies are bounded before Django reads them: on the declared length and on the bytes streamed."""

import asyncio
import json

import pytest

from backend.asgi import application

CHUNK = 64 * 1024

pytestmark = pytest.mark.django_db


async def _stream(path: str, chunks: int, headers=(), limit_chunks_read=None):
    """POST `chunks` chunks of CHUNK bytes with no Content-Length; returns (status, body, chunks read)."""
    read = 0
    sent = []

    async def receive():
        nonlocal read
        if read >= chunks:
            # A client that sent its body and waits for the answer.
            await asyncio.Event().wait()
        read += 1
        return {"type": "http.request", "body": b"a" * CHUNK, "more_body": read < chunks}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, read


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/admin/login/", "/dashboard/login/"])
async def test_a_streamed_body_is_cut_off_at_the_limit_not_read_to_the_end(path, settings):
    settings.API_MAX_BODY_BYTES = 1024 * 1024
    total_chunks = 16_000  # a gigabyte, were it all read

    status, body, read = await _stream(path, total_chunks)

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert read <= settings.API_MAX_BODY_BYTES // CHUNK + 1


@pytest.mark.asyncio
async def test_a_declared_length_over_the_limit_reads_nothing(settings):
    settings.API_MAX_BODY_BYTES = 1024 * 1024

    status, body, read = await _stream(
        "/api/v1/auth/register", 100, headers=[(b"content-length", str(2 * 1024 * 1024).encode())]
    )

    assert (status, read) == (413, 0)
    assert json.loads(body)["error"]["code"] == "payload_too_large"


@pytest.mark.asyncio
async def test_the_refusal_speaks_the_requests_language(settings):
    settings.API_MAX_BODY_BYTES = 1024

    _status, english, _read = await _stream("/api/v1/auth/register", 4, headers=[(b"accept-language", b"en")])
    _status, chinese, _read = await _stream(
        "/api/v1/auth/register", 4, headers=[(b"accept-language", b"zh-hans")]
    )

    assert json.loads(english)["error"]["message"] == "The request body is too large."
    assert json.loads(chinese)["error"]["message"] != "The request body is too large."


@pytest.mark.asyncio
async def test_a_body_under_the_limit_reaches_the_view(settings):
    status, body, _read = await _stream("/api/v1/auth/register", 1)

    assert status == 400
    assert json.loads(body)["error"]["code"] in {"malformed_request", "validation_error"}
