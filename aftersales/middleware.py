"""The site's own middleware.

refuse_bad_text is one input layer: text that no field of ours can hold — NUL bytes (PostgreSQL
refuses them: a 500), lone UTF-16 surrogates — is dealt with at the door, before any view, form,
serializer or query sees it:
- a path containing one names no page: 404;
- the API's query strings and the workspace's form posts: 400 naming the parameter;
- the workspace's page filters (query strings) lose the character, as a search box would;
- JSON bodies: DecimalJSONParser refuses them, naming the field (aftersales.api).

WorkspaceMessageMiddleware keeps flash messages to the workspace's pages."""

import re

from django.contrib.messages.middleware import MessageMiddleware
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _

from aftersales.paths import is_api_request

FORM = "application/x-www-form-urlencoded"
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def bad_text(value: str) -> bool:
    """NUL, or a lone UTF-16 surrogate (it cannot be encoded, stored or compared)."""
    return _BAD_CHARACTER.search(value) is not None


def text_clean(value: str) -> str:
    return _BAD_CHARACTER.sub("", value)


def _bad_keys(query: QueryDict) -> list[str]:
    return sorted(
        {key for key, values in query.lists() if bad_text(key) or any(bad_text(v) for v in values)}
    )


def refuse_bad_text(get_response):
    def middleware(request):
        if bad_text(request.path):
            raise Http404
        api = is_api_request(request)
        bad = _bad_keys(request.GET) if api else []
        # Form posts: the workspace's (plain Django views) whatever their encoding; the API's
        # multipart bodies are left to DRF's parser, which must read the stream itself.
        if request.method == "POST" and (request.content_type == FORM or not api):
            bad += _bad_keys(request.POST)
        if bad:
            message = _("The request contains a character that is not allowed (a NUL byte).")
            if api:
                fields = {text_clean(key) or "?": message for key in bad}
                return JsonResponse(
                    {"error": {"code": "validation_error", "message": message, "fields": fields}},
                    status=400,
                )
            return render(request, "400.html", {"message": message}, status=400)
        if not api and request.GET and _bad_keys(request.GET):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(text_clean(key), [text_clean(v) for v in values])
            cleaned._mutable = False
            request.GET = cleaned
        return get_response(request)

    return middleware


class WorkspaceMessageMiddleware(MessageMiddleware):
    """Flash messages are the workspace's: the API answers JSON and never shows or keeps one, so
    its requests skip building the message storage (a cookie and a session store, on every
    create and list call)."""

    def process_request(self, request):
        if not is_api_request(request):
            super().process_request(request)
