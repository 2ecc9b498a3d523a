"""Terraform state is sealed at rest: after the service-onboarding path (a `sensitive` output),
the state table holds no clear secret, a `pg_dump` of the platform's database holds none, and
a developer's role from `postgres-database` cannot read the state."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import (
    BackgroundWorker,
    dump_database,
    member,
    remember_secrets,
    wait_for_request,
)
from tests.integration.actions.terraform.terraform_support import requires_terraform

pytestmark = [requires_terraform, pytest.mark.slow]
ALICE = member("alice", "payments")


def test_a_sensitive_output_is_nowhere_in_clear_in_the_platforms_database(
    platform: Platform,
    worker: BackgroundWorker,
    database_url: str,
    pg_admin: psycopg.Connection[object],
    unique_name: Callable[[str], str],
) -> None:
    request = platform.service.submit(
        "service-onboarding", {"name": "checkout", "owner": "payments", "tier": "gold"}, ALICE
    )
    done = wait_for_request(platform, request.id, timeout=120)
    assert done.status == "succeeded", done.error
    api_key = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))["api_key"]
    assert len(api_key) == 64

    # The state does hold the secret: sealed, it opens with the platform's key only.
    assert platform.service.state_store is not None
    state = json.loads(platform.service.state_store.read("svc-checkout") or b"{}")
    assert state["outputs"]["api_key"]["value"] == api_key

    # (a) The state table holds it sealed, never in clear.
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT workspace, state FROM gp_terraform_states").fetchall()
        legacy = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tfstate\\_%'"
        ).fetchone()
    assert [workspace for workspace, _ in rows] == ["svc-checkout"]
    sealed = bytes(rows[0][1])
    assert api_key.encode() not in sealed
    assert b'"outputs"' not in sealed  # not even the shape of a state file
    assert legacy == (0,), "a pg backend schema holds state in clear"

    # (b) Nor does a backup: the real pg_dump of the whole platform database.
    dumped = dump_database(database_url)
    assert "gp_terraform_states" in dumped and "svc-checkout" in dumped  # the data is there
    assert api_key not in dumped

    # (c) A developer's role, handed out by postgres-database on the same server, cannot reach
    # the state: it may not connect to the platform's database...
    made = platform.service.submit("postgres-database", {"name": unique_name("dev")}, ALICE)
    database = wait_for_request(platform, made.id)
    assert database.status == "succeeded", database.error
    dsn = remember_secrets(platform.service.reveal_secrets(database.id, ALICE))["dsn"]
    platform_db = conninfo_to_dict(database_url)["dbname"]
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(make_conninfo(dsn, dbname=platform_db)).close()

    # ...and where an operator granted it CONNECT by mistake, it still may not read the table.
    role = conninfo_to_dict(dsn)["user"]
    pg_admin.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(platform_db), sql.Identifier(role)
        )
    )
    denied = pytest.raises(psycopg.errors.InsufficientPrivilege, match="gp_terraform_states")
    with psycopg.connect(make_conninfo(dsn, dbname=platform_db)) as intruder, denied:
        intruder.execute("SELECT state FROM gp_terraform_states").fetchall()


def test_the_dump_check_finds_a_clear_state_where_there_is_one(
    make_platform: Callable[..., Platform], database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The check above can fail: with the explicit `state: pg` backend (Terraform writes the
    state itself, in clear), the same pg_dump shows the sensitive output. The platform warns
    of it at start."""
    backends = {"terraform": BackendSettings(kind="terraform", state="pg")}
    platform = make_platform(backends=backends)
    assert "keeps Terraform state with Terraform's pg backend, in clear" in caplog.text
    with BackgroundWorker(platform):
        request = platform.service.submit(
            "service-onboarding", {"name": "ledger", "owner": "payments", "tier": "gold"}, ALICE
        )
        done = wait_for_request(platform, request.id, timeout=120)
    assert done.status == "succeeded", done.error
    # Not remembered for the end-of-run scan, and not kept: this dump is meant to leak.
    api_key = platform.service.reveal_secrets(done.id, ALICE)["api_key"]
    dumped = subprocess.run(
        ["pg_dump", "--no-owner", "--dbname", database_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert api_key in dumped
