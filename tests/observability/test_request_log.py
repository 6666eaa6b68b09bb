"""One log line per request, under a request id that the answer carries in X-Request-ID."""

import json
import logging

import pytest
from django.test import Client

from backend.observability.logs import GreenLoopJsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db


def request_lines(caplog):
    return [record for record in caplog.records if record.name == "greenloop.request"]


def test_every_answer_carries_a_fresh_request_id_and_logs_it(caplog):
    caplog.set_level(logging.INFO, logger="greenloop.request")

    first = Client().get("/healthz")
    second = Client().get("/healthz")

    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert len(set(ids)) == 2 and all(len(value) == 32 for value in ids)
    lines = request_lines(caplog)
    assert [line.request_id for line in lines] == ids
    assert (lines[0].method, lines[0].route, lines[0].status) == ("GET", "healthz", 200)
    assert lines[0].duration_ms >= 0


def test_a_clients_request_id_is_kept_and_a_malformed_one_replaced(caplog):
    caplog.set_level(logging.INFO, logger="greenloop.request")

    kept = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    replaced = Client().get("/healthz", HTTP_X_REQUEST_ID='x" injected\nlevel=ERROR')

    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert replaced["X-Request-ID"] != 'x" injected\nlevel=ERROR' and len(replaced["X-Request-ID"]) == 32
    assert [line.request_id for line in request_lines(caplog)] == [
        "lb-7f3a9c21-0001",
        replaced["X-Request-ID"],
    ]


def test_the_line_names_the_user_by_id_and_the_route_by_pattern(caplog, resident, as_user):
    caplog.set_level(logging.INFO, logger="greenloop.request")

    as_user(resident).get("/api/v1/me")
    Client().get("/api/v1/districts/999999/communities")

    me, other = request_lines(caplog)
    assert (me.route, me.user_id) == ("api/v1/me", resident.pk)
    assert other.route == "api/v1/districts/<int:district_id>/communities"
    assert not hasattr(other, "user_id")


class Collected(logging.Handler):
    """A handler set up like the console one: the filter runs when the line is written."""

    def __init__(self):
        super().__init__()
        self.records = []
        self.addFilter(RequestContextFilter())

    def emit(self, record):
        self.records.append(record)


def test_log_lines_from_inside_a_request_carry_its_id():
    collected = Collected()
    logger = logging.getLogger("django.request")
    logger.addHandler(collected)
    try:
        response = Client().get("/api/v1/no-such-endpoint")
    finally:
        logger.removeHandler(collected)

    (warning,) = collected.records
    assert warning.request_id == response["X-Request-ID"]


def test_a_json_line_has_time_level_logger_message_and_request_id():
    record = logging.LogRecord("greenloop.request", logging.INFO, __file__, 1, "GET %s", ("healthz",), None)
    record.request_id = "abc12345"
    record.status = 200

    line = json.loads(GreenLoopJsonFormatter().format(record))

    assert line["level"] == "INFO" and line["logger"] == "greenloop.request"
    assert line["message"] == "GET healthz" and line["request_id"] == "abc12345" and line["status"] == 200
    assert line["time"].endswith("+00:00")
