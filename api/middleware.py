"""Guards in front of every /api/ request: body size and NUL bytes are refused before any view runs."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .errors import json_error

HTML_ERRORS = {
    400: ("malformed_request", _lazy("The request is malformed.")),
    403: ("permission_denied", _lazy("You may not do that.")),
    404: ("not_found", _lazy("No such endpoint.")),
}


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        # This guard runs before LocaleMiddleware, so it picks the request's language itself.
        with translation.override(translation.get_language_from_request(request)):
            refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return self._as_envelope(self.get_response(request))

    @staticmethod
    def _as_envelope(response):
        # With DEBUG on Django answers unknown paths and bad requests with its HTML debug pages
        # instead of calling the JSON handlers; clients of /api/ must see the envelope either way.
        if response.status_code in HTML_ERRORS and response.get("Content-Type", "").startswith("text/html"):
            code, message = HTML_ERRORS[response.status_code]
            return json_error(response.status_code, code, message)
        return response

    @staticmethod
    def _refusal(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "malformed_request", _("Content-Length is not a number."))
        if length > settings.API_MAX_BODY_BYTES:
            return json_error(413, "payload_too_large", _("The request body is too large."))
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return json_error(400, "malformed_request", _("NUL characters are not allowed."))
        return None
