"""One log line and one latency observation per request, under a request id the client can quote.

A client's X-Request-ID is kept when it looks like an id (so a trace crosses the load balancer);
anything else is replaced, so a header cannot inject text into the logs.
"""

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.functional import empty

from . import context, metrics
from .redaction import redact

logger = logging.getLogger("greenloop.request")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Any other method a client invents is one label, so it cannot grow the metrics without bound.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def request_id_from(offered: str) -> str:
    return offered if REQUEST_ID.match(offered) else uuid.uuid4().hex


def _request_id(request) -> str:
    return request_id_from(request.META.get("HTTP_X_REQUEST_ID", ""))


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


def _who(request) -> dict:
    # Only a user already resolved: looking at a lazy one would query the session for every request.
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)
    if user is None or wrapped is empty:
        return {}
    kiosk = getattr(wrapped, "kiosk", None)
    if kiosk is not None:
        return {"kiosk_id": kiosk.pk}
    if getattr(wrapped, "is_authenticated", False):
        return {"user_id": wrapped.pk}
    return {}


class RequestLogMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        token, started = self._begin(request)
        try:
            response = self.get_response(request)
            return self._end(request, response, started)
        finally:
            context.request_id.reset(token)

    async def _acall(self, request):
        token, started = self._begin(request)
        try:
            response = await self.get_response(request)
            return self._end(request, response, started)
        finally:
            context.request_id.reset(token)

    @staticmethod
    def _begin(request):
        request.request_id = _request_id(request)
        return context.request_id.set(request.request_id), time.perf_counter()

    @staticmethod
    def _end(request, response, started: float):
        elapsed = time.perf_counter() - started
        response["X-Request-ID"] = request.request_id
        record_request(
            method=request.method,
            route=_route(request),
            status=response.status_code,
            elapsed=elapsed,
            path=request.path,
            who=_who(request),
        )
        metrics.observe_pool(connections[DEFAULT_DB_ALIAS])
        return response


def record_request(*, method: str, route: str, status: int, elapsed: float, path: str, who: dict) -> None:
    """The latency observation and the log line of one answered request (under its request id)."""
    method = method if method in METHODS else "other"
    metrics.REQUEST_SECONDS.labels(route=route, method=method, status=status).observe(elapsed)
    logger.info(
        "%s %s %s %.1f ms",
        method,
        route,
        status,
        elapsed * 1000,
        extra={
            "method": method,
            "route": route,
            "path": redact(path),
            "status": status,
            "duration_ms": round(elapsed * 1000, 1),
            **who,
        },
    )
