"""A JSON parser that turns every hostile body into a 400 instead of a 500."""

import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Strict UTF-8 decoding already refuses encoded surrogates; only a `\\ud800`-style escape makes one.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: str, surrogates_possible: bool) -> None:
    if "\x00" in text:
        raise ParseError(_("NUL characters are not allowed."))
    if surrogates_possible and SURROGATE.search(text):
        # A lone surrogate is not Unicode: PostgreSQL refuses it and no renderer can echo it back.
        raise ParseError(_("The body holds text that is not valid Unicode."))


def _check_structure(document, max_depth: int, *, check_text: bool, surrogates_possible: bool) -> None:
    """Reject nesting beyond max_depth and, with check_text, NUL characters (PostgreSQL text cannot
    store them) and lone surrogates, in keys and values alike."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise ParseError(_("JSON nested too deeply."))
            for key, item in value.items():
                if check_text:
                    _check_text(key, surrogates_possible)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise ParseError(_("JSON nested too deeply."))
            stack.extend((item, depth + 1) for item in value)
        elif check_text and isinstance(value, str):
            _check_text(value, surrogates_possible)


def _object_without_duplicates(pairs):
    document = dict(pairs)
    if len(document) != len(pairs):
        # Last-wins would let a signed or logged body mean something other than what was checked.
        seen = set()
        duplicate = next(key for key, _value in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return document


def holds_unstorable_text(value) -> bool:
    """True if any key or string inside `value` holds a NUL or a lone surrogate (for the parser that
    lets them by): PostgreSQL can store neither and no renderer can echo a surrogate back."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class SafeJSONParser(JSONParser):
    # Off only where the view answers per item (an offline batch), so one bad item cannot fail the rest.
    refuses_unstorable_text = True

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(_("The body is not UTF-8.")) from exc
        max_depth = settings.API_MAX_JSON_DEPTH
        try:
            document = (
                json.loads(
                    text, parse_constant=self._refuse_constant, object_pairs_hook=_object_without_duplicates
                )
                if text
                else None
            )
        except RecursionError as exc:
            raise ParseError(_("JSON nested too deeply.")) from exc
        except ValueError as exc:
            raise ParseError(_("Malformed JSON: %(reason)s") % {"reason": exc}) from exc
        if document is None and text.strip() in ("", "null"):
            return {}
        _check_structure(
            document,
            max_depth,
            check_text=self.refuses_unstorable_text,
            surrogates_possible=SURROGATE_ESCAPE.search(text) is not None,
        )
        return document

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")


class ItemwiseJSONParser(SafeJSONParser):
    """For bodies answered item by item: NULs and lone surrogates pass the parser and fail only their
    own item (`holds_unstorable_text`), so a kiosk's valid deposits are never held hostage by one."""

    refuses_unstorable_text = False
