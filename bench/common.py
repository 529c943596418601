"""What bench/generate.py and bench/run.py share: the bench environment and Django setup."""

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
OUT_DIR = ROOT / "bench" / "out"  # git-ignored

DEFAULT_DB = "aftersales_bench"
PG = "postgres://postgres@127.0.0.1:5432"


def bench_env(db: str = DEFAULT_DB) -> dict:
    """Environment for everything that touches the bench database (in-process, manage.py, gunicorn)."""
    return {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"{PG}/{db}"),
        # Redis, not the database cache: throttle counters must not add queries.
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/2"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/2"),
        "SHOP_KEY_THROTTLE_RATE": "100000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "AFTERSALES_VAR_DIR": str(OUT_DIR / "var"),
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
    }


def setup_django(db: str = DEFAULT_DB) -> None:
    os.environ.update(bench_env(db))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()


@contextmanager
def timed(label: str, timings: list | None = None):
    start = time.perf_counter()
    print(f"  {label} ...", flush=True)
    yield
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    if timings is not None:
        timings.append((label, elapsed))
