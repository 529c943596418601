"""What a locked-out login is told (django-axes' AXES_LOCKOUT_CALLABLE): the API's error body
with 429 and Retry-After, or the login page with the reason, in the reader's language."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from aftersales.paths import is_api_request


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return gettext(
        "Too many wrong passwords. Logging in is blocked for %(minutes)s minutes; ask a shop admin if you forgot your password."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if is_api_request(request):
        response = JsonResponse(
            {"error": {"code": "too_many_attempts", "message": lockout_message()}}, status=429
        )
    else:
        form = AuthenticationForm(request, data=request.POST or None)
        form.errors.clear()
        form.add_error(None, lockout_message())
        response = render(
            request,
            "registration/login.html",
            {"form": form, "next": request.POST.get("next", "")},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
