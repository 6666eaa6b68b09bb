"""Refresh tokens in families: rotation is one locked transaction, and reuse revokes the family.

simplejwt signs the tokens and keeps one OutstandingToken row per refresh token; a BlacklistedToken
row marks it used. Both rotations of one token serialise on the family row (SELECT ... FOR UPDATE),
so of N concurrent uses exactly one finds the token unused; the others see it used, which is exactly
what a replayed stolen token looks like, and revoke the family.
"""

import uuid

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .errors import RefreshRefused
from .models import TokenFamily

FAMILY_CLAIM = "fam"


class _UnlockedRefreshToken(RefreshToken):
    """Signature, expiry and type checked on parsing; the used-or-not check happens under the lock."""

    def check_blacklist(self):
        return None


def _parse(raw: str) -> _UnlockedRefreshToken:
    try:
        return _UnlockedRefreshToken(raw)
    except TokenError as exc:
        raise RefreshRefused() from exc


def _family_id(token) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(token.get(FAMILY_CLAIM)))
    except ValueError:
        return None


def _issue(user, family: TokenFamily) -> RefreshToken:
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    token[FAMILY_CLAIM] = family.id.hex
    # Recorded with the family claim in it, so the stored token is the one the client holds.
    OutstandingToken.objects.create(
        user=user,
        jti=token[api_settings.JTI_CLAIM],
        token=str(token),
        created_at=token.current_time,
        expires_at=datetime_from_epoch(token["exp"]),
    )
    return token


def start_family(user) -> RefreshToken:
    """A sign-in: a new family and its first refresh token."""
    return _issue(user, TokenFamily.objects.create(user=user))


def rotate(raw: str) -> dict[str, str]:
    """Spend a refresh token for a new access token and the family's next refresh token."""
    token = _parse(raw)
    family_id = _family_id(token)
    replayed = False
    with transaction.atomic():
        if family_id is None:
            # Issued before families existed: it starts one now, and its own row is the lock.
            outstanding = OutstandingToken.objects.select_for_update().filter(jti=token.get("jti")).first()
            family = TokenFamily(user_id=outstanding.user_id) if outstanding else None
        else:
            family = (
                TokenFamily.objects.select_for_update().select_related("user").filter(pk=family_id).first()
            )
            outstanding = OutstandingToken.objects.filter(jti=token.get("jti")).first()
        if family is None or outstanding is None or family.revoked_at is not None:
            raise RefreshRefused()
        if outstanding.user_id != family.user_id or not family.user.is_active:
            raise RefreshRefused()
        _used, first_use = BlacklistedToken.objects.get_or_create(token=outstanding)
        if first_use:
            if family._state.adding:
                family.save()
            successor = _issue(family.user, family)
            answer = {"access": str(successor.access_token), "refresh": str(successor)}
        elif family._state.adding:
            raise RefreshRefused()
        else:
            family.revoked_at = timezone.now()
            family.save(update_fields=["revoked_at"])
            replayed = True
    if replayed:
        raise RefreshRefused()
    return answer


def revoke(raw: str) -> None:
    """Sign out: this token is used up and its family can refresh no more."""
    token = _parse(raw)
    family_id = _family_id(token)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.filter(jti=token.get("jti")).first()
        if outstanding is None:
            raise RefreshRefused()
        BlacklistedToken.objects.get_or_create(token=outstanding)
        if family_id is not None:
            TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
