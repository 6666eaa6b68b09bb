"""Secrets and personal data that must never reach a log line, however a message was formatted.

Tickets and codes travel in query strings, tokens in headers and bodies, phones in error messages;
each pattern below keeps the shape of the line (so it still reads) and drops the value.
"""

import re

PATTERNS = [
    # ?ticket=..., &code=..., token=..., secret=..., password=... in URLs and form-like text
    (
        re.compile(r"(?i)\b(ticket|code|token|access|refresh|secret|password|signature)=([^&\s\"']+)"),
        r"\1=[redacted]",
    ),
    # "access": "eyJ...", "password": "..." in JSON-ish text
    (
        re.compile(
            r"(?i)([\"'](?:ticket|code|token|access|refresh|secret|password|signature|voucher_code|resident_code)[\"']\s*:\s*[\"'])([^\"']+)"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)\b(Bearer|Kiosk)\s+[A-Za-z0-9._:~+/=-]+"), r"\1 [redacted]"),
    # A JWT anywhere: three base64url parts, the first starting like every JSON header does.
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    # Mainland mobile numbers, with or without +86: keep the first three and last four digits.
    (re.compile(r"(?<!\d)(\+?86[ -]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)"), r"\1\2****\4"),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
