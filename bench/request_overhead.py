"""Request overhead: the ``postgres-database`` golden path end to end against the bare SQL.

One run interleaves both on the same PostgreSQL server. Round i makes one golden-path request
(from just before ``service.submit`` to the moment its status reads ``succeeded``, with a real
Procrastinate worker in a background thread) and one bare ``CREATE ROLE ... LOGIN PASSWORD`` +
``CREATE DATABASE ... OWNER``; which one goes first alternates from round to round.

Run: .venv/bin/python bench/request_overhead.py [--rounds 30] [--embedded]
"""

from __future__ import annotations

import argparse
import os
import platform as host
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.identity.actor import Actor, system_actor
from goldenpath.settings import Settings
from goldenpath.store.database import libpq_conninfo
from goldenpath.store.embedded import SUPERUSER
from goldenpath.store.records import TERMINAL_STATUSES
from scratch import free_port

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEMPLATE = "postgres-database"
REQUESTER = Actor("bench", frozenset({("bench", "developer")}))
READER = system_actor("bench-reader")
STATUS_QUERY = "SELECT status FROM gp_requests WHERE id = %s"


# --- the platform and its worker ----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The platform under test and how the bare side reaches the same server as a superuser."""

    platform: Platform
    admin: dict[str, Any]
    where: str


@contextmanager
def server_target(admin_url: str, data_dir: Path) -> Iterator[Target]:
    """A fresh platform database ``gp_bench_<hex>`` on the server at ``admin_url``."""
    name = f"gp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    platform: Platform | None = None
    try:
        settings = Settings(
            database_url=admin_url.rsplit("/", 1)[0] + "/" + name, data_dir=data_dir
        )
        platform = build_platform(settings)
        info = psycopg.conninfo.conninfo_to_dict(admin_url)
        where = f"{info.get('host', 'localhost')}:{info.get('port', 5432)}, platform db {name}"
        yield Target(platform=platform, admin={"conninfo": admin_url}, where=where)
    finally:
        if platform is not None:
            platform.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def embedded_target(data_dir: Path) -> Iterator[Target]:
    """The embedded PostgreSQL under ``data_dir``, on a free port (no clash with other runs)."""
    settings = Settings(database_url=None, data_dir=data_dir, embedded_port=free_port())
    platform = build_platform(settings)
    try:
        server = platform.database.embedded
        assert server is not None
        admin = {
            "host": str(server.socket_dir),
            "port": server.port,
            "user": SUPERUSER,
            "dbname": "postgres",
        }
        yield Target(platform=platform, admin=admin, where=f"embedded, socket {server.socket_dir}")
    finally:
        platform.close()


def _connect(admin: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(**admin, autocommit=True)


# --- one golden-path request and one bare create ------------------------------------------


@dataclass(frozen=True)
class GoldenPathSample:
    end_to_end: float
    submit: float
    to_start: float
    pickup: float
    run: float
    step: float
    to_seen: float


class StatusWatcher:
    """Polls one request's status on a dedicated connection, with a prepared statement.

    The platform sends no notification when a request finishes (Procrastinate notifies job
    inserts only), so polling is the honest way to see what a developer would see.
    """

    def __init__(self, conninfo: str, interval: float) -> None:
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._interval = interval

    def wait_finished(self, request_id: str, timeout: float = 120.0) -> tuple[str, float, float]:
        """The terminal status, and when it was first seen (perf_counter, wall clock)."""
        deadline = time.perf_counter() + timeout
        while True:
            row = self._conn.execute(STATUS_QUERY, (request_id,), prepare=True).fetchone()
            seen, wall = time.perf_counter(), time.time()
            if row is not None and row[0] in TERMINAL_STATUSES:
                return str(row[0]), seen, wall
            if seen > deadline:
                raise TimeoutError(f"request {request_id} unfinished after {timeout} s")
            time.sleep(self._interval)

    def close(self) -> None:
        self._conn.close()


def golden_path_once(platform: Platform, watcher: StatusWatcher, name: str) -> GoldenPathSample:
    start = time.perf_counter()
    record = platform.service.submit(TEMPLATE, {"name": name}, REQUESTER)
    submitted, wall_submitted = time.perf_counter(), time.time()
    status, seen, wall_seen = watcher.wait_finished(record.id)
    if status != "succeeded":
        final = platform.service.request(record.id, READER)
        raise RuntimeError(f"golden path request {record.id} {status}: {final.error}")
    final = platform.service.request(record.id, READER)
    assert final.started_at is not None and final.finished_at is not None
    step = final.steps[0]
    assert step.started_at is not None and step.finished_at is not None
    return GoldenPathSample(
        end_to_end=seen - start,
        submit=submitted - start,
        to_start=final.started_at.timestamp() - wall_submitted,
        pickup=_seconds(final.started_at, final.created_at),
        run=_seconds(final.finished_at, final.started_at),
        step=_seconds(step.finished_at, step.started_at),
        to_seen=wall_seen - final.finished_at.timestamp(),
    )


def bare_once(admin: dict[str, Any], name: str) -> tuple[float, float]:
    """(connect + SQL, SQL alone) in seconds: what an ops engineer's script would run."""
    start = time.perf_counter()
    with _connect(admin) as conn:
        connected = time.perf_counter()
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(secrets.token_urlsafe(24))
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(name)
            )
        )
        done = time.perf_counter()
    return done - start, done - connected


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def drop_created(admin: dict[str, Any], names: list[str]) -> None:
    with _connect(admin) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


