"""On a platform without cloud backends, the CLI is honest about it: the catalog says which
paths need setup, a request for one exits 11 (not "bad input"), and admins see what is missing."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_TOKEN, Cli


def test_a_path_without_its_backend_needs_setup_and_is_refused_with_its_own_code(
    cli: Cli,
) -> None:
    listed = cli("templates", "list", "--json")
    assert listed.code == 0, listed.stderr
    needs = {t["name"]: t["needs_setup"] for t in listed.json()}
    assert needs["ec2-instance"] == ["backend 'aws' of kind 'aws'"]
    assert needs["postgres-database"] == []
    table = " ".join(cli("templates", "list").stdout.split())
    assert "needs setup: backend 'aws'" in table

    refused = cli(
        "request", "ec2-instance", "-p", "name=web", "-p", "cost_center=cc-1", "--dry-run"
    )
    assert refused.code == 11, refused.stdout + refused.stderr
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "not set up on this platform" in said and "ask your platform team" in said.lower()
    assert "Invalid input" not in said


def test_admins_see_which_backends_are_missing(cli: Cli) -> None:
    shown = cli.as_user(ADMIN_TOKEN)("backends", "list", "--json")
    assert shown.code == 0, shown.stderr
    rows = {b["name"]: b for b in shown.json()}
    assert rows["aws"]["configured"] is False
    assert set(rows["aws"]["needed_by"]) >= {"ec2-instance", "s3-bucket"}
    assert rows["postgres"]["configured"] is True
    assert "postgres-database" in rows["postgres"]["needed_by"]
    assert "dsn" not in str(shown.json())  # never a credential
    assert cli("backends", "list").code == 8  # developers: access denied
