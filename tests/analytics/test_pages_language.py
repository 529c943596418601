"""The analytics pages' refused input: errors in the page's language under the field's own
label, and what was typed kept."""

import html

import pytest

from tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "language, label, message",
    [
        ("zh-hans", "快递每千单投诉超过此数时标记", "请输入数字。"),
        ("en", "Flag a courier above this many complaints per 1,000 shipments", "Enter a number."),
    ],
)
def test_thresholds_errors_name_the_field_as_the_page_labels_it(
    shop, client, language, label, message
):
    client.force_login(staff_member(shop, "admin", username="boss"))
    client.cookies.load({"django_language": language})
    response = client.post(
        "/settings/demo/analytics/",
        {"courier_complaint_threshold": "lots", "satisfaction_target": "4.5"},
    )
    assert response.status_code == 400
    errors = (
        html.unescape(response.content.decode())
        .split('data-testid="settings-errors"')[1]
        .split("</ul>")[0]
    )
    assert f"<b>{label}</b>: {message}" in errors and "courier_complaint_threshold" not in errors
    assert 'value="lots"' in response.content.decode()


@pytest.mark.parametrize("language, label", [("zh-hans", "开始日期"), ("en", "From")])
def test_dashboard_filter_errors_keep_the_filters(shop, supervisor, client, language, label):
    client.force_login(supervisor)
    client.cookies.load({"django_language": language})
    response = client.get("/analytics/?from=2026-11-09&to=2026-11-01&dispute_type=lost_parcel")
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    box = page.split('id="analytics-error"')[1].split("</div>")[0]
    assert f"<b>{label}</b>" in box and "from:" not in box
    assert 'value="2026-11-09"' in page and '<option value="lost_parcel" selected>' in page
