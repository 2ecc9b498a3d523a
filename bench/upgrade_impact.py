"""`templates impact` over N native resources (default 1,000): the time to re-plan every
resource of version 1.0.0 of a golden path under 2.0.0 and judge it with the guardrails.

The catalog rows are written directly, as the worker writes them after a real request (a
request, its steps and its resource), because the impact never touches the backend: it plans
and judges. Compared with the same number of bare dry runs of the new version (the raw
operation it repeats), in the same run.

    .venv/bin/python bench/upgrade_impact.py [--resources 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from goldenpath.app import build_platform
from goldenpath.identity.actor import Actor, system_actor
from goldenpath.settings import Settings
from goldenpath.store import queries
from scratch import run_on_scratch

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {{name: bench-db, version: "{version}"}}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^[a-z][a-z0-9_]{{2,40}}$"}}
      tier: {{type: string, enum: [standard, legacy], default: standard}}
  steps:
    - id: db
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}", connection_limit: {limit}}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=1000)
    count = parser.parse_args().resources
    run_on_scratch(lambda scratch, database_url: run(scratch, database_url, count))


def run(scratch: Path, database_url: str, count: int) -> None:
    folder = scratch / "templates"
    folder.mkdir()
    (folder / "v1.yaml").write_text(TEMPLATE.format(version="1.0.0", limit=10))
    settings = Settings(
        database_url=database_url, data_dir=scratch / "data", template_dirs=[folder]
    )
    v1 = build_platform(settings)
    template = v1.catalog.get("bench-db")
    with v1.database.begin() as conn:
        for i in range(count):
            request_id = queries.new_id()
            db = f"bench_{i:05d}"
            queries.insert_request(
                conn,
                {
                    "id": request_id,
                    "template_name": "bench-db",
                    "template_version": "1.0.0",
                    "template_snapshot": template.snapshot(),
                    "parameters": {"name": db, "tier": "standard"},
                    "status": "succeeded",
                    "requested_by": "bench",
                    "owner_team": f"team{i % 10}",
                    "plan": {"resources": [], "requested_roles": ["developer"]},
                },
            )
            queries.insert_steps(
                conn,
                request_id,
                [{"step_id": "db", "position": 0, "name": "db", "action": "postgres:database"}],
            )
            resource_id = queries.reserve_resource(
                conn,
                {
                    "kind": "postgres:database",
                    "name": db,
                    "backend": "postgres",
                    "owner_team": f"team{i % 10}",
                    "template_name": "bench-db",
                    "template_version": "1.0.0",
                    "request_id": request_id,
                    "step_id": "db",
                    "config": {"connection_limit": 10},
                    "monthly_cost_usd": None,
                    "expires_at": None,
                },
            )
            queries.update_resource(conn, resource_id, state="active")
    v1.close()
    (folder / "v2.yaml").write_text(TEMPLATE.format(version="2.0.0", limit=15))
    v2 = build_platform(settings)
    admin = system_actor("bench-admin")
    try:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            impact = v2.upgrades.impact("bench-db", None, admin)
            times.append(time.perf_counter() - started)
        assert impact.counts["update"] == count, (impact.counts, impact.resources[:1])
        developer = Actor(user="bench", memberships=frozenset({("team0", "developer")}))
        started = time.perf_counter()
        for i in range(count):
            v2.service.dry_run("bench-db", {"name": f"fresh_{i:05d}"}, developer)
        bare = time.perf_counter() - started
    finally:
        v2.close()
    best = min(times)
    median = statistics.median(times)
    per = best / count * 1000
    print(f"templates impact over {count} resources: {median:.2f} s median of 3")
    print(f"  best {best:.2f} s, {per:.2f} ms per resource")
    print(f"{count} bare dry runs of the new version: {bare:.2f} s ({bare / count * 1000:.2f} ms)")
    print(f"  impact / dry runs: {best / bare:.2f}x")


if __name__ == "__main__":
    main()
