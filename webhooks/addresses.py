"""Where webhooks may go (SSRF): a shop's public HTTPS server, never an address inside our own
network. Checked when an endpoint is registered and again when each delivery connects: the
delivery's socket is checked after DNS resolution (requests-hardened, as Saleor does for its
webhooks), so a name that resolves elsewhere later (DNS rebinding) or a redirect cannot reach
loopback, link-local (169.254.169.254), private or reserved ranges. Development's explicit
switch (WEBHOOK_ALLOW_LOOPBACK_HTTP) lets loopback through, nothing else."""

import functools
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address

REQUEST_TIMEOUT = (5, 10)  # connect, read


def _allow_loopback() -> bool:
    return bool(settings.WEBHOOK_ALLOW_LOOPBACK_HTTP)


def url_error(url: str) -> str | None:
    """Why `url` cannot be a webhook endpoint, in the reader's language; None when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return _("This is not a valid URL.")
    if parts.username is not None or parts.password is not None:
        return _(
            "Do not put a user name or password in the URL; deliveries are signed with the endpoint's secret."
        )
    host = parts.hostname
    loopback_http = parts.scheme == "http" and _allow_loopback()
    if (
        not host
        or parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and not loopback_http)
    ):
        return _(
            "Use an https:// URL (plain http is accepted only for loopback addresses in development)."
        )
    try:
        address, _port = get_ip_address(host, port, allow_loopback=_allow_loopback())
    except InvalidIPAddress:
        return _(
            "%(host)s is a private, loopback or reserved address: webhooks go to the shop's public server."
        ) % {"host": host}
    except (socket.gaierror, UnicodeError, ValueError):
        if loopback_http:
            return _(
                "Use an https:// URL (plain http is accepted only for loopback addresses in development)."
            )
        return None  # not resolvable now: each delivery checks the address it connects to
    if parts.scheme == "http" and not address.is_loopback:
        return _(
            "Use an https:// URL (plain http is accepted only for loopback addresses in development)."
        )
    return None


@functools.cache
def _manager(allow_loopback: bool) -> Manager:
    return Manager(
        Config(
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=allow_loopback,
            never_redirect=True,
            default_timeout=REQUEST_TIMEOUT,
        )
    )


def post(url: str, *, data: bytes, headers: dict) -> requests.Response:
    """POST with the address checked at connect time, no redirects followed."""
    return _manager(_allow_loopback()).send_request(
        "POST", url, data=data, headers=headers, timeout=REQUEST_TIMEOUT
    )


def failure_category(exc: Exception) -> str:
    """A delivery failure as a short category for the log: never the exception's text, which
    would tell whoever registered the URL which internal ports answer."""
    if isinstance(exc, InvalidIPAddress):
        return "blocked_address"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls_error"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if (
            "Name or service not known" in text
            or "getaddrinfo" in text
            or "NameResolutionError" in text
            or "nodename" in text
        ):
            return "dns_error"
        return "connection_refused" if "refused" in text.lower() else "connection_error"
    return "request_error"
