"""``goldenpath login|whoami|users|teams|tokens|audit``: identity and the audit log, via the API."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from goldenpath.cli import output
from goldenpath.cli.client import (
    DEFAULT_PROFILE,
    ApiClient,
    CliError,
    Profile,
    current_token,
    save_profile,
    segment,
)
from goldenpath.cli.exit_codes import AUDIT_TAMPERED
from goldenpath.cli.options import AsJson, Url

users_app = typer.Typer(
    rich_markup_mode="markdown", help="Manage users (platform admins).", no_args_is_help=True
)
teams_app = typer.Typer(
    rich_markup_mode="markdown", help="Manage teams and their members.", no_args_is_help=True
)
tokens_app = typer.Typer(
    rich_markup_mode="markdown", help="Manage API tokens.", no_args_is_help=True
)
audit_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The tamper-evident audit log (platform admins).",
    no_args_is_help=True,
)


SIGN_IN = (
    "Not signed in: run `goldenpath login` with an API token (an admin makes one with "
    "`goldenpath tokens create`), or set GOLDENPATH_TOKEN."
)


def _client(url: str | None) -> ApiClient:
    """A client with the saved or exported token; without one, say how to sign in."""
    if not current_token(url):
        raise CliError(SIGN_IN, code="not_authenticated", status=401)
    return ApiClient(url)


def _show(data: Any, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    if as_json or not columns:
        output.print_json(data)
        return
    rows = data if isinstance(data, list) else [data]
    output.simple_table(columns, [[_cell(row.get(c)) for c in columns] for row in rows])


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(
            f"{v.get('team', v.get('user'))}:{v['role']}" if isinstance(v, dict) else str(v)
            for v in value
        )
    return "" if value is None else str(value)


def login(
    token: Annotated[
        str | None,
        typer.Option(
            prompt=True, hide_input=True, help="An API token [default: asked for, not echoed]."
        ),
    ] = None,
    url: Url = None,
    profile: Annotated[
        str,
        typer.Option(
            "--profile", help="A name for this platform: sign in to several, pick one later."
        ),
    ] = DEFAULT_PROFILE,
    as_json: AsJson = False,
) -> None:
    """Check a token against the API, then save the URL and the token together (as a named
    profile, which becomes the current one: GOLDENPATH_PROFILE picks another)."""
    if not token:  # the prompt asks again for an empty answer; this is for the type checker
        raise typer.BadParameter("an API token is needed", param_hint="--token")
    with ApiClient(url, token=token) as client:
        me = client.call("GET", "/api/v1/me")
        target = client.url
    path = save_profile(profile, Profile(url=target, token=token))
    if as_json:
        output.print_json({"user": me["user"], "url": target, "profile": profile})
        return
    output.out.print(
        Text(f"Signed in to {target} as {me['user']} (profile '{profile}', saved in {path})."),
        soft_wrap=True,
    )


def whoami(url: Url = None, as_json: AsJson = False) -> None:
    """Who your token belongs to: teams, roles, scopes."""
    with _client(url) as client:
        _show(client.call("GET", "/api/v1/me"), as_json, ("user", "teams", "roles", "scopes"))


# --- users --------------------------------------------------------------------------------


@users_app.command("list")
def list_users(url: Url = None, as_json: AsJson = False) -> None:
    """List users: admin or not, active or disabled, their teams and roles (admins)."""
    with _client(url) as client:
        _show(
            client.every("/api/v1/users"),
            as_json,
            ("name", "is_admin", "active", "memberships"),
        )


@users_app.command("create")
def create_user(
    name: str,
    display_name: Annotated[str | None, typer.Option(help="A readable name.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make a platform admin.")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a portal password.")
    ] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Create a user (admins); --password asks for their portal password."""
    body: dict[str, Any] = {"name": name, "display_name": display_name, "is_admin": admin}
    if password:
        body["password"] = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _client(url) as client:
        _show(client.call("POST", "/api/v1/users", json=body), as_json, ("name", "is_admin"))


@users_app.command("passwd")
def set_password(name: str, url: Url = None) -> None:
    """Set a user's portal password (your own, or anyone's as an admin)."""
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _client(url) as client:
        client.call("PUT", f"/api/v1/users/{segment(name)}/password", json={"password": password})
    output.out.print(f"Password of {name} set.")


@users_app.command("link-slack")
def link_slack(name: str, slack_id: str, url: Url = None) -> None:
    """Link a Slack user (their member id, e.g. U024BE7LH) to a user (admins)."""
    with _client(url) as client:
        client.call("PUT", f"/api/v1/users/{segment(name)}/slack", json={"slack_user_id": slack_id})
    output.out.print(f"Slack user {slack_id} is now {name} in Slack.")


@users_app.command("confirm-slack")
def confirm_slack(code: str, url: Url = None) -> None:
    """Link the Slack account that `/golden link` gave this one-time code to to you."""
    with _client(url) as client:
        linked = client.call("POST", "/api/v1/me/slack", json={"code": code})
    output.out.print(f"Slack user {linked['slack_user_id']} is now you in Slack.")


@users_app.command("disable")
def disable_user(name: str, url: Url = None) -> None:
    """Disable a user (admins): their tokens no longer work."""
    with _client(url) as client:
        client.call("POST", f"/api/v1/users/{segment(name)}/disable")
    output.out.print(f"User {name} disabled; their tokens no longer work.")


