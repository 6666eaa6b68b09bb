"""WebSocket tickets and kiosk handshake signatures in URLs never reach the access log."""

import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("logger_name", ["uvicorn.access", "uvicorn.error"])
def test_a_ticket_in_a_logged_websocket_path_is_masked(caplog, logger_name):
    with caplog.at_level(logging.INFO, logger=logger_name):
        logging.getLogger(logger_name).info(
            '%s - "WebSocket %s" [accepted]', "203.0.113.5:40000", "/ws/stats/?ticket=s3cr3t-t1cket&x=1"
        )

    assert "s3cr3t-t1cket" not in caplog.text
    assert "ticket=[redacted]&x=1" in caplog.text


def test_an_access_line_keeps_its_other_fields_and_types(caplog):
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "203.0.113.5:40000",
            "GET",
            "/ws/kiosk/?authorization=Kiosk%201:abcdef&timestamp=1&nonce=n0nce123456789abc",
            "1.1",
            101,
        )

    line = caplog.records[-1].getMessage()
    assert "abcdef" not in line and "n0nce123456789abc" not in line
    assert line.endswith(
        '"GET /ws/kiosk/?authorization=[redacted]&timestamp=1&nonce=[redacted] HTTP/1.1" 101'
    )
