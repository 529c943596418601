"""Walks every workspace page a role can reach from the nav (links and htmx loads), in both
languages, on the demo data of `make run`, and fails on a dead link, an internal code on the
page (`pending_customer`, `unusable_full_refund`, ...) or an English sentence left untranslated
on a Chinese page. What people read is checked: text and placeholders, not attribute values."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from demo.tickets import demo_tickets_create
from shops.models import Shop
from shops.services import shop_bootstrap

pytestmark = pytest.mark.django_db

START = ["/", "/?status=all"]
# What each role must reach from the nav (and nothing it links to may be refused).
REACHES = {
    "agent": {
        "workspace:queue",
        "workspace:ticket",
        "workspace:customer",
        "disputes:panels",
        "notifications:list",
    },
    "supervisor": {
        "disputes:approvals",
        "analytics:dashboard",
        "analytics:alerts",
        "disputes:webhook-log",
    },
    "admin": {
        "disputes:shop-policy",
        "disputes:shop-dispute-types",
        "sla-settings",
        "assignment:settings",
        "analytics:settings",
    },
}
SKIP = re.compile(r"^/(static|admin|api|i18n|logout|attachments)/|\.csv$|^/logout")
PER_VIEW = 3  # pages visited per URL name (three tickets are enough to see each panel)
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")  # snake_case: a code, not a word
ENGLISH = re.compile(
    r"\b[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+){2,}"
)  # three English words in a row


class VisibleText(HTMLParser):
    """Text nodes and placeholders, outside script/style/template. Text in <code> is an
    identifier shown on purpose (the dispute type code a shop backend sends to the API); a
    <textarea> holds what someone wrote (a macro's reply with its {customer_name} blanks)."""

    HIDDEN = {"script", "style", "template", "code", "textarea"}

    def __init__(self):
        super().__init__()
        self.parts, self.links, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        for name in ("href", "hx-get"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if attrs.get("placeholder"):
            self.parts.append(attrs["placeholder"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def _read(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def _walk(client, language: str) -> tuple[dict[str, int], list[str]]:
    client.cookies.load({"django_language": language})
    queue, seen, per_view, problems = list(START), set(), {}, []
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or SKIP.search(path):
            continue
        seen.add(url)
        try:
            name = resolve(path).view_name
        except Resolver404:
            problems.append(f"{url}: no such page (linked)")
            continue
        if per_view.get(name, 0) >= PER_VIEW:
            continue
        per_view[name] = per_view.get(name, 0) + 1
        response = client.get(url, HTTP_HX_REQUEST="true") if "hx" in name else client.get(url)
        if response.status_code in (301, 302):
            continue
        if response.status_code != 200:
            problems.append(f"{url}: HTTP {response.status_code}")
            continue
        page = _read(response.content.decode())
        text = "\n".join(page.parts)
        for code in sorted(set(CODE.findall(text))):
            problems.append(f"{url} [{language}]: internal code {code!r}")
        if language == "zh-hans":
            for words in sorted(set(ENGLISH.findall(text))):
                problems.append(f"{url} [zh-hans]: untranslated {words!r}")
        queue += [link for link in page.links if link.startswith("/") and link not in seen]
    return per_view, problems


@pytest.fixture
def demo(dispute_types_seeded, media_root):
    from django.contrib.auth import get_user_model

    creds = shop_bootstrap(code="demo", user_prefix="")
    shop = Shop.objects.get(code="demo")
    users = {
        role: get_user_model().objects.get(username=c["username"])
        for role, c in creds["users"].items()
    }
    demo_tickets_create(shop=shop, agent=users["agent"])
    return users


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_every_page_reads_in_words_in_the_readers_language(demo, client, role, language):
    client.force_login(demo[role])
    visited, problems = _walk(client, language)
    assert REACHES[role] <= set(visited), sorted(visited)
    assert not problems, "\n".join(problems)
