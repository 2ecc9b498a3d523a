"""Statements per request, counted by PostgreSQL itself: independent of the machine's load.

A throwaway embedded PostgreSQL (temporary data dir, ``pg_stat_statements`` preloaded) holds a
fresh platform with one golden path of one ``debug:log`` step (the peer of Backstage's
``log-only`` template). The REST API runs in-process (Starlette's test client, the real app);
a real Procrastinate worker runs in a background thread. Three phases, each between a reset
and a read of ``pg_stat_statements``:

- **submit**: ``-n`` ``POST /api/v1/requests`` with the worker stopped (the jobs wait);
- **claim + run**: the worker (concurrency 1) started until every request succeeded, minus
  what the idle worker runs in as long (heartbeats, fetches; housekeeping is set to hourly);
- **status GET**: ``-n`` ``GET /api/v1/requests/{id}`` of finished requests.

Statements, not round trips: a multi-statement simple query (the audit lock's three) counts
three. ``BEGIN``/``COMMIT`` count (``track_utility``). Per phase it prints the statements per
request and, with ``--top``, the statements that make them.

Run: .venv/bin/python bench/request_queries.py [-n 50] [--top 25]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from goldenpath.api.app import create_api
from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.settings import Settings
from goldenpath.store.embedded import start_embedded
from scratch import free_port

TOKEN = "gp_benchqueries_" + "Q" * 43
TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: log-only
  title: Log only
  description: One debug:log step (the peer of Backstage's template:default/log-only).
  version: "1.0.0"
spec:
  access: {teams: ["*"]}
  parameters:
    - title: Input
      properties:
        name: {title: Name, type: string, default: world}
  steps:
    - id: log
      name: Log a message
      action: debug:log
      input:
        message: 'Hello, ${{ parameters.name }}!'
  output:
    text: 'Hello, ${{ parameters.name }}!'
"""
POLL = "/* bench-poll */"


@contextmanager
def counted_platform(work: Path) -> Iterator[Platform]:
    """A platform on its own embedded server with ``pg_stat_statements`` loaded."""
    data, port = work / "data", free_port()
    server = start_embedded(data, port)
    with (server.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("shared_preload_libraries = 'pg_stat_statements'\n")
    server.stop()
    # Started here, so stopped here: the platform reuses it and leaves it running.
    server = start_embedded(data, port)
    templates = work / "templates"
    templates.mkdir()
    (templates / "log-only.yaml").write_text(TEMPLATE)
    settings = Settings(
        data_dir=data,
        embedded_port=port,
        template_dirs=[templates],
        load_starter=False,
        bootstrap_token=TOKEN,
        # Housekeeping hourly, drift daily: their jobs would blur the per-request counts.
        housekeeping_seconds=3600,
        drift_check_minutes=1440,
    )
    platform = build_platform(settings)
    platform.directory.bootstrap(TOKEN)
    with platform.database.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    try:
        yield platform
    finally:
        platform.close()
        server.stop()


def _autocommit(platform: Platform) -> sa.Connection:
    """A connection whose statements add no BEGIN/COMMIT of the bench's own to the counts."""
    return platform.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def reset(platform: Platform) -> None:
    with _autocommit(platform) as conn:
        conn.execute(sa.text("SELECT pg_stat_statements_reset()"))


def statements(platform: Platform) -> list[tuple[str, int]]:
    """(query, calls) since the last reset, without this bench's own."""
    with _autocommit(platform) as conn:
        rows = conn.execute(
            sa.text(
                "SELECT query, calls FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY calls DESC"
            )
        ).all()
    own = ("pg_stat_statements", POLL)
    return [(q, int(c)) for q, c in rows if not any(mark in q for mark in own)]


def wait_until_succeeded(platform: Platform, ids: list[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while succeeded(platform, ids) < len(ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all of {len(ids)} requests succeeded in {timeout} s")
        time.sleep(0.02)


def succeeded(platform: Platform, ids: list[str]) -> int:
    with _autocommit(platform) as conn:
        return int(
            conn.execute(
                sa.text(
                    f"SELECT count(*) {POLL} FROM gp_requests "
                    "WHERE id = ANY(:ids) AND status = 'succeeded'"
                ),
                {"ids": ids},
            ).scalar_one()
        )


def report(phase: str, found: list[tuple[str, int]], n: int, top: int, idle: int = 0) -> None:
    total = sum(c for _, c in found) - idle
    print(f"\n{phase}: {total / n:.1f} statements per request ({total} for {n})")
    for query, calls in found[:top]:
        print(f"  {calls / n:6.2f}  {' '.join(query.split())[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--top", type=int, default=0, help="list the N most called statements")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gp-queries-"))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body: dict[str, Any] = {"template": "log-only", "parameters": {"name": "bench"}}
    try:
        with counted_platform(work) as platform, TestClient(create_api(platform)) as client:
            warm = client.post("/api/v1/requests", json=body, headers=headers)
            warm.raise_for_status()
            with WorkerThread(platform, concurrency=1):
                wait_until_succeeded(platform, [warm.json()["id"]], timeout=60)
                time.sleep(1)  # the worker's bookkeeping of the warm-up job

            reset(platform)
            ids = []
            for _ in range(args.n):
                answer = client.post("/api/v1/requests", json=body, headers=headers)
                answer.raise_for_status()
                ids.append(answer.json()["id"])
            report("submit (POST /api/v1/requests)", statements(platform), args.n, args.top)

            worker = WorkerThread(platform, concurrency=1)
            reset(platform)
            started = time.monotonic()
            worker.start()
            wait_until_succeeded(platform, ids)
            busy = time.monotonic() - started
            time.sleep(0.5)  # the last job's deletion
            ran = statements(platform)
            reset(platform)
            time.sleep(busy + 0.5)
            idle = sum(c for _, c in statements(platform))
            worker.stop()
            print(f"\n(the idle worker ran {idle} statements in {busy + 0.5:.1f} s)")
            report("claim + run (worker, concurrency 1)", ran, args.n, args.top, idle)

            client.get(f"/api/v1/requests/{ids[0]}", headers=headers).raise_for_status()
            reset(platform)
            for request_id in ids:
                client.get(f"/api/v1/requests/{request_id}", headers=headers).raise_for_status()
            report("status GET (GET /api/v1/requests/{id})", statements(platform), args.n, args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
