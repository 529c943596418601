"""Every figure of the dashboard / summary API against the hand-counted fixture of conftest.py."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics import rollup, selectors
from analytics.models import AnalyticsSettings, DailyStat, DailyStatStale
from disputes.models import Compensation, Judgment
from tests.analytics.conftest import bj, fixture_ticket
from tickets.models import DisputeType, SatisfactionSurvey, Ticket

pytestmark = pytest.mark.django_db

WEEK = {"from": "2026-11-01", "to": "2026-11-07"}


@pytest.fixture
def summary(figures, supervisor, token_client):
    def get(**params):
        response = token_client(supervisor).get("/api/v1/analytics/summary/", {**WEEK, **params})
        assert response.status_code == 200, response.content
        return response.json()

    return get


def period(shop, **kw):
    """The fixture's week, its rollup days brought up to date (what every caller does first)."""
    week = selectors.Period(
        shop=shop, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 7), **kw
    )
    assert rollup.stats_refresh_period(week) == 0
    return week


def test_counts_by_day_in_beijing_time(figures, shop):
    days = {row["date"]: row["tickets"] for row in selectors.volume_by_day(period(shop))}
    # T1 at 00:30 Beijing on 11-01 is 10-31 in UTC; T3 at 23:30 on 11-07 stays on 11-07; T4 (11-08 00:30) is out.
    assert days == {
        dt.date(2026, 11, 1): 1,
        dt.date(2026, 11, 2): 0,
        dt.date(2026, 11, 3): 1,
        dt.date(2026, 11, 4): 0,
        dt.date(2026, 11, 5): 1,
        dt.date(2026, 11, 6): 0,
        dt.date(2026, 11, 7): 1,
    }
    weeks = selectors.volume_by_week(selectors.volume_by_day(period(shop)))
    assert weeks == [
        {"week": dt.date(2026, 10, 26), "tickets": 1},
        {"week": dt.date(2026, 11, 2), "tickets": 3},
    ]


def test_hot_spots(figures, shop):
    hours, weekdays = selectors.by_hour_and_weekday(period(shop))
    assert {h["hour"]: h["tickets"] for h in hours if h["tickets"]} == {0: 1, 10: 1, 14: 1, 23: 1}
    assert {d["weekday"]: d["tickets"] for d in weekdays if d["tickets"]} == {
        7: 1,
        2: 1,
        4: 1,
        6: 1,
    }
    assert selectors.by_sku(period(shop)) == [
        {"sku": "SKU-A", "tickets": 3},
        {"sku": "SKU-B", "tickets": 1},
    ]


def test_summary_api_figures(summary):
    body = summary()
    assert body["tickets"] == 4
    assert body["by_dispute_type"] == [
        {"code": "quality_defect", "tickets": 2},
        {"code": "damaged_in_transit", "tickets": 1},
        {"code": "lost_parcel", "tickets": 1},
    ]
    assert body["by_responsibility"] == [
        {"party": "courier", "tickets": 1},
        {"party": "merchant", "tickets": 1},
        {"party": "unjudged", "tickets": 2},
    ]
    assert [(f["step"], f["tickets"], f["drop"]) for f in body["funnel"]] == [
        ("received", 4, None),
        ("first_response", 3, 1),
        ("resolved", 2, 1),
        ("satisfied", 1, 1),
    ]
    assert body["funnel"][1]["drop_rate"] == "0.2500"
    assert body["response"] == {
        "avg_first_response_minutes": "40.0",
        "avg_resolution_minutes": "780.0",
        "first_response_target_minutes": 60,
        "resolution_target_minutes": 1620,
        "first_response_within_target": "0.6667",
        "resolution_within_target": "1.0000",
        "sla_breached": 1,
    }
    assert body["satisfaction"] == {
        "answered": 2,
        "average": "3.50",
        "satisfied": 1,
        "target": "4.00",
    }
    assert body["compensation"]["cost"] == "26.00"
    assert body["compensation"]["recovered"] == "21.00"
    assert body["compensation"]["net"] == "5.00"
    assert body["compensation"]["by_type"] == [
        {"type": "cash", "count": 1, "amount": "5.00"},
        {"type": "courier_claim", "count": 1, "amount": "21.00"},
        {"type": "refund", "count": 1, "amount": "21.00"},
    ]
    assert body["compensation"]["by_party"] == [
        {"party": "courier", "count": 1, "amount": "21.00"},
        {"party": "merchant", "count": 1, "amount": "5.00"},
    ]
    assert body["by_sku"] == [{"sku": "SKU-A", "tickets": 3}, {"sku": "SKU-B", "tickets": 1}]


