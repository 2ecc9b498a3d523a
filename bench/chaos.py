"""Chaos: requests under random worker SIGKILLs, a PostgreSQL restart and a Redis backend killed.

The scenario is `tests.e2e.chaos` (the test suite runs a short one); this prints its figures.

Run: .venv/bin/python bench/chaos.py [--requests 300] [--outage 30] [--workers 6] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.chaos import run_chaos


def _interval(text: str) -> tuple[float, float] | None:
    if text == "off":
        return None
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--outage", type=float, default=30.0, help="PostgreSQL down, seconds")
    parser.add_argument("--rate", type=float, default=8.0, help="submissions per second")
    parser.add_argument("--workers", type=int, default=6, help="worker processes kept running")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs each worker runs at once")
    parser.add_argument(
        "--kill-every", default="2,3", help="seconds between worker SIGKILLs: MIN,MAX, or 'off'"
    )
    parser.add_argument(
        "--patience", type=float, default=60.0, help="after the last submission, seconds to wait"
    )
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    figures = run_chaos(
        requests=options.requests,
        outage=options.outage,
        rate=options.rate,
        worker_count=options.workers,
        concurrency=options.concurrency,
        kill_every=_interval(options.kill_every),
        patience=options.patience,
        log=lambda text: print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr),
    )
    if options.json:
        print(json.dumps(asdict(figures), indent=2))
        return
    for name, value in asdict(figures).items():
        print(f"{name:34} {value}")


if __name__ == "__main__":
    main()
