import csv
import io
from decimal import Decimal

import pytest

from analytics.models import ShipmentStat

pytestmark = pytest.mark.django_db

URL = "/api/v1/shipments/stats/"


def test_shipment_stats_create_then_replace(shop_client, shop):
    created = shop_client.post(
        URL, {"date": "2026-11-03", "courier": " SF ", "shipments": 1200}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json() == {"date": "2026-11-03", "courier": "SF", "shipments": 1200}
    replaced = shop_client.post(
        URL, {"date": "2026-11-03", "courier": "SF", "shipments": 1300}, format="json"
    )
    assert replaced.status_code == 200
    assert list(ShipmentStat.objects.values_list("shop__code", "courier", "shipments")) == [
        ("demo", "SF", 1300)
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"date": "2026-11-31", "courier": "SF", "shipments": 1}, "date"),
        ({"date": "03/11/2026", "courier": "SF", "shipments": 1}, "date"),
        ({"date": "2999-01-01", "courier": "SF", "shipments": 1}, "date"),
        ({"date": "2026-11-03", "courier": "SF", "shipments": -5}, "shipments"),
        ({"date": "2026-11-03", "courier": "SF", "shipments": "many"}, "shipments"),
        ({"date": "2026-11-03", "courier": "SF", "shipments": 1.5}, "shipments"),
        ({"date": "2026-11-03", "courier": "", "shipments": 1}, "courier"),
        ({"date": "2026-11-03", "shipments": 1}, "courier"),
        ({"date": "2026-11-03", "courier": "SF", "shipments": 1, "extra": 1}, "extra"),
    ],
)
def test_shipment_stats_bad_input_is_400_and_stores_nothing(shop_client, body, field):
    response = shop_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert ShipmentStat.objects.count() == 0


def test_shipment_stats_malformed_json_and_staff(shop_client, agent_client):
    response = shop_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert (
        agent_client.post(
            URL, {"date": "2026-11-03", "courier": "SF", "shipments": 1}, format="json"
        ).status_code
        == 403
    )
    assert ShipmentStat.objects.count() == 0


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_ticket_export_uses_the_queue_filters(figures, client, supervisor):
    client.force_login(supervisor)
    everything = read_csv(client.get("/analytics/export/tickets.csv?status=all"))
    assert everything[0] == [
        "number",
        "shop",
        "status",
        "priority",
        "dispute_type",
        "created_at",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "sla_breached_at",
        "assignee",
        "customer",
        "order_no",
        "courier",
        "channel",
        "platform_deadline_at",
        "sla_due_at",
        "earliest_due_at",
        "status_name",
        "priority_name",
        "dispute_type_name",
        "channel_name",
    ]
    assert len(everything) == 1 + 5  # demo's five tickets, not the other shop's
    lost_parcel = figures["t2"].dispute_type_id
    rows = read_csv(
        client.get(f"/analytics/export/tickets.csv?status=all&dispute_type={lost_parcel}")
    )
    assert [r[0] for r in rows[1:]] == [figures["t2"].number]
    assert rows[1][5] == "2026-11-03T10:00:00+08:00"  # the shop's time zone
    response = client.get("/analytics/export/tickets.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]


def test_table_exports(figures, client, supervisor):
    client.force_login(supervisor)
    rows = read_csv(client.get("/analytics/export/couriers.csv?from=2026-11-01&to=2026-11-07"))
    assert rows[0][:5] == ["courier", "shipments", "tickets", "complaints", "per_1000"]
    assert [r[:5] for r in rows[1:]] == [
        ["YTO", "100", "1", "1", "10.00"],
        ["SF", "2000", "3", "1", "0.50"],
    ]
    rows = read_csv(client.get("/analytics/export/agents.csv?from=2026-11-01&to=2026-11-07"))
    assert [r[0] for r in rows[1:]] == ["agent", "agent2"] and rows[2][-1] == "True"
    rows = read_csv(client.get("/analytics/export/volume_by_day.csv?from=2026-11-01&to=2026-11-07"))
    assert rows[1] == ["2026-11-01", "1"] and len(rows) == 8
    assert client.get("/analytics/export/nope.csv").status_code == 404
    assert (
        client.get("/analytics/export/couriers.csv?from=2026-11-08&to=2026-11-01").status_code
        == 400
    )


def test_dashboard_page(figures, client, supervisor):
    client.force_login(supervisor)
    page = client.get("/analytics/?from=2026-11-01&to=2026-11-07")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kpi-tickets">4<' in html
    assert "vendor/chart.umd.js" in html and "analytics-data" in html
    assert (
        "<td>已接收</td>" in html
        and "first_response" not in html.split('id="table-funnel"')[1].split("</table>")[0]
    )
    charts = page.context["chart_data"]
    # The compensation charts name types and parties in words; the API keeps the codes.
    assert charts["compensation_by_type"] and all(
        row["label"] != row["type"] for row in charts["compensation_by_type"]
    )
    assert charts["compensation_by_party"] and all(
        row["label"] != row["party"] for row in charts["compensation_by_party"]
    )
    filtered = client.get(
        "/analytics/?from=2026-11-01&to=2026-11-07&dispute_type=quality_defect"
    ).content.decode()
    assert 'id="kpi-tickets">2<' in filtered
    bad = client.get("/analytics/?from=2026-11-09&to=2026-11-01")
    assert bad.status_code == 400 and "analytics-error" in bad.content.decode()
    assert 'href="/analytics/"' in client.get("/").content.decode()  # nav link for supervisors


def test_agents_get_no_dashboard(figures, client):
    client.force_login(figures["agent"])
    assert client.get("/analytics/").status_code == 403
    assert 'href="/analytics/"' not in client.get("/").content.decode()
    # agents may export their queue
    assert client.get("/analytics/export/tickets.csv").status_code == 200


@pytest.fixture
def shop_admin(shop):
    from tests.factories import staff_member

    return staff_member(shop, "admin", username="shop-admin")


def test_thresholds_page_saves_and_is_used(figures, client, shop, shop_admin, supervisor):
    from analytics.models import AnalyticsSettings

    client.force_login(shop_admin)
    page = client.get("/settings/demo/analytics/")
    assert (
        page.status_code == 200
        and 'name="courier_complaint_threshold" value="5.00"' in page.content.decode()
    )
    for link in ("/shops/demo/policy/", "/shops/demo/dispute-types/", "/settings/demo/sla/"):
        assert f'href="{link}"' in page.content.decode()
    response = client.post(
        "/settings/demo/analytics/",
        {"courier_complaint_threshold": "0.4", "satisfaction_target": "4.5"},
    )
    assert response.status_code == 302
    row = AnalyticsSettings.objects.get(shop=shop)
    assert (row.courier_complaint_threshold, row.satisfaction_target, row.updated_by) == (
        Decimal("0.40"),
        Decimal("4.50"),
        shop_admin,
    )
    assert (
        "shop-admin" in client.get("/settings/demo/analytics/").content.decode()
    )  # who changed it
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=supervisor)
    body = client.get(
        "/api/v1/analytics/summary/",
        {"from": "2026-11-01", "to": "2026-11-07"},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    ).json()
    assert {c["courier"]: c["flagged"] for c in body["by_courier"]} == {
        "SF": True,
        "YTO": True,
    }  # 0.5 and 10.0 per 1,000 > 0.4
    assert body["satisfaction"]["target"] == "4.50"


