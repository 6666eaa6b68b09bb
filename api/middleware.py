"""Guards in front of every /api/ request: body size and NUL bytes are refused before any view runs."""

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import json_error


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def _refusal(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "malformed_request", _("Content-Length is not a number."))
        if length > settings.API_MAX_BODY_BYTES:
            return json_error(413, "payload_too_large", _("The request body is too large."))
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return json_error(400, "malformed_request", _("NUL characters are not allowed."))
        return None
