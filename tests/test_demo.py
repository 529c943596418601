"""The demo data behind `make run`: spread over past weeks, coherent timelines, something for every chart."""

import datetime as dt

import pytest
from django.utils import timezone

from analytics import rollup, selectors
from demo.tickets import DUPLICATE_CUSTOMERS, HISTORY_CUSTOMER, demo_tickets_create
from disputes.models import Compensation, Judgment
from disputes.selectors import customer_compensation, customer_judgments_by_party
from shops.models import Shop
from shops.services import shop_bootstrap
from sla.models import OutboundContact
from tickets.models import Customer, SatisfactionSurvey, Ticket

pytestmark = pytest.mark.django_db


def test_demo_tickets_are_spread_over_weeks_with_coherent_timelines(
    dispute_types_seeded, media_root
):
    from django.contrib.auth import get_user_model

    creds = shop_bootstrap(code="demo", user_prefix="")
    shop = Shop.objects.get(code="demo")
    agent = get_user_model().objects.get(username=creds["users"]["agent"]["username"])
    before = timezone.now()
    # 30 sample tickets and two pairs of duplicates (one pair merged)
    assert demo_tickets_create(shop=shop, agent=agent) == 34
    after = timezone.now()
    assert demo_tickets_create(shop=shop, agent=agent) == 0  # kept on the next `make run`
    tickets = list(Ticket.objects.filter(shop=shop).prefetch_related("events"))
    created = sorted(t.created_at for t in tickets)
    assert created[-1] <= before and created[0] < before - dt.timedelta(
        days=14
    )  # weeks, not one moment
    statuses = {t.status for t in tickets}
    assert {"new", "open", "resolved"} <= statuses and len(
        [t for t in tickets if t.status != "resolved"]
    ) >= 8
    for ticket in tickets:
        moments = [e.created_at for e in ticket.events.all()]
        assert (
            moments[0] == ticket.created_at and moments == sorted(moments) and moments[-1] <= after
        )
        if ticket.resolved_at:
            assert ticket.created_at < ticket.first_responded_at < ticket.resolved_at
    assert SatisfactionSurvey.objects.filter(ticket__shop=shop, score__isnull=False).count() >= 5
    # Judgments and compensations: some paid out, some waiting in the supervisor's inbox.
    statuses = list(Compensation.objects.filter(ticket__shop=shop).values_list("status", flat=True))
    assert statuses.count("executed") >= 3 and statuses.count("pending_approval") >= 1, statuses
    # Approved with the shop backend silent: staff can mark it executed or failed in the workspace.
    assert statuses.count("approved") >= 1, statuses
    # The marketplace's own deadline on some: the queue sorts by the earliest deadline.
    assert any(
        t.platform_deadline_at and t.platform_deadline_at < after + dt.timedelta(hours=1)
        for t in tickets
    )
    assert Judgment.objects.filter(ticket__shop=shop).count() >= len(statuses)
    # Tags on the active tickets, and the agent's saved view of the urgent ones.
    tagged = {tag.name for t in tickets for tag in t.tags.all()}
    assert {"大客户", "加急"} <= tagged, tagged
    assert Ticket.objects.filter(shop=shop, tags__name="加急").exists()
    assert list(agent.saved_views.values_list("name", "query")) == [("加急工单", "tag=加急")]
    needing_photo = [t for t in tickets if t.dispute_type.photo_required]
    assert needing_photo and all(
        t.attachments.filter(content_type="image/png").exists() for t in needing_photo
    )
    # Risk (issue 16): one photo on two orders' tickets, one taken before the order was delivered.
    from risk.selectors import ticket_risk

    found = {flag["code"] for t in needing_photo for flag in ticket_risk(t)["flags"]}
    assert {"reused_evidence", "evidence_predates_order"} <= found, found
    dismissed = [
        flag
        for t in needing_photo
        for flag in ticket_risk(t)["flags"]
        if flag["code"] == "reused_evidence" and flag["dismissed"]
    ]
    assert len(dismissed) == 1 and dismissed[0]["dismissed"]["note"], dismissed
    tz = selectors.Period(shop=shop, date_from=before.date(), date_to=before.date()).tz
    today = before.astimezone(tz).date()
    period = selectors.Period(shop=shop, date_from=today - dt.timedelta(days=29), date_to=today)
    rollup.stats_refresh_period(period)
    figures = selectors.dashboard(period)
    risk_panel = selectors.risk_flags(period)
    assert {row["code"] for row in risk_panel["by_code"]} >= {
        "reused_evidence",
        "evidence_predates_order",
    }
    reused_row = next(r for r in risk_panel["by_code"] if r["code"] == "reused_evidence")
    assert reused_row["dismissed"] == 1 and risk_panel["total"]["pending"] > 0
    assert figures["funnel"][0]["tickets"] == 34
    assert len([d for d in figures["volume_by_day"] if d["tickets"]]) >= 8
    assert (
        figures["satisfaction"]["average"] is not None
        and figures["response"]["avg_resolution_minutes"] > 0
    )
    # The tour's customer page has something in every section.
    history = Customer.objects.get(shop=shop, external_id=HISTORY_CUSTOMER)
    assert history.tickets.count() >= 3
    money = customer_compensation(customer_id=history.pk)
    assert money["granted"] > 0 and money["pending"] > 0, money
    assert any(n for _party, n in customer_judgments_by_party(customer_id=history.pk))
    assert OutboundContact.objects.filter(customer=history, purpose="follow_up").count() == 1
    # Duplicates: the first pair suggests each other, the second is merged.
    from tickets.selectors import duplicate_suggestions

    open_pair = list(Ticket.objects.filter(customer__external_id=DUPLICATE_CUSTOMERS[0][0]))
    assert len(open_pair) == 2
    assert [t.pk for t in duplicate_suggestions(ticket=open_pair[0])] == [open_pair[1].pk]
    merged = Ticket.objects.get(
        customer__external_id=DUPLICATE_CUSTOMERS[1][0], merged_into__isnull=False
    )
    assert merged.status == "closed" and merged.merged_into.customer_id == merged.customer_id
