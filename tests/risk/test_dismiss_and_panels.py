"""Risk, second increment: a supervisor dismisses a flag with a note (service, API, ticket page,
timeline), a flagged ticket's options all need approval, the customer page shows the evidence
side by side, and the supervisor dashboard's risk panel. Pictures drawn with Pillow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from analytics.selectors import Period, risk_flags, shop_tz
from disputes import services as disputes
from disputes.models import Compensation
from risk.models import FlagDismissal
from risk.samples import cropped, exif_taken, jpeg_bytes, resized, sample_photo
from risk.selectors import ticket_risk
from tests.factories import staff_member
from tests.risk.test_risk import add_photo, codes, flag, lone_ticket
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

COUPON = {"type": "coupon", "amount": "1.00", "note": "sorry"}


@pytest.fixture
def predates(shop, media_root):
    """A ticket whose photo was taken before the order was delivered."""
    ticket = lone_ticket(shop, "S-1")
    add_photo(ticket, jpeg_bytes(sample_photo(71), exif=exif_taken("2026:01:01 12:00:00")))
    return ticket


@pytest.fixture
def supervisor_api(supervisor, token_client):
    return token_client(supervisor)


def dismiss(
    client, ticket, code="evidence_predates_order", note="客户提供了购买记录，旧照片是同款"
):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/risk/dismiss/",
        {"code": code, "note": note},
        format="json",
    )


# --- dismissing --------------------------------------------------------------------------------


def test_supervisor_dismisses_a_flag_and_compensation_no_longer_waits(
    predates, supervisor_api, agent_client, supervisor
):
    held = agent_client.post(
        f"/api/v1/tickets/{predates.number}/compensations/", COUPON, format="json"
    )
    assert held.json()["status"] == "pending_approval"

    response = dismiss(supervisor_api, predates)
    assert response.status_code == 200
    shown = flag(response.json(), "evidence_predates_order")
    assert shown["dismissed"]["by"] == "supervisor"
    assert shown["dismissed"]["note"] == "客户提供了购买记录，旧照片是同款"
    assert shown["refs"] and shown["message"]  # still shown, with its evidence
    body = agent_client.get(f"/api/v1/tickets/{predates.number}/").json()
    assert flag(body["risk"], "evidence_predates_order")["dismissed"]["note"]

    event = TicketEvent.objects.get(ticket=predates, kind="risk_flag_dismissed")
    assert event.actor == supervisor and event.actor_label == "supervisor"
    assert event.data["code"] == "evidence_predates_order" and event.data["note"]

    again = agent_client.post(
        f"/api/v1/tickets/{predates.number}/compensations/", COUPON, format="json"
    )
    assert again.status_code == 201 and again.json()["status"] == "approved"


def test_an_undismissed_flag_still_holds(shop, supervisor_api, agent_client, media_root):
    ticket = lone_ticket(shop, "S-2", customer_id="c-s2", phone="13500000001")
    lone_ticket(shop, "S-3", customer_id="c-s3", phone="13500000001")  # linked accounts
    add_photo(ticket, jpeg_bytes(sample_photo(72), exif=exif_taken("2026:01:01 12:00:00")))
    assert set(codes(ticket_risk(ticket))) == {"evidence_predates_order", "linked_accounts"}
    assert dismiss(supervisor_api, ticket).status_code == 200
    held = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/compensations/", COUPON, format="json"
    )
    assert held.json()["status"] == "pending_approval"  # linked_accounts still holds it
    assert dismiss(supervisor_api, ticket, "linked_accounts", "同一家庭").status_code == 200
    free = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/compensations/", COUPON, format="json"
    )
    assert free.json()["status"] == "approved"


def test_agents_cannot_dismiss_and_bad_requests_are_explained(
    predates, agent_client, supervisor_api, other_shop
):
    refused = dismiss(agent_client, predates)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_allowed"
    no_note = dismiss(supervisor_api, predates, note="  ")
    assert no_note.status_code == 400 and "note" in no_note.json()["error"]["fields"]
    unknown = dismiss(supervisor_api, predates, code="looks_fishy")
    assert unknown.status_code == 400 and "code" in unknown.json()["error"]["fields"]
    absent = dismiss(supervisor_api, predates, code="reused_evidence")
    assert absent.status_code == 409 and absent.json()["error"]["code"] == "flag_not_raised"
    assert dismiss(supervisor_api, predates).status_code == 200
    twice = dismiss(supervisor_api, predates)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "flag_already_dismissed"
    theirs = lone_ticket(other_shop, "S-9")
    assert dismiss(supervisor_api, theirs).status_code == 404
    assert FlagDismissal.objects.count() == 1


def test_a_dismissed_reuse_flag_comes_back_when_a_new_ticket_reuses_the_photo(
    shop, supervisor_api, media_root
):
    first, second, third = (lone_ticket(shop, f"U-{i}") for i in range(3))
    picture = sample_photo(73)
    add_photo(first, jpeg_bytes(picture))
    add_photo(second, jpeg_bytes(resized(picture, 0.5)))
    assert dismiss(supervisor_api, second, "reused_evidence", "同一批货两次损坏").status_code == 200
    assert flag(ticket_risk(second), "reused_evidence")["dismissed"] is not None
    add_photo(third, jpeg_bytes(cropped(picture), quality=60))
    back = flag(ticket_risk(second), "reused_evidence")
    assert back["dismissed"] is None and third.number in back["refs"]


# --- the pages -----------------------------------------------------------------------------------


def page_client(shop, role: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(staff_member(shop, role, username=f"page-{role}"))
    client.cookies["django_language"] = language
    return client


def test_the_ticket_page_offers_dismissal_to_supervisors_only(predates, shop):
    agent_page = page_client(shop, "agent").get(f"/tickets/{predates.number}/").content.decode()
    assert 'data-testid="risk-section"' in agent_page
    assert 'data-testid="risk-dismiss-form"' not in agent_page

    boss = page_client(shop, "supervisor")
    page = boss.get(f"/tickets/{predates.number}/").content.decode()
    assert 'data-testid="risk-dismiss-form"' in page and 'data-testid="risk-holds"' in page
    response = boss.post(
        f"/tickets/{predates.number}/risk/dismiss/",
        {"code": "evidence_predates_order", "note": "买家另有一单同款"},
    )
    assert response.status_code == 302
    page = boss.get(f"/tickets/{predates.number}/").content.decode()
    assert 'data-testid="risk-dismissed"' in page and "买家另有一单同款" in page
    assert 'data-testid="risk-released"' in page and 'data-testid="risk-dismiss-form"' not in page
    assert 'data-testid="risk-dismissed-event"' in page  # on the timeline


def test_the_dismissal_on_the_timeline_speaks_the_readers_language(predates, shop):
    """The flag's sentence is kept as the supervisor read it (their language, with the counts of
    that moment); a reader of the other language gets the flag's name and its references."""
    boss = page_client(shop, "supervisor", language="zh-hans")
    boss.post(
        f"/tickets/{predates.number}/risk/dismiss/",
        {"code": "evidence_predates_order", "note": "买家另有一单同款"},
    )
    event = TicketEvent.objects.get(ticket=predates, kind="risk_flag_dismissed")
    assert event.data["language"] == "zh-hans" and event.data["refs"]
    chinese = event.data["message"]
    assert "照片" in chinese

    def timeline(client):
        page = client.get(f"/tickets/{predates.number}/").content.decode()
        return page.split('data-testid="risk-dismissed-event"')[1].split("</li>")[0]

    assert chinese in timeline(boss)
    english = timeline(page_client(shop, "agent", language="en"))
    assert chinese not in english and "Risk flag dismissed" in english
    assert all(str(ref) in english for ref in event.data["refs"])


