"""Secrets and phone numbers never reach a log line, however they got into the message."""

import logging

import pytest
from django.test import Client

from backend.observability.logs import GreenLoopJsonFormatter, RequestContextFilter
from backend.observability.redaction import redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo3fQ.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /ws/stats/?ticket=Zq8-t1cket-value", "Zq8-t1cket-value"),
        ("Authorization: Bearer " + JWT, JWT),
        ("token " + JWT + " refused", JWT),
        ("Authorization: Kiosk 12:9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d659a2feaa0c55ad015"),
        ('{"refresh": "abc.def.ghi", "phone": "x"}', "abc.def.ghi"),
        ('{"password": "hunter2-hunter2"}', "hunter2-hunter2"),
        ("login failed for +8613812345678", "13812345678"),
        ("login failed for 13812345678", "13812345678"),
    ],
)
def test_secrets_are_redacted(text, secret):
    assert secret not in redact(text)


def test_a_masked_phone_still_reads_like_one():
    assert redact("phone +8613812345678 taken") == "phone +86138****5678 taken"


def test_the_filter_scrubs_arguments_and_tracebacks():
    try:
        raise ValueError(f"bad ticket=SECRET-TICKET for {JWT}")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "user %s sent %s", ("+8613812345678", JWT), sys.exc_info()
        )
    RequestContextFilter().filter(record)
    line = GreenLoopJsonFormatter().format(record)

    for secret in ("13812345678", JWT, "SECRET-TICKET"):
        assert secret not in line


@pytest.mark.django_db
def test_a_request_with_a_token_and_a_ticket_logs_neither(caplog, resident, as_user):
    caplog.set_level(logging.DEBUG)
    client = as_user(resident)
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]

    client.get("/api/v1/me?ticket=QUERY-TICKET-VALUE")
    Client().post(
        "/api/v1/auth/token", {"phone": str(resident.phone), "password": "wrong"}, "application/json"
    )

    for record in caplog.records:
        RequestContextFilter().filter(record)
    text = "\n".join(GreenLoopJsonFormatter().format(record) for record in caplog.records)
    assert token not in text and "QUERY-TICKET-VALUE" not in text
    assert str(resident.phone)[3:] not in text


@pytest.mark.django_db
def test_djangos_own_error_lines_drop_the_request_and_its_query_string():
    lines = []

    class Written(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Written()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(GreenLoopJsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        Client().get("/api/v1/no-such-endpoint?ticket=QUERY-TICKET-VALUE")
    finally:
        logger.removeHandler(handler)

    assert lines and all("QUERY-TICKET-VALUE" not in line for line in lines)
