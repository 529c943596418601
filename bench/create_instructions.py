#!/usr/bin/env python
"""Instructions per create-ticket, counted by valgrind: a figure the machine's noise cannot move.

    .venv/bin/python bench/create_instructions.py [--db aftersales_bench] [--baseline ../before]

The machine's speed swings up to 2× within a session, so a change of a few per cent to a
create's CPU is lost in timed runs. This counts the instructions of this process instead
(valgrind's cachegrind, user space only: PostgreSQL's work and the kernel's are not in it), for
creates sent in-process through Django's WSGI handler (the whole stack after gunicorn: its
middleware, the connection check, authentication, the throttle, validation, the service, the
answer, the after-commit work), with the body of the wrk load (bench/create_profile.py) and
the checkout's own gunicorn.conf.py hooks around each request (its garbage collection).

Two runs, of 20 and 120 creates after the same warm-up, give the instructions of 100 creates
without the start-up; each run removes what it wrote. With `--baseline` (a checkout of another
commit with its .venv, as bench/http_load.py takes) the same is counted there. OpenBLAS's threads
(numpy, imported by the photo checks) and hash randomisation are pinned, so a run repeats to a
few thousand instructions. Needs valgrind (Debian: apt-get install -y valgrind); a run takes
about a minute.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DB, ROOT, bench_env

WARMUP = 30


def creates(root: str, db: str, count: int) -> None:
    """In the process valgrind watches: WARMUP creates, then `count`, through the WSGI handler."""
    import io
    import json

    sys.path.insert(0, root)
    os.chdir(root)
    os.environ.update(bench_env(db))
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from bench.common import rows_delete_since, rows_snapshot
    from bench.create_profile import payload
    from shops.models import Shop, ShopAPIKey

    with connection.cursor() as cursor:
        snapshot = rows_snapshot(cursor)
    key_row, key = ShopAPIKey.objects.create_key(
        name="bench instructions", shop=Shop.objects.get(code="demo")
    )
    app = WSGIHandler()
    bodies = []
    for n in range(WARMUP + count):
        body = payload(n)
        body["order"]["order_no"] = f"LOAD-I{time.time_ns()}-{n}"
        bodies.append(json.dumps(body).encode())

    def post(body: bytes) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/tickets/",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_AUTHORIZATION": f"Api-Key {key}",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status = []
        answer = app(environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(answer)
        answer.close()
        if not status[0].startswith("201"):
            raise SystemExit(f"create -> {status[0]}")

    import gc
    import runpy
    from types import SimpleNamespace

    # The collector as in a gunicorn worker: the checkout's own gunicorn.conf.py hooks.
    hooks = runpy.run_path(str(Path(root) / "gunicorn.conf.py"))
    worker = SimpleNamespace()
    hooks.get("post_worker_init", lambda worker: None)(worker)
    for body in bodies:
        hooks.get("pre_request", lambda worker, req: None)(worker, None)
        post(body)
        hooks.get("post_request", lambda worker, req, environ, resp: None)(worker, None, {}, None)
    gc.unfreeze()
    key_row.delete()
    with connection.cursor() as cursor:
        rows_delete_since(cursor, snapshot)


def instructions(root: str, db: str, count: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            str(Path(root) / ".venv/bin/python"),
            __file__,
            "--run",
            root,
            str(count),
            "--db",
            db,
        ],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode or not found:
        raise SystemExit(out.stderr[-2000:])
    return int(found.group(1).replace(",", ""))


def per_create(root: str, db: str) -> int:
    return (instructions(root, db, 120) - instructions(root, db, 20)) // 100


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--baseline", help="another checkout (with its .venv) to count too")
    parser.add_argument("--run", nargs=2, metavar=("ROOT", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        creates(args.run[0], args.db, int(args.run[1]))
        return
    this = per_create(str(ROOT), args.db)
    print(f"this checkout: {this:,} instructions per create (Python process, user space)")
    if args.baseline:
        base = per_create(str(Path(args.baseline).resolve()), args.db)
        print(f"baseline:      {base:,} instructions per create; this ÷ baseline {this / base:.3f}")


if __name__ == "__main__":
    main()