def test_courier_ranking(summary):
    couriers = {c["courier"]: c for c in summary()["by_courier"]}
    assert [c["courier"] for c in summary()["by_courier"]] == ["YTO", "SF"]
    yto, sf = couriers["YTO"], couriers["SF"]
    assert (
        yto["shipments"],
        yto["complaints"],
        yto["per_1000"],
        yto["damage_share"],
        yto["loss_share"],
    ) == (100, 1, "10.00", "1.0000", "0.0000")
    assert (yto["cost"], yto["recovered"], yto["flagged"]) == ("0.00", "0.00", True)
    assert "10.00" in yto["suggestion"]
    assert (sf["shipments"], sf["tickets"], sf["complaints"], sf["per_1000"], sf["loss_share"]) == (
        2000,
        3,
        1,
        "0.50",
        "1.0000",
    )
    assert (sf["cost"], sf["recovered"], sf["flagged"], sf["suggestion"]) == (
        "26.00",
        "21.00",
        False,
        "",
    )


def test_courier_threshold_is_the_shops(figures, shop, summary):
    AnalyticsSettings.objects.create(shop=shop, courier_complaint_threshold=Decimal("0.40"))
    assert {c["courier"]: c["flagged"] for c in summary()["by_courier"]} == {
        "YTO": True,
        "SF": True,
    }


def test_agent_kpis(summary):
    agents = summary()["by_agent"]
    assert agents == [
        {
            "agent": "agent",
            "tickets": 1,
            "resolved": 1,
            "avg_first_response_minutes": "20.0",
            "avg_resolution_minutes": "120.0",
            "surveys_answered": 1,
            "satisfaction": "5.00",
            "sla_breached": 0,
            "below_target": False,
        },
        {
            "agent": "agent2",
            "tickets": 2,
            "resolved": 1,
            "avg_first_response_minutes": "50.0",
            "avg_resolution_minutes": "1440.0",
            "surveys_answered": 1,
            "satisfaction": "2.00",
            "sla_breached": 1,
            "below_target": True,
        },
    ]


def test_satisfaction_target_is_the_shops(figures, shop, summary):
    AnalyticsSettings.objects.create(shop=shop, satisfaction_target=Decimal("1.50"))
    assert [a["below_target"] for a in summary()["by_agent"]] == [False, False]


def test_dispute_type_filter(summary):
    body = summary(dispute_type="quality_defect")
    assert body["tickets"] == 2
    assert body["by_dispute_type"] == [{"code": "quality_defect", "tickets": 2}]
    assert body["compensation"]["cost"] == "5.00"
    assert [a["agent"] for a in body["by_agent"]] == ["agent"]


def test_other_shop_sees_only_its_own(figures, other_shop, token_client):
    from tests.factories import staff_member

    boss = staff_member(other_shop, "supervisor", username="other-boss")
    body = token_client(boss).get("/api/v1/analytics/summary/", WEEK).json()
    assert body["shop"] == "other"
    assert body["tickets"] == 1
    assert body["compensation"]["cost"] == "7.00"
    assert [(c["courier"], c["shipments"], c["tickets"]) for c in body["by_courier"]] == [
        ("SF", 10, 1)
    ]
    # and it cannot ask for demo's
    response = token_client(boss).get("/api/v1/analytics/summary/", {**WEEK, "shop": "demo"})
    assert response.status_code == 400
    assert "shop" in response.json()["error"]["fields"]


