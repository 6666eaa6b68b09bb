"""Secrets that ride in URLs (WebSocket tickets, kiosk handshake signatures) never reach a log line.

Browsers cannot set headers on a WebSocket, so the single-use ticket travels in the query string, and
the ASGI server logs every handshake's path with its query. A ticket is spent on first use, but a log
line is read by more people than the socket: the values are masked before any handler formats them.
"""

import logging
import re

SECRET_PARAMETERS = re.compile(r"(?i)\b(ticket|authorization|signature|nonce|code|refresh|access)=[^&\s\"']*")
ACCESS_LOGGERS = (
    "uvicorn.access",
    "uvicorn.error",
    "daphne.access",
    "django.server",
    "django.channels.server",
)


def redact(text: str) -> str:
    return SECRET_PARAMETERS.sub(r"\1=[redacted]", text)


class RedactUrlSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install() -> None:
    """Attach to the loggers that print request lines; the servers configure them before Django starts."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactUrlSecrets) for existing in logger.filters):
            logger.addFilter(RedactUrlSecrets())
