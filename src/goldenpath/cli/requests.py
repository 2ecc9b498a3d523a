"""``goldenpath request`` (run a golden path) and ``goldenpath requests`` (look at runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from goldenpath.cli import output
from goldenpath.cli.client import ApiClient
from goldenpath.cli.exit_codes import OK, exit_code_for, exit_code_for_verdict
from goldenpath.cli.options import AsJson, TeamFilter, Url
from goldenpath.cli.parameters import parse_parameters
from goldenpath.cli.watch import follow_request

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Look at requests (runs of golden paths).",
    no_args_is_help=True,
)

Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="A parameter: key=value (a string) or key:=JSON (number, boolean, list). Repeatable.",
        metavar="KEY=VALUE",
    ),
]
ParamsFile = Annotated[
    Path | None,
    typer.Option(help="Parameters from a JSON or YAML file; -p values win.", dir_okay=False),
]
Wait = Annotated[bool, typer.Option("--wait", help="Follow the request live until it finishes.")]
Reveal = Annotated[
    bool,
    typer.Option("--reveal/--no-reveal", help="With --wait: reveal the secrets once, on success."),
]
OwnerTeam = Annotated[
    str | None,
    typer.Option(
        "--team", envvar="GOLDENPATH_TEAM", help="Owner team (default: the server's default)."
    ),
]


def request(
    template: Annotated[str, typer.Argument(help="The golden path to run.")],
    param: Params = None,
    params_file: ParamsFile = None,
    team: OwnerTeam = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the resolved plan; create nothing.")
    ] = False,
    wait: Wait = False,
    reveal: Reveal = True,
    justification: Annotated[
        str | None,
        typer.Option(
            help="Ask for an exception: a request the guardrails deny then waits for an approver."
        ),
    ] = None,
    ttl: Annotated[
        str | None,
        typer.Option(help="How long it may live: 12h, 30d, 2w (default: the golden path's)."),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="A version of the golden path [default: the newest].")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Request a golden path, e.g. `goldenpath request postgres-database -p name=orders --wait`."""
    parameters = parse_parameters(param or [], params_file)
    with ApiClient(url) as client:
        if dry_run:
            preview = client.submit(
                template,
                parameters,
                team=team,
                dry_run=True,
                justification=justification,
                version=version,
            )
            if as_json:
                output.print_json(preview)
            else:
                output.plan(preview)
            code = exit_code_for_verdict(preview.get("verdict"))
            if code != OK:
                raise typer.Exit(code)
            return
        submitted = client.submit(
            template, parameters, team=team, justification=justification, ttl=ttl, version=version
        )
        if submitted["status"] == "pending_approval":
            if as_json:
                output.print_json(submitted)
            else:
                output.sandbox_label(submitted)
                output.out.print(
                    f"Request {submitted['id']} is waiting for approval "
                    "(someone other than you approves it with "
                    f"`goldenpath requests approve {submitted['id']}`)."
                )
                output.verdict(submitted.get("verdict") or {})
            return
        if not wait:
            if as_json:
                output.print_json(submitted)
            else:
                output.sandbox_label(submitted)
                output.out.print(f"Request {submitted['id']} is {submitted['status']}.")
                output.out.print(f"Follow it with: goldenpath requests show {submitted['id']}")
            return
        final, secrets = follow_and_reveal(client, submitted["id"], reveal=reveal, as_json=as_json)
    report_final(final, secrets, as_json)


def follow_and_reveal(
    client: ApiClient, request_id: str, *, reveal: bool, as_json: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Follow a request live to its end; with ``reveal``, its secrets once (an audited reveal)
    when it succeeded."""
    final = follow_request(client, request_id, output.err if as_json else output.out)
    secrets = None
    if reveal and final["status"] == "succeeded" and (final["outputs"] or {}).get("secrets"):
        secrets = client.reveal_secrets(final["id"])
    return final, secrets


def report_final(final: dict[str, Any], secrets: dict[str, Any] | None, as_json: bool) -> None:
    code = exit_code_for(final["status"])
    if as_json:
        output.print_json(final if secrets is None else {**final, "secrets": secrets})
    elif code == OK:
        output.sandbox_label(final)
        output.out.print(f"Request {final['id']} succeeded.", style="bold green")
        output.outputs(final.get("outputs") or {}, final["id"], secrets_shown=bool(secrets))
        if secrets:
            output.secrets(secrets, final["id"])
    else:
        _report_failure(final)
    if code != OK:
        raise typer.Exit(code)


def _report_failure(final: dict[str, Any]) -> None:
    output.err.print(
        f"Request {final['id']} {final['status']}: {final.get('error') or 'no reason given'}",
        style="bold red",
        markup=False,
        soft_wrap=True,
    )
    for step in final.get("steps", []):
        if step.get("error"):
            output.err.print(
                f"  step {step['id']} ({step['status']}): {step['error']}",
                markup=False,
                soft_wrap=True,
            )


@app.command("list")
def list_requests(
    status: Annotated[str | None, typer.Option(help="Only requests in this status.")] = None,
    template: Annotated[str | None, typer.Option(help="Only runs of this golden path.")] = None,
    team: TeamFilter = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many (default: every one).")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List requests, newest first."""
    with ApiClient(url) as client:
        found = client.requests(status=status, template=template, team=team, limit=limit)
    if as_json:
        output.print_json(found)
    else:
        output.requests_table(found)


@app.command("show")
def show_request(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Show a request: status, steps, outputs and errors."""
    with ApiClient(url) as client:
        found = client.request(request_id)
    if as_json:
        output.print_json(found)
    else:
        output.request_detail(found)


def reveal_secrets(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Reveal a succeeded request's secrets (every reveal is recorded in the audit log)."""
    with ApiClient(url) as client:
        found = client.reveal_secrets(request_id)
    if as_json:
        output.print_json(found)
    else:
        output.secrets(found, request_id)


@app.command("cancel")
def cancel_request(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="A request not finished yet.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Cancel a request: at once if it has not started; a running one is stopped and what it
    made is rolled back (it ends `cancelled`)."""
    with ApiClient(url) as client:
        _print_state(client.cancel(request_id), as_json)


@app.command("retry")
def retry_request(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="A failed request.")],
    wait: Annotated[bool, typer.Option("--wait", help="Follow it until it finishes.")] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Run a failed request again from the first step that did not succeed."""
    with ApiClient(url) as client:
        retried = client.retry(request_id)
        if not wait:
            _print_state(retried, as_json)
            return
        final = follow_request(client, request_id, output.err if as_json else output.out)
    report_final(final, None, as_json)


def _print_state(request: dict[str, Any], as_json: bool) -> None:
    if as_json:
        output.print_json(request)
    else:
        output.out.print(f"Request {request['id']} is now {request['status']}.")


Comment = Annotated[str | None, typer.Option(help="Why: recorded with the decision.")]


@app.command("approve")
def approve_request(
    request_id: Annotated[str, typer.Argument(help="The request waiting for approval.")],
    comment: Comment = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Approve a request waiting for approval (never your own); it runs at once."""
    _decide(request_id, approve=True, comment=comment, url=url, as_json=as_json)


@app.command("reject")
def reject_request(
    request_id: Annotated[str, typer.Argument(help="The request waiting for approval.")],
    comment: Comment = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Reject a request waiting for approval."""
    _decide(request_id, approve=False, comment=comment, url=url, as_json=as_json)


def _decide(
    request_id: str, *, approve: bool, comment: str | None, url: str | None, as_json: bool
) -> None:
    with ApiClient(url) as client:
        _print_state(client.decide(request_id, approve=approve, comment=comment), as_json)
