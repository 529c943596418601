"""The login check every workspace page uses (tickets, disputes, SLA, analytics, notifications),
and the way back after a form posted from some page."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required as django_login_required
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def login_required(view):
    """Django's login_required, except that an htmx request whose session expired is sent to the
    login page as a whole-page navigation instead of having the login form swapped into a fragment."""
    protected = django_login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            next_url = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(
                f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"
            )
        return protected(request, *args, **kwargs)

    return wrapper


def redirect_back(request, fallback: str):
    """Back to the page a form was posted from (its `next`, only ever a path of this site), else
    to `fallback` (a URL name or path)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)