def test_an_agent_posting_the_form_is_refused(predates, shop):
    agent = page_client(shop, "agent")
    agent.post(
        f"/tickets/{predates.number}/risk/dismiss/",
        {"code": "evidence_predates_order", "note": "x"},
    )
    assert not FlagDismissal.objects.exists()


def test_a_flagged_tickets_options_all_need_approval(predates, agent_client, supervisor_api):
    def options():
        body = agent_client.get(f"/api/v1/tickets/{predates.number}/compensation-options/").json()
        return body["options"] + body["pair"]

    assert options() and all(option["requires_approval"] for option in options())
    dismiss(supervisor_api, predates)
    assert not all(option["requires_approval"] for option in options())


def test_the_compensation_panel_says_why_every_option_waits(predates, shop):
    html = (
        page_client(shop, "agent").get(f"/tickets/{predates.number}/compensation/").content.decode()
    )
    assert 'data-testid="panel-review-reasons"' in html and "before the order was" in html


@pytest.mark.parametrize(("language", "words"), [("en", "Risk evidence"), ("zh-hans", "风险证据")])
def test_the_customer_page_shows_the_evidence_side_by_side(shop, media_root, language, words):
    first = lone_ticket(shop, "V-1", customer_id="c-v")
    second = lone_ticket(shop, "V-2", customer_id="c-v")
    picture = sample_photo(74)
    add_photo(first, jpeg_bytes(picture))
    add_photo(second, jpeg_bytes(resized(picture, 0.6), exif=exif_taken("2025:12:01 08:00:00")))
    html = (
        page_client(shop, "agent", language)
        .get("/customers/demo/c-v/", HTTP_ACCEPT_LANGUAGE=language)
        .content.decode()
    )
    assert 'data-testid="customer-risk-evidence"' in html and words in html
    assert html.count('data-testid="risk-photo-pair"') == 2  # each ticket's photo beside the other
    assert 'data-testid="risk-dates"' in html and "2025-12-01 08:00" in html
    assert f"/tickets/{first.number}/" in html and f"/tickets/{second.number}/" in html


