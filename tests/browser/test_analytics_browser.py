"""The supervisor dashboard in headless Chromium: charts are drawn, a filter changes the figures,
an export downloads a CSV with the expected header."""

import pytest

from tests.analytics.conftest import figures  # noqa: F401 - the hand-counted fixture
from tests.browser.test_workspace_browser import chromium, wait_for_server_connections_to_close

PAINTED_PIXELS = """id => {
  const c = document.getElementById(id);
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  return n;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_charts_filter_and_export(live_server, dispute_types_seeded, figures):  # noqa: F811
    with chromium() as browser:
        page = browser.new_page(
            viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page.set_default_timeout(10_000)
        page.goto(
            f"{live_server.url}/login/?next=/analytics/%3Ffrom%3D2026-11-01%26to%3D2026-11-07"
        )
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")
        page.wait_for_selector("#chart-day")
        assert page.text_content("#kpi-tickets").strip() == "4"

        # Every chart drew something on its canvas, and the page screenshot is not blank. Chart.js
        # redraws a canvas in the animation frame after its resize observer resizes it (which
        # clears it), so a chart is waited for rather than read once.
        for chart in (
            "chart-day",
            "chart-week",
            "chart-type",
            "chart-sku",
            "chart-hour",
            "chart-weekday",
            "chart-funnel",
            "chart-comp-type",
            "chart-comp-party",
        ):
            page.wait_for_function(f"({PAINTED_PIXELS})('{chart}') > 200", timeout=5_000)
        shot = page.screenshot(path="/tmp/analytics_dashboard.png", full_page=True)
        assert len(shot) > 30_000  # a blank page compresses to a few kB

        # A period with nothing in it says so in each chart's place instead of drawing blank cards.
        page.goto(f"{live_server.url}/analytics/?from=2025-01-01&to=2025-01-07")
        assert page.text_content("#kpi-tickets").strip() == "0"
        assert page.locator("canvas").count() == 0
        assert "所选期间和筛选条件下没有数据" in page.text_content("#chart-day-empty")
        page.goto(f"{live_server.url}/analytics/?from=2026-11-01&to=2026-11-07")

        # A filter changes the figures.
        page.select_option("select[name=dispute_type]", "quality_defect")
        page.click("#analytics-filters button[type=submit]")
        page.wait_for_url("**dispute_type=quality_defect**")
        assert page.text_content("#kpi-tickets").strip() == "2"

        # Exports download CSV files with the expected header.
        with page.expect_download() as download_info:
            page.click("#export-couriers")
        path = download_info.value.path()
        with open(path, encoding="utf-8-sig") as f:
            assert (
                f.readline().strip()
                == "courier,shipments,tickets,complaints,per_1000,damage_share,loss_share,cost,recovered,flagged,suggestion"
            )

        page.goto(f"{live_server.url}/?status=all")
        with page.expect_download() as download_info:
            page.click("#export-csv")
        with open(download_info.value.path(), encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
        assert lines[0].startswith("number,shop,status,priority,dispute_type,created_at")
        assert len(lines) == 1 + 5
    wait_for_server_connections_to_close()
