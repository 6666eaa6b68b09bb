"""What of a changed value the trail may keep: secrets never, phone numbers only masked."""

import json
import re

from django.core.serializers.json import DjangoJSONEncoder

SECRET_NAME = re.compile(r"password|secret|token|hash|nonce|signature|voucher_code|key", re.IGNORECASE)
PHONE_NAME = re.compile(r"phone", re.IGNORECASE)
REDACTED = "[redacted]"


def mask_phone(value: str) -> str:
    # The same shape clients see (`+86 138****5678`): enough to tell two people apart, not to call one.
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:-8]}****{value[-4:]}"


def storable(name: str, value):
    if value is None:
        return None
    if SECRET_NAME.search(name):
        return REDACTED
    if PHONE_NAME.search(name):
        return mask_phone(str(value))
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        return str(value)