def test_agents_cannot_read_analytics(figures, token_client):
    response = token_client(figures["agent"]).get("/api/v1/analytics/summary/", WEEK)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-13-01", "to": "2026-11-07"}, "from"),
        ({"from": "yesterday", "to": "2026-11-07"}, "from"),
        ({"from": "2026-11-01", "to": "2026-11-31"}, "to"),
        ({"from": "2026-11-08", "to": "2026-11-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-11-07"}, "to"),
        ({"from": "2026-11-01", "to": "2026-11-07", "dispute_type": "nope"}, "dispute_type"),
        ({"from": "2026-11-01", "to": "2026-11-07", "shop": "nope"}, "shop"),
    ],
)
def test_bad_filters_are_400(figures, supervisor, token_client, params, field):
    response = token_client(supervisor).get("/api/v1/analytics/summary/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_two_years_exactly_is_allowed(figures, supervisor, token_client):
    response = token_client(supervisor).get(
        "/api/v1/analytics/summary/", {"from": "2024-11-08", "to": "2026-11-08"}
    )
    assert response.status_code == 200
    assert response.json()["tickets"] == 5  # 731 days, T4 (11-08) inside


def test_shop_defined_quality_type_has_a_name(figures, shop):
    DisputeType.objects.create(
        code="mould", shop=shop, name_zh="发霉", name_en="Mould", category="product"
    )
    assert selectors.by_dispute_type(period(shop))[0]["code"] == "quality_defect"


def test_every_kind_of_change_shows_at_once(figures, shop, supervisor, token_client):
    """The rollup's markers come from database triggers: a new ticket, a raw .update() of a
    ticket, a new judgment, a compensation's status and a survey answer all show on the next read."""
    client = token_client(supervisor)
    get = lambda: client.get("/api/v1/analytics/summary/", WEEK).json()  # noqa: E731
    assert get()["tickets"] == 4
    t9 = fixture_ticket(
        shop, code="lost_parcel", created=bj(2, 9), courier="SF", sku="SKU-Z", order_no="O9"
    )
    body = get()
    assert body["tickets"] == 5 and {"sku": "SKU-Z", "tickets": 1} in body["by_sku"]
    Ticket.objects.filter(pk=t9.pk).update(sla_breached_at=t9.created_at)
    assert get()["response"]["sla_breached"] == 2
    Judgment.objects.create(ticket=figures["t3"], version=1, party="customer")
    assert {"party": "customer", "tickets": 1} in get()["by_responsibility"]
    Compensation.objects.filter(ticket=figures["t3"]).update(
        status="approved"
    )  # the rejected cash 3.00
    assert get()["compensation"]["cost"] == "29.00"
    SatisfactionSurvey.objects.filter(ticket=figures["t3"]).update(score=4)
    assert get()["satisfaction"]["satisfied"] == 2
    Ticket.objects.filter(pk=t9.pk).update(
        created_at=bj(9, 9)
    )  # moved out of the week: both days recomputed
    assert get()["tickets"] == 4


def test_a_new_time_zone_recomputes_the_whole_shop(figures, shop, supervisor, token_client):
    client = token_client(supervisor)
    week = {"from": "2026-10-31", "to": "2026-10-31"}
    assert client.get("/api/v1/analytics/summary/", week).json()["tickets"] == 0
    shop.timezone = "UTC"  # T1 (11-01 00:30 Beijing) is 10-31 16:30 UTC
    shop.save(update_fields=["timezone"])
    assert client.get("/api/v1/analytics/summary/", week).json()["tickets"] == 1


def test_the_rollup_matches_a_rebuild(figures, shop):
    """What the markers kept up to date equals a recomputation from scratch."""
    week = period(shop)
    before = selectors.dashboard(week)
    rollup.stats_rebuild(shop=shop)
    assert selectors.dashboard(week) == before
    assert (
        DailyStat.objects.filter(shop=shop).exists()
        and not DailyStatStale.objects.filter(shop_id=shop.pk).exists()
    )


def test_a_big_change_is_left_to_the_beat_task(
    figures, shop, settings, supervisor, token_client, client
):
    """Stale days holding more tickets than ANALYTICS_INLINE_REFRESH_TICKETS are not recomputed
    on the request (a busy shop's page stays fast): the page says so, beat's task does it."""
    settings.ANALYTICS_INLINE_REFRESH_TICKETS = 3
    rollup.stats_rebuild(shop=shop)
    api = token_client(supervisor)
    get = lambda: api.get("/api/v1/analytics/summary/", WEEK).json()  # noqa: E731
    Ticket.objects.filter(shop=shop).update(
        sla_breached_at=bj(8, 0)
    )  # 4 tickets on 4 days of the week
    body = get()
    assert body["stale_days"] == 4 and body["response"]["sla_breached"] == 1  # not yet counted
    client.force_login(supervisor)
    assert 'id="analytics-stale"' in client.get("/analytics/", WEEK).content.decode()
    from analytics.tasks import refresh_stats

    # demo: the week's 4 days and T4's 11-08; the other shop: T5's 11-03 and today (the fixture
    # created T5 now, then moved it).
    assert refresh_stats() == 7
    body = get()
    assert body["stale_days"] == 0 and body["response"]["sla_breached"] == 4
    assert 'id="analytics-stale"' not in client.get("/analytics/", WEEK).content.decode()
    Ticket.objects.filter(pk=figures["t1"].pk).update(
        sla_breached_at=None
    )  # one ticket: at once again
    assert get()["response"]["sla_breached"] == 3


def test_rebuild_command(figures, shop):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("analytics_rebuild", "--shop", "demo", stdout=out)
    # The days with tickets (11-01, 03, 05, 07, 08) and today, where the fixture first saved them.
    assert "demo: 6 days recomputed" in out.getvalue()
    assert selectors.volume_by_day(period(shop))[0] == {"date": dt.date(2026, 11, 1), "tickets": 1}
    with pytest.raises(CommandError, match="Unknown shop"):
        call_command("analytics_rebuild", "--shop", "nope")


def test_stale_days_after_a_bulk_change_are_found_day_by_day(figures, shop):
    """Past its scan limit (many markers), the stale-day lookup probes each day instead: same answer."""
    rollup.stats_rebuild(shop=shop)
    Ticket.objects.filter(shop=shop).update(sla_breached_at=bj(8, 0))
    scanned = rollup._stale_days_between(shop, dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    probed = rollup._stale_days_between(
        shop, dt.date(2026, 11, 1), dt.date(2026, 11, 7), scan_limit=2
    )
    assert scanned == probed == {dt.date(2026, 11, d) for d in (1, 3, 5, 7)}


def test_beat_skips_a_shop_another_worker_is_refreshing_and_keeps_to_its_budget(figures, shop):
    import psycopg2
    from django.db import connection

    # Another worker, in its own session, holds this shop (taken before this test's transaction
    # takes the lock itself: a transaction's advisory lock lasts until the test ends).
    other = psycopg2.connect(
        **{k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    )
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, hashtext('analytics-daily-stats'))", [shop.pk]
            )
        stale = rollup.stale_days(
            shop
        )  # the fixture's 5 days and today, where it first saved the tickets
        assert len(stale) == 6
        assert rollup.stats_refresh(shop=shop) == 0
        assert rollup.stale_days(shop) == stale
    finally:
        # Released before closing: the server ends a closed session (and drops its locks) a moment
        # after the client has moved on, which under load made the next refresh find it held.
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, hashtext('analytics-daily-stats'))", [shop.pk]
            )
        other.close()
    assert rollup.stats_refresh(shop=shop, deadline=0) == 0  # budget spent before the first run
    assert rollup.stats_refresh(shop=shop) == 6 and not rollup.stale_days(shop)