# --- the dashboard ---------------------------------------------------------------------------------


def around_today(shop) -> Period:
    today = timezone.localdate(timezone=shop_tz(shop))
    one = dt.timedelta(days=1)
    return Period(shop=shop, date_from=today - one, date_to=today + one)


@pytest.mark.parametrize(
    ("language", "heading", "label"),
    [("en", "Risk flags", "Photo older than the order"), ("zh-hans", "风险标记", "照片早于订单")],
)
def test_dashboard_panel_counts_flagged_tickets_and_money_by_flag(
    shop, media_root, language, heading, label
):
    policy = disputes.policy_current(shop=shop)
    old_photo = lone_ticket(shop, "W-1")
    add_photo(old_photo, jpeg_bytes(sample_photo(75), exif=exif_taken("2026:01:01 12:00:00")))
    Compensation.objects.create(
        ticket=old_photo,
        type="cash",
        amount=Decimal("8.00"),
        status="pending_approval",
        policy=policy,
    )
    Compensation.objects.create(
        ticket=old_photo, type="coupon", amount=Decimal("3.00"), status="approved", policy=policy
    )
    first, second = lone_ticket(shop, "W-2"), lone_ticket(shop, "W-3")
    add_photo(first, jpeg_bytes(sample_photo(76)))
    add_photo(second, jpeg_bytes(sample_photo(76)))
    Compensation.objects.create(
        ticket=second, type="cash", amount=Decimal("5.00"), status="rejected", policy=policy
    )
    clean = lone_ticket(shop, "W-4")
    Compensation.objects.create(
        ticket=clean, type="cash", amount=Decimal("2.00"), status="approved", policy=policy
    )
    FlagDismissal.objects.create(
        ticket=first,
        code="reused_evidence",
        refs=[second.number],
        note="ok",
        dismissed_by_label="boss",
    )

    summary = risk_flags(around_today(shop))
    assert summary["tickets"] == 4
    rows = {row["code"]: row for row in summary["by_code"]}
    assert set(rows) == {"evidence_predates_order", "reused_evidence"}
    assert rows["evidence_predates_order"]["tickets"] == 1
    assert rows["evidence_predates_order"]["pending"] == Decimal("8.00")
    assert rows["evidence_predates_order"]["granted"] == Decimal("3.00")
    assert rows["reused_evidence"]["tickets"] == 2 and rows["reused_evidence"]["dismissed"] == 1
    assert rows["reused_evidence"]["rejected"] == Decimal("5.00")
    total = summary["total"]
    assert (total["tickets"], total["dismissed"], total["granted"]) == (3, 1, Decimal("3.00"))

    html = (
        page_client(shop, "supervisor", language)
        .get("/analytics/", HTTP_ACCEPT_LANGUAGE=language)
        .content.decode()
    )
    assert 'data-testid="risk-panel"' in html and heading in html and label in html
    assert html.count('data-testid="risk-row"') == 2 and "8.00" in html and "5.00" in html


