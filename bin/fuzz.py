"""`make fuzz`: schemathesis over the OpenAPI schema against a live server, once per role.

A fresh PostgreSQL database (FUZZ_DATABASE_URL, default aftersales_fuzz) gets the demo shop and
its tickets; gunicorn serves it on FUZZ_PORT (default 8765); schemathesis then runs every check in
positive and negative mode as the shop's backend (API key), an agent and a supervisor (tokens),
FUZZ_SECONDS each (default 120). Prints one line per role (operations, cases, 5xx, schema
violations, requests refused by a domain rule) and exits non-zero on any 5xx or schema violation.
Reports: var/fuzz/<role>/ (schemathesis' output, NDJSON events, JUnit).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get(
    "FUZZ_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aftersales_fuzz"
)
PORT = int(os.environ.get("FUZZ_PORT", "8765"))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "120"))
REDIS = os.environ.get("FUZZ_REDIS", "redis://127.0.0.1:6379")
BASE = f"http://127.0.0.1:{PORT}"
REPORTS = ROOT / "var" / "fuzz"

SERVER_ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": f"{REDIS}/14",
    "CACHE_URL": f"{REDIS}/15",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # The fuzzer is one client sending thousands of requests: the throttles would answer most
    # of them 429 and hide what the views do. They are tested on their own.
    "SHOP_KEY_THROTTLE_RATE": "1000000/min",
    "STAFF_THROTTLE_RATE": "1000000/min",
}

# How the distinct failures are counted. A schema violation is an answer the schema does not
# describe (a status, a body, a content type, a header) or a request outside the schema that was
# accepted. "Refused by a rule" is a request the schema allows that a domain rule refuses (a date
# out of range, a reason only for returned parcels, an unknown assignee): JSON Schema cannot say
# those, and the answer is the documented 400 — listed, not failed.
SERVER_ERROR = "Server error"
RULE_REFUSAL = "Schema-valid request rejected"


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=SERVER_ENV, check=True)


def fresh_database():
    import psycopg2

    name = DATABASE_URL.rsplit("/", 1)[1]
    server = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(server)
    conn.autocommit = True  # CREATE/DROP DATABASE refuse to run inside a transaction
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")


def credentials() -> dict:
    """The demo shop with its tickets; a fresh API key and passwords."""
    script = (
        "import json; from django.contrib.auth import get_user_model;"
        "from shops.services import shop_bootstrap; from demo.tickets import demo_tickets_create;"
        "from shops.models import Shop;"
        "c = shop_bootstrap(code='demo');"
        "demo_tickets_create(shop=Shop.objects.get(code='demo'),"
        " agent=get_user_model().objects.get(username=c['users']['agent']['username']));"
        "print('CREDS' + json.dumps(c))"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=SERVER_ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.split("CREDS", 1)[1])


def token(username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{BASE}/api/v1/auth/token/", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


def wait_for_server(proc):
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("gunicorn exited; see its output above")
        try:
            urllib.request.urlopen(f"{BASE}/api/v1/ping/", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    sys.exit("the server did not answer")


def fuzz(role: str, authorization: str) -> dict:
    report_dir = REPORTS / role
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    ndjson = report_dir / "events.ndjson"
    command = [
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{BASE}/api/v1/schema/",
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        "all",
        # Each request is judged alone: these two expect a resource deleted or created by one
        # call to be gone or present in the next, which tickets (never deleted) don't do.
        "--exclude-checks",
        "use_after_free,ensure_resource_availability",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        str(SECONDS),
        "--workers",
        "2",
        "--no-color",
        "--generation-database",
        "none",
        "--report",
        "ndjson,junit",
        "--report-dir",
        str(report_dir),
        "--report-ndjson-path",
        str(ndjson),
    ]
    # Run from the report directory: schemathesis keeps its own files in the working directory.
    result = subprocess.run(command, cwd=report_dir, capture_output=True, text=True, check=False)
    (report_dir / "output.txt").write_text(result.stdout + result.stderr)
    return summarise(ndjson, result.returncode)


def summarise(ndjson: Path, returncode: int) -> dict:
    """Operations tested, cases sent and the distinct failures (operation, code, message) by kind."""
    operations, cases, failures = set(), 0, set()
    for line in ndjson.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        operations.add(recorder["label"])
        cases += len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check["status"] == "failure":
                    failure = check["failure_info"]["failure"]
                    failures.add((failure["operation"], failure["title"], failure["message"]))
    titles = [title for _, title, _ in failures]
    return {
        "operations": len(operations),
        "cases": cases,
        "server_errors": sum(t == SERVER_ERROR for t in titles),
        "schema_violations": sum(t not in (SERVER_ERROR, RULE_REFUSAL) for t in titles),
        "rule_refusals": sum(t == RULE_REFUSAL for t in titles),
        "failures": sorted(failures),
        "exit": returncode,
    }


def main():
    REPORTS.mkdir(parents=True, exist_ok=True)
    fresh_database()
    creds = credentials()
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "aftersales.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "2"],
        cwd=ROOT,
        env=SERVER_ENV,
        stdout=open(REPORTS / "server.log", "w"),  # noqa: SIM115 (lives as long as the server)
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_server(server)
        users = creds["users"]
        roles = {
            "shop_key": f"Api-Key {creds['api_key']}",
            "agent": f"Token {token(**users['agent'])}",
            "supervisor": f"Token {token(**users['supervisor'])}",
        }
        failed = False
        for role, authorization in roles.items():
            figures = fuzz(role, authorization)
            failed |= bool(figures["server_errors"] or figures["schema_violations"])
            print(
                f"{role:<11} operations {figures['operations']:>3}  cases {figures['cases']:>6}  "
                f"5xx {figures['server_errors']}  schema violations {figures['schema_violations']}  "
                f"refused by a rule {figures['rule_refusals']}   (var/fuzz/{role}/output.txt)",
                flush=True,
            )
            for operation, title, message in figures["failures"]:
                if title != RULE_REFUSAL:
                    print(f"    {operation}: {title}: {message.splitlines()[0]}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
