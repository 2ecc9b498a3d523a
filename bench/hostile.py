"""Hostile input: the corpus of tests/hostile sent to every field of every golden path, every
API body, path and query parameter, and the portal's forms, on a platform with real backends.

Prints, per target family and for the targets that accepted anything, how many values were
tried, refused (4xx), accepted (kept as inert data), accepted with side effects, answered 5xx
or not answered; then every accepted value, side effect and 5xx. It must show 0 side effects
and 0 5xx. See tests/hostile/ for what counts as a side effect and how it is looked for.

Run: .venv/bin/python bench/hostile.py [--short] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hostile.corpus import body_corpus, corpus, short_corpus
from tests.hostile.probe import Prober, Tally
from tests.hostile.stage import staged
from tests.hostile.targets import (
    api_targets,
    golden_path_targets,
    portal_targets,
    slack_targets,
)

COLUMNS = ("tried", "refused", "accepted", "side_effects", "server_errors", "no_answer")


def run(short: bool) -> dict[str, Any]:
    started = time.monotonic()
    load = os.getloadavg()
    with staged() as stage:
        values = short_corpus(stage.marker) if short else corpus(stage.marker)
        prober = Prober(stage, values, body_corpus(short))
        prober.progress = True
        prober.prepare()
        document = stage.admin.get("/api/openapi.json").json()
        targets = [
            *golden_path_targets(stage, prober.base),
            *api_targets(document, prober.base),
            *portal_targets(stage, prober.base),
            *slack_targets(stage),
        ]
        try:
            tallies = prober.run(targets)
            tallies.append(prober.finish())
        finally:
            prober.close()
    return {
        "corpus": {"values": len(values), "bodies": len(body_corpus(short)), "short": short},
        "targets": len(tallies) - 1,
        "load_average": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wall_seconds": round(time.monotonic() - started, 1),
        "totals": _sum(tallies),
        "families": {f: _sum(ts) for f, ts in _by_family(tallies).items()},
        "tallies": [t.as_dict() for t in tallies],
    }


def _by_family(tallies: list[Tally]) -> dict[str, list[Tally]]:
    families: dict[str, list[Tally]] = defaultdict(list)
    for tally in tallies:
        families[tally.family].append(tally)
    return families


def _sum(tallies: list[Tally]) -> dict[str, int]:
    return {c: sum(getattr(t, c) for t in tallies) for c in COLUMNS}


def print_table(figures: dict[str, Any]) -> None:
    width = 44
    print(f"{'target':<{width}}" + "".join(f"{c.replace('_', ' '):>14}" for c in COLUMNS))
    for family, sums in figures["families"].items():
        print(f"{family:<{width}}" + "".join(f"{sums[c]:>14}" for c in COLUMNS))
    print(f"{'total':<{width}}" + "".join(f"{figures['totals'][c]:>14}" for c in COLUMNS))
    print()
    for tally in figures["tallies"]:
        if tally["accepted"] or tally["side_effects"] or tally["server_errors"]:
            row = f"  {tally['target'][: width - 2]:<{width - 2}}"
            print(row + "".join(f"{tally[c]:>14}" for c in COLUMNS))
    print()
    for tally in figures["tallies"]:
        if tally["accepted_values"]:
            print(f"accepted, inert — {tally['target']}: {', '.join(tally['accepted_values'])}")
    for tally in figures["tallies"]:
        for effect in tally["effects"]:
            print(f"SIDE EFFECT — {tally['target']}: {effect}")
        for error in tally["errors"]:
            print(f"5XX/NO ANSWER — {tally['target']}: {error}")
    load = figures["load_average"]
    print(
        f"\n{figures['targets']} targets, {figures['corpus']['values']} values and "
        f"{figures['corpus']['bodies']} whole bodies, {figures['wall_seconds']} s; "
        f"load average {load[0]} / {load[1]} / {load[2]} at the start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the test suite's reduced corpus")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = run(args.short)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    bad = figures["totals"]["side_effects"] + figures["totals"]["server_errors"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