def test_dashboard_panel_never_counts_another_shops_tickets(shop, other_shop, media_root):
    theirs = lone_ticket(other_shop, "X-1")
    add_photo(theirs, jpeg_bytes(sample_photo(77), exif=exif_taken("2026:01:01 12:00:00")))
    mine = risk_flags(around_today(shop))
    assert mine["by_code"] == [] and mine["total"]["tickets"] == 0
    theirs_summary = risk_flags(around_today(other_shop))
    assert theirs_summary["total"]["tickets"] == 1


# --- the migration to wide bands -------------------------------------------------------------------


def test_the_wide_band_migration_rebuilds_every_compared_photos_bands(shop, media_root):
    import importlib

    from django.apps import apps

    from risk import photos
    from risk.models import PhotoBand, PhotoHash

    rebuild = importlib.import_module("risk.migrations.0002_wide_bands").rebuild_bands
    first, second = lone_ticket(shop, "M-1"), lone_ticket(shop, "M-2")
    add_photo(first, jpeg_bytes(sample_photo(80)))
    add_photo(second, jpeg_bytes(sample_photo(81)))
    stored = list(PhotoHash.objects.filter(compared=True))
    # What 0001 left: 11 narrow bands per photo, without the hash.
    PhotoBand.objects.all().delete()
    PhotoBand.objects.bulk_create(
        PhotoBand(photo=p, shop=shop, band=n, phash=0) for p in stored for n in range(11)
    )
    rebuild(apps, None)
    for photo in stored:
        rows = PhotoBand.objects.filter(photo=photo)
        assert sorted(rows.values_list("band", flat=True)) == sorted(photos.bands(photo.phash))
        assert set(rows.values_list("phash", flat=True)) == {photo.phash}
    assert PhotoBand.objects.count() == 3 * len(stored) == 6


def test_the_customer_page_reads_the_customers_findings_once(shop, media_root):
    """The page shows the customer's flags and their evidence: both come from one read of the
    findings (the photos of the customer's tickets are read once, not once per section)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = lone_ticket(shop, "W-1", customer_id="c-w")
    second = lone_ticket(shop, "W-2", customer_id="c-w")
    picture = sample_photo(75)
    add_photo(first, jpeg_bytes(picture))
    add_photo(second, jpeg_bytes(resized(picture, 0.6)))
    client = page_client(shop, "agent")
    client.get("/customers/demo/c-w/")  # warm: session, policy
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/customers/demo/c-w/").content.decode()
    assert 'data-testid="customer-risk-evidence"' in html
    photo_reads = [q for q in queries.captured_queries if 'FROM "risk_photohash"' in q["sql"]]
    assert len(photo_reads) == 1, [q["sql"][:120] for q in photo_reads]
