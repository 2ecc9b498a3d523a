"""Import a 100,000-ticket Jira CSV export into a fresh platform database: wall time of the
whole import (read, classify, COPY + upsert, clustering) and the process's peak RSS. The same
run times a second import of the same file (the idempotent path: nothing changes) and, as the
raw operation it is compared with, Python's csv module reading the file alone.

    .venv/bin/python bench/insights_import.py [--tickets 100000]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from goldenpath.app import build_platform
from goldenpath.identity.actor import system_actor
from goldenpath.settings import Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ASKS = [
    "Provision a database for {team}", "New postgres database for {team}",
    "Create repo for {team}-service", "Add CI secret for {team}", "Increase upload size for {team}",
    "Grant VPN access to {person}", "Rotate TLS certificate for {team}.example.com",
    "Open firewall port {n} for {team}", "New S3 bucket for {team} backups",
    "Onboard a new service {team}-api", "Restart stuck job {n} of {team}",
]  # fmt: skip
TEAMS = ["billing", "search", "orders", "ledger", "payments", "média", "søk", "checkout"]


def make_export(count: int) -> bytes:
    rng = random.Random(0)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Summary", "Issue key", "Issue Type", "Status", "Created", "Resolved",
                     "Description", "Comment", "Comment", "Time Spent"])  # fmt: skip
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(count):
        created = start + timedelta(minutes=rng.randrange(0, 600_000))
        resolved = created + timedelta(minutes=rng.randrange(30, 8000))
        title = rng.choice(ASKS).format(team=rng.choice(TEAMS), person=f"user{i % 97}", n=i % 9000)
        writer.writerow([
            title, f"OPS-{i + 1}", "Service Request", "Done",
            created.strftime("%d/%b/%y %I:%M %p"), resolved.strftime("%d/%b/%y %I:%M %p"),
            f"Team: {rng.choice(TEAMS)}\nPlease do it", "ok", "done", rng.randrange(600, 7200),
        ])  # fmt: skip
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    data = make_export(args.tickets)
    name = f"gp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                database_url=ADMIN_URL.rsplit("/", 1)[0] + "/" + name, data_dir=Path(folder)
            )
            platform = build_platform(settings)
            actor = system_actor("bench")
            began = time.perf_counter()
            rows = sum(1 for _ in csv.reader(io.StringIO(data.decode(), newline="")))
            csv_only = time.perf_counter() - began
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            began = time.perf_counter()
            first = platform.insights.import_export(data, actor, timezone="Europe/Berlin")
            first_s = time.perf_counter() - began
            began = time.perf_counter()
            again = platform.insights.import_export(data, actor, timezone="Europe/Berlin")
            again_s = time.perf_counter() - began
            began = time.perf_counter()
            report = platform.insights.report(actor)
            report_s = time.perf_counter() - began
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            platform.close()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    print(f"file: {len(data) / 1e6:.1f} MB, {rows - 1} tickets")
    print(f"csv module reading the file alone: {csv_only:.2f} s")
    print(f"first import: {first_s:.2f} s ({first.inserted} new)")
    print(
        f"same file again: {again_s:.2f} s ({again.unchanged} unchanged, {again.updated} updated)"
    )
    print(f"report over all tickets: {report_s:.2f} s ({len(report.types)} ticket types)")
    print(f"peak RSS: {peak:.0f} MB (before the imports: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
