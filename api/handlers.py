"""Django-level error pages: JSON envelopes under /api/, Django's own pages elsewhere."""

from django.utils.translation import gettext as _
from django.views import defaults

from .errors import json_error


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(404, "not_found", _("No such endpoint."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_error(500, "server_error", _("Something went wrong on our side; it has been logged."))
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(400, "malformed_request", _("The request is malformed."))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(403, "permission_denied", _("You may not do that."))
    return defaults.permission_denied(request, exception)
