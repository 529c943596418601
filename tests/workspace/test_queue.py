"""The agent queue and its CSV export: deadlines (SLA due time and the marketplace's platform deadline),
filters, words instead of codes, and the export matching the list. On PostgreSQL, hand-made tickets."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.factories import make_ticket, ticket_payload
from tickets import services
from tickets.forms import QueueFilterForm
from tickets.models import Ticket
from tickets.selectors import queue_tickets, sla_breached

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def new_ticket(shop, name: str, **fields):
    """A ticket through the service, then its deadlines and status set by hand."""
    payload = ticket_payload()
    ticket = make_ticket(
        shop,
        order={**payload["order"], "order_no": f"ORD-{name}"},
        customer={**payload["customer"], "external_id": f"c-{name}"},
    )
    if fields:
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
        ticket.refresh_from_db()
    return ticket


def numbers_on_page(response) -> list[str]:
    return re.findall(
        r'class="ticket-link" href="/tickets/([A-Z0-9]+)/"', response.content.decode()
    )


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def deadlines(shop):
    """platform: due on the marketplace in 40 min (its SLA in 20 h); sla_soon: SLA in 1 h;
    sla_late: SLA in 10 h; paused: waiting on the customer, SLA due time passed while paused,
    platform deadline in 5 h; platform_missed: platform deadline passed 5 min ago, SLA in 30 h;
    sla_missed: SLA passed 15 min ago; resolved: resolved, its platform deadline long past."""
    hour = dt.timedelta(hours=1)
    tickets = {
        "platform": new_ticket(
            shop,
            "platform",
            next_due_at=NOW + 20 * hour,
            platform_deadline_at=NOW + dt.timedelta(minutes=40),
        ),
        "sla_soon": new_ticket(shop, "sla_soon", next_due_at=NOW + hour),
        "sla_late": new_ticket(shop, "sla_late", next_due_at=NOW + 10 * hour),
        "paused": new_ticket(
            shop,
            "paused",
            status="pending_customer",
            next_due_at=None,
            first_responded_at=NOW - 50 * hour,
            sla_paused_at=NOW - 48 * hour,
            resolution_due_at=NOW - 24 * hour,
            platform_deadline_at=NOW + 5 * hour,
        ),
        "platform_missed": new_ticket(
            shop,
            "platform_missed",
            next_due_at=NOW + 30 * hour,
            platform_deadline_at=NOW - dt.timedelta(minutes=5),
        ),
        "sla_missed": new_ticket(shop, "sla_missed", next_due_at=NOW - dt.timedelta(minutes=15)),
        "resolved": new_ticket(
            shop,
            "resolved",
            status="resolved",
            next_due_at=None,
            resolved_at=NOW - 2 * hour,
            platform_deadline_at=NOW - 48 * hour,
        ),
    }
    return tickets


def numbers(tickets: dict, *names: str) -> list[str]:
    return [tickets[name].number for name in names]


# --- Deadlines ------------------------------------------------------------------------------------


def test_due_sort_puts_the_earliest_deadline_first_platform_or_sla(client, deadlines):
    # Overdue first; a platform deadline in 40 min above an SLA due in 1 h and 10 h; the paused ticket
    # by its platform deadline (5 h) only; the resolved ticket has no deadline left.
    assert numbers_on_page(client.get("/")) == numbers(
        deadlines, "sla_missed", "platform_missed", "platform", "sla_soon", "paused", "sla_late"
    )
    assert numbers_on_page(client.get("/?status=all&sort=due")) == numbers(
        deadlines,
        "sla_missed",
        "platform_missed",
        "platform",
        "sla_soon",
        "paused",
        "sla_late",
        "resolved",
    )


def test_due_soon_counts_the_platform_deadline(client, deadlines):
    assert numbers_on_page(client.get("/?due_soon=1")) == numbers(
        deadlines, "sla_missed", "platform_missed", "platform", "sla_soon"
    )


def test_overdue_filter_counts_both_deadlines_but_not_a_paused_sla(client, deadlines):
    assert numbers_on_page(client.get("/?overdue=1")) == numbers(
        deadlines, "sla_missed", "platform_missed"
    )
    assert numbers_on_page(client.get("/?overdue=1&status=all")) == numbers(
        deadlines, "sla_missed", "platform_missed"
    )
    # The paused ticket's platform deadline still counts.
    Ticket.objects.filter(pk=deadlines["paused"].pk).update(
        platform_deadline_at=NOW - dt.timedelta(minutes=1)
    )
    assert numbers_on_page(client.get("/?overdue=1")) == numbers(
        deadlines, "sla_missed", "platform_missed", "paused"
    )


def test_platform_deadline_that_comes_first_counts_down_in_the_row(client, deadlines):
    body = client.get("/?q=ORD-platform").content.decode()
    assert f'data-due="{deadlines["platform"].platform_deadline_at.isoformat()}"' in body


def test_paused_ticket_is_not_breached_by_time_spent_waiting(deadlines, shop, agent):
    paused = deadlines["paused"]
    assert not sla_breached(paused, now=NOW)
    # A due time already missed when the clock stopped stays missed.
    Ticket.objects.filter(pk=paused.pk).update(resolution_due_at=NOW - 49 * dt.timedelta(hours=1))
    paused.refresh_from_db()
    assert sla_breached(paused, now=NOW)


def test_api_does_not_report_a_paused_ticket_as_breached(deadlines, agent_client):
    body = agent_client.get(f"/api/v1/tickets/{deadlines['paused'].number}/").json()
    assert body["sla"]["breached"] is False
    assert agent_client.get(f"/api/v1/tickets/{deadlines['sla_missed'].number}/").status_code == 200


def test_paused_through_the_services_then_past_the_due_time(shop, agent):
    ticket = new_ticket(shop, "svc")
    actor = services.Actor.staff(agent)
    services.message_add(ticket=ticket, body="您好", actor=actor)
    services.ticket_transition(ticket=ticket, action="wait_customer", actor=actor)
    ticket.refresh_from_db()
    assert (
        ticket.status == "pending_customer"
        and ticket.sla_paused_at is not None
        and ticket.next_due_at is None
    )
    later = ticket.resolution_due_at + dt.timedelta(days=3)
    assert not sla_breached(ticket, now=later)


def test_queue_uses_the_earliest_deadline_index_in_order(deadlines, agent, shop):
    """The sort expression and the partial indexes' expression are the same: the planner reads the
    index in order (no Sort node), for all, unassigned and mine."""
    for tab in ("all", "unassigned", "mine"):
        filters = {**QueueFilterForm.DEFAULTS, "tab": tab}
        qs = queue_tickets(user=agent, shop_ids=[shop.id], filters=filters, now=NOW)[:26]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        # The tab's partial index, or the shop's whole one with the tab as a filter: on a table of a
        # few rows their costs tie and the planner may take either (both read in deadline order).
        wanted = {
            "all": ["ticket_queue_shop_earliest"],
            "unassigned": ["ticket_queue_unasg_earliest", "ticket_queue_shop_earliest"],
            "mine": ["ticket_queue_mine_earliest", "ticket_queue_shop_earliest"],
        }[tab]
        index = next((name for name in wanted if name in plan), None)
        assert index, plan
        assert "Sort" not in plan.split(index)[0].split("Limit")[-1], plan


def test_a_page_reads_the_users_memberships_once(client, deadlines):
    """The nav (approvals, settings, dashboard links), the shops the queue lists and the ticket
    page's permission share one read of the user's memberships."""
    from django.test.utils import CaptureQueriesContext

    ticket = deadlines["sla_soon"]
    for url in ("/", f"/tickets/{ticket.number}/"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        own = '"shops_membership"."user_id" = '  # not the colleagues' (bulk assign)
        reads = [q["sql"] for q in ctx.captured_queries if own in q["sql"]]
        assert len(reads) == 1, (url, reads)


def test_query_count_stays_bounded_with_the_new_filters(
    client, deadlines, django_assert_max_num_queries
):
    for url in ("/?overdue=1", "/?due_soon=1&overdue=1&tab=mine", "/?status=all&sort=due"):
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200


def test_the_queue_takes_shops_and_dispute_types_from_what_it_already_knows(client, deadlines):
    """The memberships' read gives the shops (and their configuration versions); the dispute
    types of the filter and the rows come from the kept configuration: neither is read again
    once the process has seen them, and a new type shows at once."""
    from django.test.utils import CaptureQueriesContext

    from tickets.models import DisputeType

    client.get("/")  # the process keeps the shop's configuration
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/").content.decode()
    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "disputes_disputetype" not in tables and 'FROM "shops_shop"' not in tables, tables
    assert "收到破损" in body
    DisputeType.objects.create(
        code="new_kind", name_zh="新类型", name_en="New kind", category="other"
    )
    assert "新类型" in client.get("/").content.decode()


# --- Words, not codes -----------------------------------------------------------------------------


def test_queue_shows_words_for_codes_in_both_languages(client, shop):
    ticket = new_ticket(shop, "words", channel="im", status="pending_customer", priority="urgent")
    body = client.get("/").content.decode()
    row = body.split(f">{ticket.number}</a>")[1].split("</tr>")[0]
    assert "即时通讯" in row and "等待客户" in row and "紧急" in row and "收到破损" in row
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    row = body.split(f">{ticket.number}</a>")[1].split("</tr>")[0]
    assert (
        "Instant messaging" in row
        and "Waiting on customer" in row
        and "Urgent" in row
        and "Damaged on arrival" in row
    )
    visible = re.sub(r"<[^>]+>", " ", row)
    for code in ("pending_customer", "urgent", "damaged_on_arrival", " im "):
        assert code not in visible


# --- URL, htmx and the export -----------------------------------------------------------------------


def test_filter_form_requests_the_path_not_the_current_url(client, deadlines):
    body = client.get("/?status=open&priority=high").content.decode()
    form = body.split('id="queue-filters"')[1].split(">")[0]
    assert 'hx-get="/"' in form and 'hx-target="#queue"' in form


def test_htmx_filter_swaps_the_whole_queue_with_matching_controls_and_export(client, deadlines):
    response = client.get(
        "/?tab=all&status=&overdue=1&sort=due", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="queue"') and "<html" not in body
    assert 'name="overdue" value="1" id="filter-overdue" checked' in body
    assert (
        'href="/analytics/export/tickets.csv?tab=all&amp;status=&amp;overdue=1&amp;sort=due"'
        in body
    )
    assert numbers_on_page(response) == numbers(deadlines, "sla_missed", "platform_missed")


def test_back_forward_restore_gets_the_whole_page(client, deadlines):
    response = client.get(
        "/?overdue=1",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_export_has_exactly_the_rows_on_screen_with_words(client, deadlines, agent):
    services.ticket_assign(
        ticket=deadlines["sla_late"], assignee=agent, actor=services.Actor.staff(agent)
    )
    for query in (
        "",
        "overdue=1",
        "due_soon=1",
        "status=all&sort=due",
        "tab=mine",
        "tab=unassigned&sort=newest",
        "q=ORD-paused",
        "status=all&sort=updated",
    ):
        page = client.get(f"/?{query}")
        rows = read_csv(client.get(f"/analytics/export/tickets.csv?{query}"))
        assert [r[0] for r in rows[1:]] == numbers_on_page(page), query
    rows = read_csv(client.get("/analytics/export/tickets.csv?q=ORD-paused"))
    record = dict(zip(rows[0], rows[1], strict=False))
    assert record["status"] == "pending_customer" and record["status_name"] == "等待客户"
    assert record["dispute_type_name"] == "收到破损" and record["channel_name"] == "商家后台（API）"
    assert record["earliest_due_at"] == record["platform_deadline_at"] != ""
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    record = dict(
        zip(*read_csv(client.get("/analytics/export/tickets.csv?q=ORD-paused")), strict=False)
    )
    assert record["status_name"] == "Waiting on customer" and record["priority_name"] == "Normal"
    assert record["dispute_type_name"] == "Damaged on arrival"


def test_export_ignores_the_page_like_the_pager_does(client, shop):
    for i in range(30):
        new_ticket(shop, f"p{i}")
    body = client.get("/?page=2").content.decode()
    link = re.search(r'id="export-csv" href="([^"]+)"', body).group(1)
    assert "page=" not in link
    rows = read_csv(client.get(link.replace("&amp;", "&")))
    assert len(rows) == 1 + 30


def test_bad_filter_values_fall_back_to_defaults_in_list_and_export_alike(client, deadlines):
    query = "overdue=yes&due_soon=&page=0&sort=sideways&status=bogus&tab=everyone&dispute_type=999999&priority=max&q=%00"
    page = client.get(f"/?{query}")
    assert page.status_code == 200
    response = client.get(f"/analytics/export/tickets.csv?{query}")
    assert response.status_code == 200
    assert (
        [r[0] for r in read_csv(response)[1:]]
        == numbers_on_page(page)
        == numbers(deadlines, "sla_missed", "platform_missed")
    )


def test_ticket_path_is_the_ticket_pages_url():
    """The queue's rows link with |ticket_path (the prefix reversed once), which must stay what
    {% url 'workspace:ticket' number %} gives, under a script prefix too."""
    from django.urls import reverse, set_script_prefix

    from tickets.templatetags.workspace import ticket_path

    for prefix in ("/", "/helpdesk/"):
        set_script_prefix(prefix)
        try:
            for number in ("AS2026120700001", "T-1", "工单 1"):
                assert ticket_path(number) == reverse("workspace:ticket", args=[number])
        finally:
            set_script_prefix("/")
