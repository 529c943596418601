"""`make run` uses SQLite, which stored a compensation amount too long for its column (e.g. a phone
number typed as the amount) — and then its Decimal converter raised on every read, so the ticket's
panels, the approvals inbox and GET /api/v1/compensations/ answered 500 for everyone. Migration
disputes 0006 repairs such rows before adding its checks. This drives a real SQLite database in a
child process (the rest of the suite runs on PostgreSQL, where the column refuses the value)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SETUP = r"""
import django
django.setup()
from tests.factories import ShopFactory, make_ticket, staff_member
shop = ShopFactory(code="demo")
staff_member(shop, "supervisor", username="boss")
make_ticket(shop)
"""

SCRIPT = r"""
import decimal, json, django
django.setup()
from decimal import Decimal
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient
from disputes import services
from disputes.models import Compensation
from tests.factories import ShopFactory, staff_member
from tickets.models import Ticket, TicketEvent

# The shop, supervisor and ticket were made on the current schema (SETUP); the tickets app is back at
# an older one now (its later migrations depend on disputes 0006): read only the columns it had.
shop = ShopFactory(code="demo")
supervisor = staff_member(shop, "supervisor", username="boss")
ticket = Ticket.objects.only("id", "number", "shop_id").get()
policy = services.policy_current(shop=shop)
# What the workspace form stored before the fix: no check in the database yet (disputes 0005).
bad = Compensation.objects.create(ticket=ticket, type="cash", amount=Decimal("12345678901.00"), status="pending_approval", policy=policy)
zero = Compensation.objects.create(ticket=ticket, type="coupon", amount=Decimal("0.00"), status="pending_approval", policy=policy)
good = Compensation.objects.create(ticket=ticket, type="cash", amount=Decimal("15.00"), status="pending_approval", policy=policy)
try:
    list(Compensation.objects.all())
    unreadable_before = False
except decimal.InvalidOperation:
    unreadable_before = True

call_command("migrate", "--noinput", verbosity=0)

web = Client()
web.force_login(supervisor)
api = APIClient()
api.force_authenticate(supervisor)
pages = {
    "inbox": web.get("/approvals/").status_code,
    "panels": web.get(f"/tickets/{ticket.number}/disputes/").status_code,
    "list": web.get(f"/tickets/{ticket.number}/compensations/").status_code,
    "api": api.get("/api/v1/compensations/").status_code,
    "api_ticket": api.get(f"/api/v1/tickets/{ticket.number}/compensations/").status_code,
}
rows = {c.pk: (c.status, str(c.amount), c.decision_note) for c in Compensation.objects.all()}
try:
    with transaction.atomic():
        Compensation.objects.create(ticket=ticket, type="cash", amount=Decimal("12345678901.00"), status="pending_approval", policy=policy)
    refused_after = False
except IntegrityError:
    refused_after = True
print(json.dumps({
    "unreadable_before": unreadable_before,
    "pages": pages,
    "ids": [bad.pk, zero.pk],
    "bad": rows[bad.pk],
    "zero": rows[zero.pk],
    "good": rows[good.pk],
    "events": list(TicketEvent.objects.filter(ticket=ticket, kind="compensation_cancelled").values_list("data__id", "actor_label")),
    "refused_after": refused_after,
}))
"""


def test_rows_written_before_the_checks_cannot_take_pages_down_on_sqlite(tmp_path):
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
    for command in (
        ["manage.py", "migrate", "--noinput", "-v0"],
        ["-c", SETUP],  # a ticket made by today's code, before going back
        ["manage.py", "migrate", "disputes", "0005", "--noinput", "-v0"],
        ["manage.py", "createcachetable"],
    ):
        subprocess.run(
            [sys.executable, *command],
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
    assert result["unreadable_before"], result  # what made every page answer 500
    assert result["pages"] == {
        "inbox": 200,
        "panels": 200,
        "list": 200,
        "api": 200,
        "api_ticket": 200,
    }, result
    status, amount, note = result["bad"]
    assert status == "cancelled" and amount == "0.00" and "12345678901" in note, result
    assert result["zero"][0] == "cancelled" and "is not a compensation" in result["zero"][2], result
    assert result["good"] == ["pending_approval", "15.00", ""], result  # a sound row is left alone
    assert sorted(event_id for event_id, _label in result["events"]) == sorted(result["ids"]), (
        result
    )
    assert {label for _id, label in result["events"]} == {"system"}, result
    assert result["refused_after"], result  # the check holds on SQLite too
