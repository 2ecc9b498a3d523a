"""Identity through the real CLI against the running server: users, teams, tokens (shown once,
never listed, revocable), who may do what, the audit log, and signing in."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import stat
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Cli, Server, make_user

TOKEN = re.compile(r"gp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}")
NOT_AUTHENTICATED = 9
ACCESS_DENIED = 8


@pytest.fixture
def admin(cli: Cli) -> Cli:
    return cli.as_user(ADMIN_TOKEN)


@pytest.fixture
def unique() -> str:
    return secrets.token_hex(3)


@pytest.fixture
def no_saved_token(tmp_path: Path) -> dict[str, str]:
    """Environment for a CLI that has no token: none in the environment, none saved."""
    return {"GOLDENPATH_TOKEN": "", "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_an_admin_makes_a_user_a_team_and_a_token_that_works_until_revoked(
    admin: Cli, unique: str
) -> None:
    user, team = f"cli-user-{unique}", f"cli-team-{unique}"

    created = admin("users", "create", user, "--display-name", "CLI User", "--json").json()
    assert created["name"] == user and created["is_admin"] is False
    made_team = admin("teams", "create", team, "--budget", "250", "--json").json()
    assert made_team == {"name": team, "monthly_budget_usd": 250.0, "members": []}
    joined = admin("teams", "add-member", team, user, "--role", "approver", "--json").json()
    assert {"user": user, "role": "approver"} in joined["members"]

    issued = admin("tokens", "create", "laptop", "--user", user, "--scope", "read", "--json")
    token = issued.json()["token"]
    token_id = issued.json()["id"]
    assert TOKEN.fullmatch(token)
    assert issued.json()["scopes"] == ["read"]

    listed = admin("tokens", "list", "--user", user, "--json")
    assert [t["id"] for t in listed.json()] == [token_id]
    assert all("token" not in t for t in listed.json())
    assert token.split("_", 2)[2] not in listed.stdout
    assert token.split("_", 2)[2] not in admin("tokens", "list", "--user", user).stdout

    me = admin.as_user(token)("whoami", "--json").json()
    assert me["user"] == user
    assert me["memberships"] == [{"team": team, "role": "approver"}]
    assert me["scopes"] == ["read"]
    # A read token reads, but does not change anything.
    assert admin.as_user(token)("teams", "list", "--json").json()[0]["name"] == team
    assert admin.as_user(token)("tokens", "create", "more").code == ACCESS_DENIED

    revoked = admin("tokens", "revoke", token_id)
    assert revoked.code == 0, revoked.stderr
    after = admin.as_user(token)("whoami")
    assert after.code == NOT_AUTHENTICATED
    assert "revoked" in after.stderr
    assert admin("tokens", "list", "--user", user, "--json").json()[0]["revoked_at"]


def test_a_token_is_printed_once_in_plain_output(admin: Cli, unique: str) -> None:
    result = admin("tokens", "create", f"plain-{unique}")

    assert result.code == 0, result.stderr
    assert "shown once" in result.stdout
    assert len(TOKEN.findall(result.stdout)) == 1


def test_a_developer_cannot_manage_identity_or_read_the_audit_log(cli: Cli, unique: str) -> None:
    create = cli("users", "create", f"intruder-{unique}")
    verify = cli("audit", "verify")
    export = cli("audit", "export", "--format", "jsonl")

    assert create.code == ACCESS_DENIED, create.stderr
    assert verify.code == ACCESS_DENIED, verify.stderr
    assert export.code == ACCESS_DENIED, export.stderr
    assert export.stdout == ""


def test_the_admin_verifies_and_exports_the_audit_log(admin: Cli, unique: str) -> None:
    admin("teams", "create", f"audited-{unique}")

    verified = admin("audit", "verify")
    exported = admin("audit", "export", "--format", "jsonl")

    assert verified.code == 0, verified.stderr
    assert "intact" in verified.stdout
    assert exported.code == 0, exported.stderr
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    assert events and all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in events)
    assert all(e["prev_hash"] == before["hash"] for before, e in itertools.pairwise(events))
    assert any(e["action"] == "team.saved" and e["target"] == f"audited-{unique}" for e in events)
    assert admin("audit", "export", "--format", "csv").code == 2


def test_login_saves_the_url_and_the_token_together_as_a_profile(
    cli: Cli, server: Server, unique: str, no_saved_token: dict[str, str]
) -> None:
    token = make_user(server, f"login-{unique}", "e2e")
    env = {**no_saved_token, "GOLDENPATH_URL": ""}  # the URL comes from the profile

    signed_in = cli("login", "--url", server.url, "--token", token, "--profile", "lab", **env)

    assert signed_in.code == 0, signed_in.stderr
    assert f"as login-{unique}" in signed_in.stdout and "profile 'lab'" in signed_in.stdout
    saved = Path(no_saved_token["XDG_CONFIG_HOME"]) / "goldenpath" / "profiles.json"
    assert json.loads(saved.read_text()) == {
        "current": "lab",
        "profiles": {"lab": {"url": server.url, "token": token}},
    }
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    me = cli("whoami", "--json", **env).json()
    assert me["user"] == f"login-{unique}"
    # The saved token is never sent to another URL: there, the CLI is not signed in.
    elsewhere = cli("whoami", "--url", "http://127.0.0.1:9", **env)
    assert elsewhere.code == NOT_AUTHENTICATED, elsewhere.stderr
    # A second platform is a second profile; GOLDENPATH_PROFILE picks one.
    assert (
        cli("login", "--url", server.url, "--token", ADMIN_TOKEN, "--profile", "ops", **env).code
        == 0
    )
    assert cli("whoami", "--json", **env).json()["user"] == "admin"
    lab = cli("whoami", "--json", GOLDENPATH_PROFILE="lab", **env).json()
    assert lab["user"] == f"login-{unique}"
    unknown = cli("whoami", GOLDENPATH_PROFILE="nope", **env)
    assert unknown.code == 2 and "GOLDENPATH_PROFILE: must name a saved profile" in unknown.stderr


def test_shell_completion_is_on(cli: Cli) -> None:
    shown = cli("--show-completion", "bash")
    assert shown.code == 0 and "_GOLDENPATH_COMPLETE" in shown.stdout


def test_a_refused_login_saves_nothing(cli: Cli, no_saved_token: dict[str, str]) -> None:
    forged = "gp_aaaaaaaaaaaa_" + "B" * 43

    result = cli("login", "--token", forged, **no_saved_token)

    assert result.code == NOT_AUTHENTICATED
    assert not (Path(no_saved_token["XDG_CONFIG_HOME"]) / "goldenpath" / "profiles.json").exists()


def test_without_a_token_the_cli_says_how_to_sign_in(
    cli: Cli, no_saved_token: dict[str, str]
) -> None:
    result = cli("whoami", **no_saved_token)

    assert result.code == NOT_AUTHENTICATED
    assert "goldenpath login" in result.stderr
    assert "GOLDENPATH_TOKEN" in result.stderr


def test_a_tampered_audit_log_exits_10_and_checkpoints_anchor_the_head(
    admin: Cli, unique: str, platform_database: str
) -> None:
    admin("teams", "create", f"anchored-{unique}")
    anchored = admin("audit", "checkpoint", "--json")
    assert anchored.code == 0, anchored.stderr
    assert anchored.json()["count"] > 0
    with psycopg.connect(platform_database, autocommit=True) as conn:
        row = conn.execute("SELECT id, actor FROM gp_events ORDER BY id DESC LIMIT 1").fetchone()
        assert row is not None
        conn.execute("UPDATE gp_events SET actor = 'mallory' WHERE id = %s", (row[0],))
        try:
            tampered = admin("audit", "verify")
        finally:
            conn.execute("UPDATE gp_events SET actor = %s WHERE id = %s", (row[1], row[0]))
    assert tampered.code == 10, tampered.stdout + tampered.stderr
    assert "TAMPERED" in tampered.stdout
    restored = admin("audit", "verify")
    assert restored.code == 0, restored.stdout
    assert "anchors held" in restored.stdout
