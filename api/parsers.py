"""A JSON parser that turns every hostile body into a 400 instead of a 500."""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _check_structure(document, max_depth: int) -> None:
    """Reject nesting beyond max_depth and NUL characters, which PostgreSQL text cannot store."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise ParseError(_("JSON nested too deeply."))
            for key, item in value.items():
                if "\x00" in key:
                    raise ParseError(_("NUL characters are not allowed."))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise ParseError(_("JSON nested too deeply."))
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise ParseError(_("NUL characters are not allowed."))


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(_("The body is not UTF-8.")) from exc
        max_depth = settings.API_MAX_JSON_DEPTH
        try:
            document = json.loads(text, parse_constant=self._refuse_constant) if text else None
        except RecursionError as exc:
            raise ParseError(_("JSON nested too deeply.")) from exc
        except ValueError as exc:
            raise ParseError(_("Malformed JSON: %(reason)s") % {"reason": exc}) from exc
        if document is None and text.strip() in ("", "null"):
            return {}
        _check_structure(document, max_depth)
        return document

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")
