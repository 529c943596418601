"""`make run` without DATABASE_URL runs on SQLite: the parts with SQL of their own (the SLA chunk's
ticket update, the analytics rollup and its triggers) must work there too. The rest of the suite
runs on PostgreSQL, so this drives a real SQLite database in a child process."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import datetime as dt, json, django
django.setup()
from django.utils import timezone
from analytics import rollup, selectors
from shops.models import Shop
from sla import services
from sla.models import Timer
from notifications.models import Notification
from tickets.models import TicketEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint
later = timezone.now() + dt.timedelta(days=10)  # every timer of the demo data is due by then
WebhookEndpoint.objects.create(shop=Shop.objects.get(code="demo"), url="https://shop.example/hook", events=["*"], secret="s")
claimed = services.timers_sweep(now=later, enqueue=lambda ids: services.timers_fire(timer_ids=ids, now=later))
shop = Shop.objects.get(code="demo")
today = timezone.now().astimezone(selectors.Period(shop=shop, date_from=later.date(), date_to=later.date()).tz).date()
period = selectors.Period(shop=shop, date_from=today - dt.timedelta(days=29), date_to=today)
stale = rollup.stats_refresh_period(period)
# shops.config's triggers on SQLite: a shop's own row and a global one change its version, round
# robin's position does not; a kept value follows.
from django.contrib.auth import get_user_model
from assignment.models import AssignmentSettings
from tickets.models import DisputeType
from tickets.services import dispute_type_for_shop
def version():
    return Shop.objects.values_list("config_version", flat=True).get(pk=shop.pk)
versions = [version()]
own = DisputeType.objects.create(shop=shop, code="sqlite_probe", name_zh="探", name_en="Probe", category="logistics")
versions.append(version())
DisputeType.objects.filter(shop__isnull=True, code="wrong_item").update(name_en="Wrong item")
versions.append(version())
settings_row, _ = AssignmentSettings.objects.get_or_create(shop=shop)
versions.append(version())
AssignmentSettings.objects.filter(pk=settings_row.pk).update(last_assignee=get_user_model().objects.first())
versions.append(version())
seen = dispute_type_for_shop(shop=shop, code="sqlite_probe") == own
own.delete()
print(json.dumps({
    "config_versions": [len(set(versions[:3])), versions[3] == versions[4]],
    "config_follows": [seen, dispute_type_for_shop(shop=shop, code="sqlite_probe") is None],
    "claimed": claimed,
    "results": sorted({t.result.split(":")[0] for t in Timer.objects.exclude(state="pending")}),
    "claimed_left": Timer.objects.filter(state="claimed").count(),
    "breached": selectors.dashboard(period)["response"]["sla_breached"],
    "tickets": selectors.dashboard(period)["funnel"][0]["tickets"],
    "stale": stale,
    # What the chunks wrote with aftersales.db.rows_insert, read back through the ORM.
    "breach_events": TicketEvent.objects.filter(kind="sla", data__what="breached").count(),
    "breach_notifications": Notification.objects.filter(kind="sla_breached", created_at__isnull=False).count(),
    "breach_deliveries": WebhookDelivery.objects.filter(event__type="ticket.sla_breached", status="pending").count(),
    # Risk: the photo index's lookup (IN on SQLite) found the reused photo; the dashboard panel.
    "risk_flags": sorted(row["code"] for row in selectors.risk_flags(period)["by_code"]),
}))
"""


def test_demo_data_timers_and_dashboard_on_sqlite(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
    }
    env.update(
        AFTERSALES_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="aftersales.settings",
        LOG_LEVEL="ERROR",
    )
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["claimed"] > 0 and result["claimed_left"] == 0, (
        result
    )  # none failed and left for the reaper
    assert "escalated" in result["results"], result
    # 30 sample tickets and two pairs of duplicates (demo.tickets._demo_duplicates)
    assert result["breached"] > 0 and result["tickets"] == 34 and result["stale"] == 0, result
    assert (
        result["breach_events"] > 0 and result["breach_notifications"] >= result["breach_events"]
    ), result
    assert result["breach_deliveries"] == result["breach_events"], result
    assert {"reused_evidence", "evidence_predates_order"} <= set(result["risk_flags"]), result
    assert result["config_versions"] == [3, True] and result["config_follows"] == [True, True]
