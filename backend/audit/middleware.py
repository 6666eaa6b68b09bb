"""Every staff write over HTTP, API and admin alike, leaves one audit row."""

from django.conf import settings

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


class AuditMiddleware:
    """After a staff member's successful write, records what it changed. An API write is recorded
    even if it changed nothing through the ORM (so every staff write route leaves a row); an admin
    form that redisplayed with errors changed nothing and leaves none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in UNSAFE_METHODS:
            return self.get_response(request)
        with capture.capturing(
            gate=lambda: services.user_actor(getattr(request, "user", None)) is not None
        ) as captured:
            response = self.get_response(request)
        if response.status_code >= 400:
            return response
        route = _route_name(request)
        if route in settings.AUDIT_EXEMPT_ROUTES:
            return response
        actor = services.user_actor(getattr(request, "user", None))
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
