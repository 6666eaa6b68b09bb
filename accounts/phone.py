"""Phone numbers: normalised to E.164 for storage and login, masked for everyone but their owner."""

import phonenumbers
from django.conf import settings


def normalise_phone(raw) -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or len(text) > 32:
        return None
    try:
        parsed = phonenumbers.parse(text, getattr(settings, "PHONENUMBER_DEFAULT_REGION", "CN"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone) -> str:
    """`+86 138****5678`: enough for a person to recognise their own number, useless to a harvester."""
    e164 = normalise_phone(phone)
    if not e164:
        return "****"
    parsed = phonenumbers.parse(e164)
    national = str(parsed.national_number)
    keep_head = 3 if len(national) >= 9 else 1
    keep_tail = 4 if len(national) >= 9 else 2
    hidden = len(national) - keep_head - keep_tail
    return f"+{parsed.country_code} {national[:keep_head]}{'*' * hidden}{national[-keep_tail:]}"
