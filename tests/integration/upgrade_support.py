"""Day-2 tests drive the CLI as an admin would: against the platform's API (with its worker),
served over real HTTP for the length of the test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from tests.conftest import ADMIN, served

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: versioned-db
  version: "{version}"
  status: {status}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^gp[a-z0-9_]{{3,40}}$"}}
      tier: {{type: string, enum: [standard, legacy], default: standard}}
  steps:
    - id: db
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}", connection_limit: {limit}}}
{extra}"""

NO_LEGACY = """\
package goldenpath.templates.versioned_db

import rego.v1

deny contains msg if {
\tinput.parameters.tier == "legacy"
\tmsg := sprintf("%s: the legacy tier is gone in 2.0.0", [input.parameters.name])
}
"""


def write_version(
    folder: Path, version: str, limit: int, *, status: str = "active", guardrail: bool = False
) -> None:
    extra = "  guardrails: [no_legacy.rego]\n" if guardrail else ""
    if guardrail:
        (folder / "no_legacy.rego").write_text(NO_LEGACY)
    (folder / f"versioned-db-{version}.yaml").write_text(
        TEMPLATE.format(version=version, status=status, limit=limit, extra=extra)
    )


def limits(pg_admin: psycopg.Connection[Any], name: str) -> tuple[int, int]:
    role = pg_admin.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", [name])
    database = pg_admin.execute("SELECT datconnlimit FROM pg_database WHERE datname = %s", [name])
    return role.fetchone()[0], database.fetchone()[0]  # type: ignore[index]


class Cli:
    """``goldenpath ...`` with the API's address and an admin's token in its environment."""

    def __init__(self, url: str, token: str) -> None:
        self.env = {**os.environ, "GOLDENPATH_URL": url, "GOLDENPATH_TOKEN": token}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "goldenpath.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=self.env,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The command in the background (its output piped)."""
        return subprocess.Popen(
            [sys.executable, "-m", "goldenpath.cli.main", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )


@contextmanager
def admin_cli(platform: Platform, *, run_worker: bool = True) -> Iterator[Cli]:
    """The CLI as the bootstrap admin, against ``platform`` served on a free port (with its
    worker unless ``run_worker`` is False: the test starts its own)."""
    issued = platform.directory.bootstrap()
    assert issued is not None
    platform.directory.create_team(ADMIN, "payments")
    with served(create_api(platform, run_worker=run_worker)) as url:
        yield Cli(url, issued.token)
