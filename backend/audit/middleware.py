"""Every staff write over HTTP, API and admin alike, leaves one audit row; so does a kiosk's pickup."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser

from . import capture, services

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def _route_object(request) -> tuple[str, str] | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    kwargs = {k: str(v) for k, v in match.kwargs.items()}
    return (match.view_name, next(iter(kwargs.values()), ""))


def _kiosk(request):
    # A kiosk's signed request sets `request.user` to a stand-in principal holding the kiosk.
    user = getattr(request, "user", None)
    return None if isinstance(user, AbstractBaseUser) else getattr(user, "kiosk", None)


def _recorded(request) -> bool:
    if _kiosk(request) is not None:
        return _route_name(request) in settings.AUDIT_KIOSK_ROUTES
    return services.user_actor(getattr(request, "user", None)) is not None


def _actor(request) -> services.Actor | None:
    kiosk = _kiosk(request)
    if kiosk is not None:
        return services.kiosk_actor(kiosk) if _route_name(request) in settings.AUDIT_KIOSK_ROUTES else None
    return services.user_actor(getattr(request, "user", None))


class AuditMiddleware:
    """After a staff member's successful write, records what it changed. An API write is recorded
    even if it changed nothing through the ORM (so every staff write route leaves a row); an admin
    form that redisplayed with errors changed nothing and leaves none. Of a kiosk's signed writes
    only the routes in AUDIT_KIOSK_ROUTES are recorded: deposits, heartbeats and sessions pay for
    no capture."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in UNSAFE_METHODS:
            return self.get_response(request)
        with capture.capturing(gate=lambda: _recorded(request)) as captured:
            response = self.get_response(request)
        if response.status_code >= 400:
            return response
        route = _route_name(request)
        if route in settings.AUDIT_EXEMPT_ROUTES:
            return response
        actor = _actor(request)
        if actor is None:
            return response
        if not request.path.startswith("/api/") and not captured.changes:
            return response
        services.write_entry(
            actor,
            captured,
            route=route,
            route_object=_route_object(request),
            client_address=request.META.get("REMOTE_ADDR", ""),
        )
        return response
