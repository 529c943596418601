"""One error shape for the whole API: {"error": {"code", "message", "fields"?}} (API.md)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from aftersales.paths import is_api_request


class ApplicationError(Exception):
    """A domain error with a stable code; services raise it, the API renders it."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(
        self, code: str, message: str, *, status_code: int | None = None, fields: dict | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        if status_code is not None:
            self.status_code = status_code


class IllegalTransition(ApplicationError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, message: str):
        super().__init__("illegal_transition", message)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _flatten(detail):
    """DRF's nested ErrorDetail lists -> plain strings, keeping the nesting of fields."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return flat[0] if len(flat) == 1 and isinstance(flat[0], str) else flat
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: let Django log it and answer 500

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields if isinstance(fields, list) else [fields]}
        body = error_body("validation_error", _("The request has invalid fields."), fields)
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        message = _flatten(exc.detail) if hasattr(exc, "detail") else str(exc)
        if code == "malformed_request" and "JSON" in str(message):
            code = "malformed_json"
        body = error_body(code, message if isinstance(message, str) else str(message))
    response.data = body
    return response


def json_bad_request(request, exception=None):
    """Django's own 400s (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad
    Host): the API's error body (413 for a body too large), or the workspace's 400 page."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent

    too_large = isinstance(exception, (RequestDataTooBig, TooManyFieldsSent))
    if is_api_request(request):
        if too_large:
            return JsonResponse(
                error_body("too_large", _("The request body is too large.")), status=413
            )
        return JsonResponse(
            error_body("bad_request", _("The request could not be read.")), status=400
        )
    from django.shortcuts import render

    message = (
        _("The request body is too large.") if too_large else _("The request could not be read.")
    )
    return render(request, "400.html", {"message": message}, status=413 if too_large else 400)


def json_not_found(request, exception=None):
    if is_api_request(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_server_error(request):
    """API: the JSON error body. Workspace: the workspace's own page with its nav, in the
    reader's language; if even that cannot render (the database is what failed), a plain page."""
    if is_api_request(request):
        return JsonResponse(
            error_body("server_error", _("An unexpected error occurred; it has been logged.")),
            status=500,
        )
    from django.shortcuts import render
    from django.views.defaults import server_error

    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the page of last resort must not raise
        return server_error(request, template_name="500_plain.html")


def csrf_failure(request, reason=""):
    """An expired form (the session ended, or the page was open across a log-in) explained in
    the reader's language on the workspace's 403 page, not Django's English debug text."""
    from django.shortcuts import render

    message = _(
        "The form had expired (for example after logging in or out in another tab). Reload the page and try again."
    )
    return render(request, "403.html", {"reason": message}, status=403)
