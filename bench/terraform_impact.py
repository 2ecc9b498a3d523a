"""`templates impact` of a Terraform golden path over N real workspaces (default 10): each
workspace is planned with a real ``terraform plan`` of the new module against its own sealed
state (init, plan, show -json in a scratch copy, no lock), so the figure is Terraform's.

Version 1.0.0 makes the workspaces through the worker (real applies of a ``terraform_data``
module); version 2.0.0 renames the resource, so every workspace comes out as a replace.

    .venv/bin/python bench/terraform_impact.py [--workspaces 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from goldenpath.app import build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.identity.actor import Actor, system_actor
from goldenpath.settings import Settings
from scratch import run_on_scratch

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {{name: bench-tf, version: "{version}"}}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^[a-z][a-z0-9-]{{2,40}}$"}}
  steps:
    - id: record
      action: terraform:apply
      input: {{module: module, workspace: "${{{{ parameters.name }}}}",
               variables: {{name: "${{{{ parameters.name }}}}"}}}}
"""
MODULE = """\
variable "name" {{ type = string }}
resource "terraform_data" "{resource}" {{ input = {{ name = var.name }} }}
"""


def write_version(root: Path, version: str, resource: str) -> None:
    folder = root / "bench-tf" / version
    (folder / "module").mkdir(parents=True)
    (folder / "template.yaml").write_text(TEMPLATE.format(version=version))
    (folder / "module" / "main.tf").write_text(MODULE.format(resource=resource))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspaces", type=int, default=10)
    count = parser.parse_args().workspaces
    run_on_scratch(lambda scratch, database_url: run(scratch, database_url, count))


def run(scratch: Path, database_url: str, count: int) -> None:
    load = os.getloadavg()[0]
    root = scratch / "templates"
    write_version(root, "1.0.0", "record")
    settings = Settings(database_url=database_url, data_dir=scratch / "data", template_dirs=[root])
    v1 = build_platform(settings)
    developer = Actor(user="bench", memberships=frozenset({("team0", "developer")}))
    started = time.perf_counter()
    with WorkerThread(v1, concurrency=4):
        ids = [
            v1.service.submit("bench-tf", {"name": f"bench-{i:03d}"}, developer).id
            for i in range(count)
        ]
        while any(not v1.service.request(i, developer).finished for i in ids):
            time.sleep(0.2)
    applied = time.perf_counter() - started
    assert {v1.service.request(i, developer).status for i in ids} == {"succeeded"}
    v1.close()
    write_version(root, "2.0.0", "entry")
    v2 = build_platform(settings)
    admin = system_actor("bench-admin")
    try:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            impact = v2.upgrades.impact("bench-tf", None, admin)
            times.append(time.perf_counter() - started)
        assert impact.counts["replace"] == count, impact.counts
    finally:
        v2.close()
    best, median = min(times), statistics.median(times)
    print(f"load average at the start: {load:.1f} on {os.cpu_count()} cores")
    print(f"{count} workspaces applied (submit to succeeded, 4 at once): {applied:.1f} s")
    print(f"templates impact over {count} Terraform workspaces: {median:.1f} s median of 3")
    print(f"  best {best:.1f} s, {best / count:.2f} s per workspace (init + plan + show)")


if __name__ == "__main__":
    main()
