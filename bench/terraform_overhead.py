"""Terraform overhead: the ``service-onboarding`` golden path end to end against bare Terraform.

One run interleaves both. Round i makes one golden-path request (from just before
``service.submit`` to the moment its status reads ``succeeded``, with a real worker in a
background thread; state in the platform's PostgreSQL) and one bare
``terraform init && terraform apply -auto-approve`` of the same module in a fresh folder with
local state; which one goes first alternates from round to round.

With ``--breakdown``, also where the golden path's time goes: each Terraform command the
platform starts, timed where it is started (medians over the rounds, per request).

Run: .venv/bin/python bench/terraform_overhead.py [--rounds 10] [--breakdown]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from goldenpath.actions.terraform import cli as terraform_cli
from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.identity.actor import system_actor
from goldenpath.settings import STARTER_DIR, Settings

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEMPLATE = "service-onboarding"
MODULE = STARTER_DIR / "templates" / TEMPLATE / "module"
ACTOR = system_actor("bench")
TERMINAL = {"succeeded", "failed", "rejected", "cancelled"}


def bare_terraform(folder: Path, name: str) -> float:
    """Seconds for ``terraform init && terraform apply -auto-approve`` with local state."""
    shutil.copytree(MODULE, folder)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    variables = [f"-var=name={name}", "-var=owner=bench", "-var=tier=silver"]
    started = time.perf_counter()
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false", *variables]):
        subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--admin-url", default=os.environ.get("GOLDENPATH_TEST_PG", DEFAULT_ADMIN_URL)
    )
    parser.add_argument("--breakdown", action="store_true", help="time each Terraform command")
    options = parser.parse_args()
    commands = time_terraform_commands() if options.breakdown else None
    if shutil.which("terraform") is None:
        raise SystemExit("terraform is not on PATH")

    database = f"gp_bench_tf_{secrets.token_hex(4)}"
    with psycopg.connect(options.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    scratch = Path(tempfile.mkdtemp(prefix="gp-bench-tf-"))
    platform = build_platform(
        Settings(
            database_url=options.admin_url.rsplit("/", 1)[0] + "/" + database,
            data_dir=scratch / "data",
        )
    )
    # The owner team the requests name (a team must exist before it owns anything).
    platform.directory.create_team(ACTOR, "bench")
    worker = WorkerThread(platform).start()
    golden: list[float] = []
    bare: list[float] = []
    try:
        # One unmeasured request each, so that imports and first connections are not counted.
        timed_request(platform, "warm-up")
        bare_terraform(scratch / "bare-warm-up", "warm-up")
        for index in range(options.rounds):
            name = f"bench-{index}-{secrets.token_hex(2)}"
            first_golden = index % 2 == 0
            for golden_turn in (first_golden, not first_golden):
                if golden_turn:
                    if commands is not None:
                        commands.append({})
                    golden.append(timed_request(platform, name))
                else:
                    bare.append(bare_terraform(scratch / f"bare-{index}", name))
    finally:
        worker.stop()
        platform.close()
        with psycopg.connect(options.admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"terraform {terraform_version()}, {options.rounds} rounds, interleaved")
    print(f"{'':28}{'median':>10}{'p95':>10}{'min':>10}")
    for label, values in (("golden path (end to end)", golden), ("bare init + apply", bare)):
        print(
            f"{label:28}{statistics.median(values) * 1000:>8.0f}ms"
            f"{percentile(values, 0.95) * 1000:>8.0f}ms{min(values) * 1000:>8.0f}ms"
        )
    ratio = statistics.median(golden) / statistics.median(bare)
    print(f"ratio of medians: {ratio:.2f}x")
    if commands:
        measured = commands[1:]  # not the warm-up request
        print("Terraform commands per golden-path request (median ms, count):")
        for command in sorted({c for request in measured for c in request}):
            spent = statistics.median(r.get(command, (0.0, 0))[0] * 1000 for r in measured)
            count = measured[-1].get(command, (0.0, 0))[1]
            print(f"  terraform {command:20}{spent:>8.0f}ms{count:>4}")
        spent = statistics.median(sum(t for t, _ in r.values()) * 1000 for r in measured)
        rest = statistics.median(golden) * 1000 - spent
        print(f"  {'all of them':30}{spent:>8.0f}ms; the rest of the request: {rest:.0f}ms")


def time_terraform_commands() -> list[dict[str, tuple[float, int]]]:
    """Time every Terraform command the platform starts: one dict per golden-path request
    (command -> seconds, count), appended by the caller before each request."""
    rounds: list[dict[str, tuple[float, int]]] = [{}]
    started = terraform_cli.run

    def timed(argv: list[str], **options: Any) -> Any:
        began = time.perf_counter()
        try:
            return started(argv, **options)
        finally:
            seconds, count = rounds[-1].get(argv[1], (0.0, 0))
            rounds[-1][argv[1]] = (seconds + time.perf_counter() - began, count + 1)

    terraform_cli.run = timed
    return rounds


def timed_request(platform: Platform, name: str) -> float:
    parameters = {"name": name, "owner": "bench", "tier": "silver"}
    started = time.perf_counter()
    request = platform.service.submit(TEMPLATE, parameters, ACTOR, team="bench")
    while True:
        status = platform.service.request(request.id, ACTOR).status
        if status in TERMINAL:
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    if status != "succeeded":
        error = platform.service.request(request.id, ACTOR).error
        raise SystemExit(f"request {request.id} ended {status}: {error}")
    return elapsed


def terraform_version() -> str:
    out = subprocess.run(["terraform", "version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


if __name__ == "__main__":
    main()