# --- the run ------------------------------------------------------------------------------


@dataclass
class Results:
    golden: list[GoldenPathSample]
    bare_sql: list[float]
    bare_with_connect: list[float]


def run_rounds(target: Target, args: argparse.Namespace, created: list[str]) -> Results:
    results = Results(golden=[], bare_sql=[], bare_with_connect=[])
    pause = args.pause_ms / 1000
    watcher = StatusWatcher(
        libpq_conninfo(target.platform.database.url), interval=args.poll_ms / 1000
    )
    try:
        for number in range(-args.warmup, args.rounds):
            golden_first = number % 2 == 0
            for side in ("golden", "bare") if golden_first else ("bare", "golden"):
                name = f"gpb_{secrets.token_hex(6)}"
                created.append(name)
                if side == "golden":
                    sample = golden_path_once(target.platform, watcher, name)
                    if number >= 0:
                        results.golden.append(sample)
                else:
                    with_connect, sql_only = bare_once(target.admin, name)
                    if number >= 0:
                        results.bare_with_connect.append(with_connect)
                        results.bare_sql.append(sql_only)
                # Lets the worker finish its job bookkeeping before the next operation starts.
                time.sleep(pause)
    finally:
        watcher.close()
    return results


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _row(label: str, values: list[float]) -> str:
    return f"| {label:<58} | {statistics.median(values) * 1000:9.1f} | {_p95(values) * 1000:8.1f} |"


def report(results: Results, target: Target, args: argparse.Namespace, version: str) -> None:
    gp = [s.end_to_end for s in results.golden]
    ratio = statistics.median(gp) / statistics.median(results.bare_sql)
    verdict = "met" if ratio <= args.target else "MISSED"
    print()
    print(f"machine: nproc {os.cpu_count()}, Python {host.python_version()}, {host.machine()}")
    print(f"server: PostgreSQL {version} ({target.where})")
    print(
        f"rounds: {args.rounds} interleaved (+{args.warmup} warm-up), order alternating, "
        f"{args.pause_ms:g} ms pause between operations"
    )
    print(
        f"completion: polling the request status every {args.poll_ms:g} ms on one dedicated "
        f"connection (resolution about {args.poll_ms:g} ms + one query round trip)"
    )
    print()
    print(f"| {'measure':<58} | {'median ms':>9} | {'p95 ms':>8} |")
    print(f"|{'-' * 60}|{'-' * 10}:|{'-' * 9}:|")
    print(_row("golden path, submit -> seen succeeded", gp))
    print(_row("bare SQL: CREATE ROLE + CREATE DATABASE (open connection)", results.bare_sql))
    print(_row("bare SQL including its connect", results.bare_with_connect))
    print()
    print(
        f"ratio median golden path / median bare SQL: {ratio:.2f}x "
        f"(target <= {args.target:g}x: {verdict})"
    )
    paired = [g - b for g, b in zip(gp, results.bare_sql, strict=True)]
    print(
        f"golden path extra time, median of per-round differences: "
        f"{statistics.median(paired) * 1000:.1f} ms"
    )
    print()
    print("golden path breakdown (request record timestamps; same machine clock):")
    print(f"| {'part':<58} | {'median ms':>9} | {'p95 ms':>8} |")
    print(f"|{'-' * 60}|{'-' * 10}:|{'-' * 9}:|")
    parts = [
        ("submit() call", [s.submit for s in results.golden]),
        (
            "submit returned -> started_at (pick-up seen by developer)",
            [s.to_start for s in results.golden],
        ),
        ("queue pick-up: started_at - created_at", [s.pickup for s in results.golden]),
        ("run: finished_at - started_at", [s.run for s in results.golden]),
        ("  of which the step (step finished_at - started_at)", [s.step for s in results.golden]),
        ("finished_at -> status seen succeeded", [s.to_seen for s in results.golden]),
    ]
    for label, values in parts:
        print(_row(label, values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (at least 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="superuser URL")
    parser.add_argument("--embedded", action="store_true", help="use the embedded PostgreSQL")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="status poll interval")
    parser.add_argument("--pause-ms", type=float, default=50.0, help="pause between operations")
    parser.add_argument("--concurrency", type=int, default=2, help="worker concurrency")
    parser.add_argument("--target", type=float, default=1.5, help="target ratio")
    args = parser.parse_args()
    if args.rounds < 20:
        parser.error("--rounds must be at least 20")

    data_dir = Path(tempfile.mkdtemp(prefix="gpb_"))
    created: list[str] = []
    try:
        opened = (
            embedded_target(data_dir) if args.embedded else server_target(args.admin_url, data_dir)
        )
        with opened as target:
            with _connect(target.admin) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                version = str(row[0]) if row else "?"
            worker = WorkerThread(target.platform, concurrency=args.concurrency).start()
            try:
                print(
                    f"{args.warmup} warm-up + {args.rounds} rounds on {target.where} ...",
                    flush=True,
                )
                results = run_rounds(target, args, created)
            finally:
                worker.stop()
                drop_created(target.admin, created)
            report(results, target, args, version)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