# --- teams --------------------------------------------------------------------------------


@teams_app.command("list")
def list_teams(url: Url = None, as_json: AsJson = False) -> None:
    """List teams, their monthly budgets and members."""
    with _client(url) as client:
        _show(client.every("/api/v1/teams"), as_json, ("name", "monthly_budget_usd", "members"))


@teams_app.command("create")
def create_team(
    name: str,
    budget: Annotated[float | None, typer.Option(help="Monthly budget in USD.")] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Create a team (admins), optionally with a monthly budget."""
    body = {"name": name, "monthly_budget_usd": budget}
    with _client(url) as client:
        _show(
            client.call("POST", "/api/v1/teams", json=body), as_json, ("name", "monthly_budget_usd")
        )


@teams_app.command("add-member")
def add_member(
    team: str,
    user: str,
    role: Annotated[str, typer.Option(help="developer or approver.")] = "developer",
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Add a user to a team as a developer or an approver."""
    with _client(url) as client:
        team_view = client.call(
            "POST", f"/api/v1/teams/{segment(team)}/members", json={"user": user, "role": role}
        )
    _show(team_view, as_json, ("name", "members"))


@teams_app.command("remove-member")
def remove_member(
    team: str,
    user: str,
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    url: Url = None,
) -> None:
    """Remove a user from a team (from every role there, or only --role)."""
    with _client(url) as client:
        params = {"role": role} if role else {}
        client.call(
            "DELETE", f"/api/v1/teams/{segment(team)}/members/{segment(user)}", params=params
        )
    output.out.print(f"{user} removed from {team}.")


# --- tokens -------------------------------------------------------------------------------


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option(help="Admins: someone else's.")] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List your API tokens (admins: anyone's, with --user): scopes, expiry, last use."""
    with _client(url) as client:
        found = client.every("/api/v1/tokens", {"user": user} if user else {})
    _show(
        found, as_json, ("id", "user", "name", "scopes", "expires_at", "revoked_at", "last_used_at")
    )


@tokens_app.command("create")
def create_token(
    name: str,
    user: Annotated[str | None, typer.Option(help="Admins: for someone else.")] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write, admin (repeatable).")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(help="Days until it expires.")] = 90,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Make an API token; it is printed once."""
    body = {
        "name": name,
        "user": user,
        "scopes": scope or ["read", "write"],
        "expires_in_days": expires_in_days,
    }
    with _client(url) as client:
        issued = client.call("POST", "/api/v1/tokens", json=body)
    if as_json:
        output.print_json(issued)
    else:
        output.out.print(
            f"Token {issued['id']} for {issued['user']} ({', '.join(issued['scopes'])}),"
        )
        output.out.print("shown once — store it now:")
        output.out.print(Text(issued["token"], style="bold"), soft_wrap=True)


@tokens_app.command("revoke")
def revoke_token(token_id: str, url: Url = None) -> None:
    """Revoke an API token by its id (see `goldenpath tokens list`); it stops working at once."""
    with _client(url) as client:
        client.call("DELETE", f"/api/v1/tokens/{segment(token_id)}")
    output.out.print(f"Token {token_id} revoked.")


# --- audit --------------------------------------------------------------------------------


@audit_app.command("verify")
def verify_audit(url: Url = None, as_json: AsJson = False) -> None:
    """Check the keyed hash chain and its anchors; exit 10 naming the event if anything was
    edited, removed, reordered or recomputed."""
    with _client(url) as client:
        report = client.call("GET", "/api/v1/audit/verify")
    if as_json:
        output.print_json(report)
    else:
        style = "green" if report["ok"] else "bold red"
        output.out.print(Text(report["summary"], style=style), soft_wrap=True)
    if not report["ok"]:
        raise typer.Exit(AUDIT_TAMPERED)


@audit_app.command("checkpoint")
def checkpoint_audit(url: Url = None, as_json: AsJson = False) -> None:
    """Anchor the chain's head outside the database, and print it for an external witness."""
    with _client(url) as client:
        anchor = client.call("POST", "/api/v1/audit/checkpoint")
    if as_json:
        output.print_json(anchor)
    else:
        output.out.print(f"Anchored event {anchor['count']}: {anchor['hash']} at {anchor['at']}")


@audit_app.command("export")
def export_audit(
    format_: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    url: Url = None,
) -> None:
    """Every event as JSON lines, with their hashes, on stdout."""
    if format_ != "jsonl":
        raise typer.BadParameter("only jsonl is supported", param_hint="--format")
    with _client(url) as client:
        text = client.call("GET", "/api/v1/audit/export")
    typer.echo(text, nl=False)


@audit_app.command("events")
def list_events(
    who: Annotated[str | None, typer.Option(help="The acting user.")] = None,
    action: Annotated[str | None, typer.Option(help="Action prefix, e.g. 'request.'.")] = None,
    target: Annotated[str | None, typer.Option(help="A request, resource, user...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List audit events, newest first: who did what to which target."""
    params = {k: v for k, v in {"who": who, "action": action, "target": target}.items() if v}
    with _client(url) as client:
        events = client.call("GET", "/api/v1/audit/events", params={**params, "limit": limit})[
            "items"
        ]
    _show(events, as_json, ("id", "at", "actor", "action", "target"))
