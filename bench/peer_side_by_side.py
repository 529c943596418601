"""A peer's figure and ours, alternating in one window: the issue 17 ratios.

    .venv/bin/python bench/peer_side_by_side.py --peer "/tmp/peer/wrk_create.sh"
    .venv/bin/python bench/peer_side_by_side.py --peer "/tmp/peer/wrk_create.sh" --rounds 5 --seconds 8

Each round runs the peer's command, then `bench/http_load.py --only <figure> --rounds 1` on our
bench database. The peer's command must run wrk (its output has "Requests/sec:"); it gets the
round's length as the environment variable SECONDS. The peer is not part of the repo:
bench/README.md says how django-helpdesk was set up and driven. The machine's speed swings up to
2× within a session, so only the ratios of one run compare; they are printed per round, with the
median and range."""

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, VENV_PY

OURS = re.compile(r"c\d+: (\d+) req/s, p50 ([\d.]+)")


def load() -> str:
    return open("/proc/loadavg").read().split()[0]


def peer_run(command: str, seconds: int) -> tuple[float, str]:
    out = subprocess.run(
        command,
        shell=True,
        env={**os.environ, "SECONDS": str(seconds)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        sys.exit(f"the peer's command printed no wrk figure:\n{out}")
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE)  # wrk --latency: its distribution
    return float(found.group(1)), p50.group(1) if p50 else "?"


def ours_run(db: str, figure: str, seconds: int) -> tuple[float, str]:
    out = subprocess.run(
        [str(VENV_PY), "bench/http_load.py", "--db", db, "--only", figure, "--rounds", "1"]
        + ["--seconds", str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = OURS.search(out)
    if found is None:
        sys.exit(f"http_load.py printed no figure:\n{out}")
    return float(found.group(1)), f"{found.group(2)}ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", required=True, help="shell command that runs wrk on the peer")
    parser.add_argument("--figure", default="create", help="http_load.py's --only for ours")
    parser.add_argument("--db", default="aftersales_bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()

    peer_run(args.peer, 2)  # warm-up: the peer's workers import their views on first requests
    ratios = []
    for number in range(1, args.rounds + 1):
        peer_load = load()
        peer, peer_p50 = peer_run(args.peer, args.seconds)
        our_load = load()
        ours, our_p50 = ours_run(args.db, args.figure, args.seconds)
        ratios.append(ours / peer)
        print(
            f"round {number}: peer {peer:.0f} req/s (p50 {peer_p50}, load {peer_load}), "
            f"ours {ours:.0f} req/s (p50 {our_p50}, load {our_load}): {ratios[-1]:.2f}×",
            flush=True,
        )
    print(
        f"ours ÷ peer per round: median {statistics.median(ratios):.2f}× "
        f"({min(ratios):.2f}–{max(ratios):.2f}) over {len(ratios)} rounds"
    )


if __name__ == "__main__":
    main()
