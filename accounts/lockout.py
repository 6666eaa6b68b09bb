"""Sign-in lockout: wrong passwords are counted per account and per client address.

Every sign-in path (API token, dashboard, admin) authenticates through `LockoutBackend`, so one budget
covers all of them. A lock lifts by itself after the cool-off, so a legitimate owner locked out by
someone else's guessing gets back in by waiting (or an administrator runs `manage.py unlock_login`).
The account budget is larger than guessing needs and smaller than a dictionary attack: ten wrong
passwords a quarter of an hour. Counters live in the cache; with Redis down they fall back to each
process's memory (backend.cache), so the lockout weakens to per-process instead of failing open.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from .errors import LoginLocked
from .phone import normalise_phone


def _policy() -> dict:
    return settings.LOGIN_LOCKOUT


def _subjects(phone, address: str | None) -> list[tuple[str, int]]:
    policy = _policy()
    subjects = []
    account = normalise_phone(phone) or (str(phone).strip()[:64] if phone else "")
    if account:
        # Hashed so the cache never holds a list of phone numbers tried.
        digest = hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        subjects.append((f"account:{digest}", policy["account_failures"]))
    if address:
        subjects.append((f"address:{address}", policy["address_failures"]))
    return subjects


def _lock_key(subject: str) -> str:
    return f"login-lock:{subject}"


def _count_key(subject: str) -> str:
    return f"login-fail:{subject}"


def check_not_locked(phone, address: str | None) -> None:
    """Raise LoginLocked while the account or the address is locked, before any password is checked."""
    subjects = [subject for subject, _limit in _subjects(phone, address)]
    if not subjects:
        return
    now = time.time()
    locks = cache.get_many([_lock_key(subject) for subject in subjects])
    until = max((float(value) for value in locks.values()), default=0.0)
    if until > now:
        raise LoginLocked(retry_after=int(until - now) + 1)


def record_failure(phone, address: str | None) -> None:
    policy = _policy()
    for subject, limit in _subjects(phone, address):
        key = _count_key(subject)
        cache.add(key, 0, timeout=policy["window_seconds"])
        try:
            failures = cache.incr(key)
        except ValueError:
            # The counter expired between add and incr: this failure starts a fresh window.
            cache.set(key, 1, timeout=policy["window_seconds"])
            failures = 1
        if failures >= limit:
            cooloff = policy["cooloff_seconds"]
            cache.set(_lock_key(subject), time.time() + cooloff, timeout=cooloff)
            cache.delete(key)


def record_success(phone) -> None:
    """A right password clears the account's count; the address's count stays, so one valid account
    cannot launder an address's guessing at others."""
    for subject, _limit in _subjects(phone, None):
        cache.delete(_count_key(subject))


def unlock(*, phone=None, address: str | None = None) -> int:
    """Lift the lock and the count of an account and/or an address; returns how many subjects it named."""
    subjects = [subject for subject, _limit in _subjects(phone, address)]
    cache.delete_many([_lock_key(s) for s in subjects] + [_count_key(s) for s in subjects])
    return len(subjects)
