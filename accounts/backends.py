"""The one authentication backend: Django's password check behind the sign-in lockout."""

from django.contrib.auth.backends import ModelBackend

from . import lockout
from .models import User


def _client_address(request) -> str | None:
    # REMOTE_ADDR already holds the real client (backend.client_address rewrote it behind trusted proxies).
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        phone = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if phone is None or password is None:
            return None
        address = _client_address(request)
        lockout.check_not_locked(phone, address)
        user = super().authenticate(request, username=phone, password=password, **kwargs)
        if user is None:
            lockout.record_failure(phone, address)
        else:
            lockout.record_success(phone)
        return user