@pytest.mark.parametrize(
    "data, field",
    [
        (
            {"courier_complaint_threshold": "abc", "satisfaction_target": "4"},
            "courier_complaint_threshold",
        ),
        (
            {"courier_complaint_threshold": "-1", "satisfaction_target": "4"},
            "courier_complaint_threshold",
        ),
        (
            {"courier_complaint_threshold": "NaN", "satisfaction_target": "4"},
            "courier_complaint_threshold",
        ),
        ({"courier_complaint_threshold": "5", "satisfaction_target": "6"}, "satisfaction_target"),
        ({"courier_complaint_threshold": "5", "satisfaction_target": "0.5"}, "satisfaction_target"),
        ({"courier_complaint_threshold": "5", "satisfaction_target": ""}, "satisfaction_target"),
    ],
)
def test_thresholds_bad_input_is_400_and_changes_nothing(client, shop, shop_admin, data, field):
    from analytics.models import AnalyticsSettings

    client.force_login(shop_admin)
    response = client.post("/settings/demo/analytics/", data)
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not AnalyticsSettings.objects.filter(shop=shop).exists()


def test_thresholds_page_is_for_the_shops_admins(client, shop, other_shop, supervisor, shop_admin):
    client.force_login(supervisor)
    assert client.get("/settings/demo/analytics/").status_code == 404
    assert (
        client.post(
            "/settings/demo/analytics/",
            {"courier_complaint_threshold": "1", "satisfaction_target": "4"},
        ).status_code
        == 404
    )
    client.force_login(shop_admin)
    assert client.get("/settings/other/analytics/").status_code == 404


@pytest.mark.parametrize(
    "language, unjudged, cash",
    [
        ("zh-hans", "未判定", "现金(红包/转账)"),
        ("en", "Not judged yet", "Cash (red packet / transfer)"),
    ],
)
def test_tables_name_codes_in_words_in_the_chart_and_the_csv(
    figures, client, supervisor, language, unjudged, cash
):
    from disputes.services import policy_current
    from tests.analytics.conftest import compensation

    compensation(
        figures["t3"], policy_current(shop=figures["t3"].shop), "cash", "2.00", "approved"
    )  # t3 has no judgment
    client.force_login(supervisor)
    client.cookies.load({"django_language": language})
    page = client.get("/analytics/?from=2026-11-01&to=2026-11-07")
    parties = {
        row["party"]: row["label"] for row in page.context["chart_data"]["compensation_by_party"]
    }
    assert parties["unjudged"] == unjudged
    rows = read_csv(
        client.get("/analytics/export/compensation_by_party.csv?from=2026-11-01&to=2026-11-07")
    )
    assert rows[0] == ["party", "party_name", "count", "amount"]
    assert ["unjudged", unjudged, "1", "2.00"] in rows
    by_type = read_csv(
        client.get("/analytics/export/compensation_by_type.csv?from=2026-11-01&to=2026-11-07")
    )
    assert by_type[0][:2] == ["type", "type_name"] and any(
        row[:2] == ["cash", cash] for row in by_type[1:]
    )
    weekdays = read_csv(
        client.get("/analytics/export/by_weekday.csv?from=2026-11-01&to=2026-11-07")
    )
    assert weekdays[1][:2] == ["1", {"zh-hans": "星期一", "en": "Monday"}[language]]


def test_csv_cells_that_would_run_as_formulas_are_text(shop, client, supervisor):
    from tests.factories import make_ticket, ticket_payload

    payload = ticket_payload()
    payload["order"]["courier"] = '=HYPERLINK("http://evil.example","x")'
    make_ticket(shop, order=payload["order"], customer={"external_id": "@SUM(1+1)"})
    client.force_login(supervisor)
    rows = read_csv(client.get("/analytics/export/tickets.csv?status=all"))
    header, row = rows[0], rows[1]
    assert row[header.index("courier")] == "'" + payload["order"]["courier"]
    assert row[header.index("customer")] == "'@SUM(1+1)"
