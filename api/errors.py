"""One error envelope for everything under /api/: `{"error": {"code", "message", "fields"?}}`.

Every domain error's HTTP status is stated here, in one table keyed by its stable code.
"""

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from backend.errors import DomainError

STATUS_BY_CODE = {
    # generic
    "invalid": 400,
    "validation_error": 400,
    "not_found": 404,
    "permission_denied": 403,
    # accounts
    "phone_taken": 409,
    "invalid_phone": 400,
    "weak_password": 400,
    "invalid_display_name": 400,
    "role_not_allowed": 403,
    "out_of_scope": 403,
    "invalid_ticket": 401,
    "token_not_valid": 401,
    "community_exists": 409,
    "login_locked": 429,
    "request_decided": 409,
    # codes
    "invalid_code": 400,
    "code_expired": 410,
    "code_used": 409,
    # sorting
    "bin_inactive": 409,
    "too_soon": 429,
    "out_of_range": 400,
    "coordinates_required": 400,
    "daily_limit": 429,
    "bad_image": 400,
    "photo_limit": 429,
    "already_graded": 409,
    "no_household": 409,
    "same_inspector": 403,
    "nothing_to_sample": 409,
    # kiosks
    "bad_signature": 401,
    "kiosk_disabled": 403,
    "stale_deposit": 400,
    "future_deposit": 400,
    "idempotency_conflict": 409,
    "unknown_material": 400,
    "implausible_weight": 400,
    "material_not_accepted": 400,
    "material_not_priced": 400,
    "shared_material": 403,
    "batch_too_large": 400,
    # Only ever an item's answer inside a 200 batch response; the kiosk sends the item again.
    "deposit_failed": 409,
    "session_not_found": 404,
    "session_closed": 409,
    "before_session_opened": 400,
    "before_code_issued": 400,
    "backdated_over_bound": 400,
    "bad_pickup_weight": 400,
    "future_pickup": 400,
    "pickup_out_of_order": 409,
    # rewards
    "merchant_other_city": 400,
    "not_a_merchant": 400,
    "period_too_long": 400,
    "insufficient_points": 409,
    "out_of_stock": 409,
    "limit_reached": 409,
    "reward_unavailable": 409,
    "not_cancellable": 409,
    "duplicate_factor": 409,
    "version_in_past": 400,
    "version_overlaps": 409,
    # stats
    "already_corrected": 409,
    "not_correctable": 409,
    "duplicate_reference": 409,
    "future_date": 400,
    "bad_csv": 400,
    "bad_period": 400,
    "bad_target": 400,
    "unknown_indicator": 404,
    "city_required": 400,
    "unknown_city": 400,
    "plant_out_of_district": 400,
    "plant_destination_mismatch": 400,
    "pickup_already_received": 409,
    "pickup_not_in_district": 400,
    "manifest_reused": 409,
    "handler_not_licensed": 400,
    "manifest_closed": 409,
    "pickup_already_on_manifest": 409,
    "handover_out_of_order": 400,
    "handover_weight": 400,
}


def envelope(code: str, message, *, fields=None, extra=None) -> dict:
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    if extra:
        body.update(extra)
    return {"error": body}


def json_error(status_code: int, code: str, message, **kwargs) -> JsonResponse:
    return JsonResponse(
        envelope(code, message, **kwargs), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def _flatten_codes(detail):
    """First machine code found in a DRF error detail tree."""
    if isinstance(detail, dict):
        for value in detail.values():
            return _flatten_codes(value)
    if isinstance(detail, list) and detail:
        return _flatten_codes(detail[0])
    return getattr(detail, "code", None)


def _fields(detail):
    if isinstance(detail, dict):
        return {key: _fields(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_fields(item) for item in detail]
    return str(detail)


DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
}


def _drf_response(exc: exceptions.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = envelope("validation_error", _("The input is not valid."), fields=_fields(detail))
    else:
        code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), None)
        code = _flatten_codes(exc.detail) if code in (None, "authentication_failed") else code
        code = code or "error"
        message = exc.detail if isinstance(exc.detail, str) else _fields(exc.detail)
        if not isinstance(message, str):
            message = str(message.get("detail", message)) if isinstance(message, dict) else str(message)
        body = envelope(str(code), message)
    return Response(body, status=exc.status_code, headers=headers)


def domain_response(exc: DomainError) -> Response:
    retry_after = exc.extra.get("retry_after")
    return Response(
        envelope(exc.code, exc.message, fields=exc.fields, extra=exc.extra),
        status=STATUS_BY_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST),
        headers={"Retry-After": str(retry_after)} if retry_after else None,
    )


def exception_handler(exc, context):
    """DRF's exception hook: every error a view raises leaves in the envelope, and the transaction rolls back."""
    set_rollback()
    if isinstance(exc, DomainError):
        return domain_response(exc)
    if isinstance(exc, Http404):
        return Response(envelope("not_found", _("Not found.")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(envelope("permission_denied", _("You may not do that.")), status=403)
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope("payload_too_large", _("The request body is too large.")), status=413)
    if isinstance(exc, TooManyFieldsSent | SuspiciousOperation):
        return Response(envelope("malformed_request", _("The request is malformed.")), status=400)
    if isinstance(exc, exceptions.APIException):
        return _drf_response(exc)
    return None
