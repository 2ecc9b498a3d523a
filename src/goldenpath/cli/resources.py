"""``goldenpath resources``: what your requests created, and tearing it down."""

from __future__ import annotations

from typing import Annotated

import typer

from goldenpath.cli import output
from goldenpath.cli.client import ApiClient, segment
from goldenpath.cli.exit_codes import ABORTED, DRIFT_FOUND, OK, exit_code_for
from goldenpath.cli.options import AsJson, TeamFilter, Url
from goldenpath.cli.watch import follow_resource

app = typer.Typer(
    rich_markup_mode="markdown", help="Manage what your requests created.", no_args_is_help=True
)

ResourceId = Annotated[str, typer.Argument(metavar="ID", help="The resource's id.")]


@app.command("list")
def list_resources(
    team: TeamFilter = None,
    include_destroyed: Annotated[
        bool, typer.Option("--all", help="Include destroyed resources.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many (default: every one).")
    ] = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List resources, newest first (active, drifted, destroying, failed; --all adds destroyed
    ones)."""
    with ApiClient(url) as client:
        found = client.resources(team=team, include_destroyed=include_destroyed, limit=limit)
    if as_json:
        output.print_json(found)
    else:
        output.resources_table(found)


@app.command("show")
def show_resource(resource_id: ResourceId, url: Url = None, as_json: AsJson = False) -> None:
    """Show a resource: state, configuration and outputs."""
    with ApiClient(url) as client:
        found = client.resource(resource_id)
    if as_json:
        output.print_json(found)
    else:
        output.resource_detail(found)


@app.command("check")
def check_resource(resource_id: ResourceId, url: Url = None, as_json: AsJson = False) -> None:
    """Compare the live resource with what was made; exit 13 when it drifted or is gone."""
    with ApiClient(url) as client:
        found = client.call("POST", f"/api/v1/resources/{segment(resource_id)}/check")
    if as_json:
        output.print_json(found)
    elif not found["exists"]:
        output.out.print("The resource is gone from its backend.", style="bold red")
    elif found["in_sync"]:
        output.out.print("In sync: the live resource is as it was made.", style="green")
    else:
        output.out.print("Drifted:", style="bold yellow")
        for drift in found["drift"]:
            output.out.print(
                f"  {drift['field']}: expected {drift['expected']!r}, found {drift['actual']!r}",
                markup=False,
            )
    if not found["in_sync"]:
        raise typer.Exit(DRIFT_FOUND)


@app.command("extend")
def extend_resource(
    resource_id: ResourceId,
    ttl: Annotated[str, typer.Option(help="From now: 12h, 30d, 2w.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Push a resource's expiry further, within what its golden path allows."""
    with ApiClient(url) as client:
        found = client.call(
            "POST", f"/api/v1/resources/{segment(resource_id)}/extend", json={"ttl": ttl}
        )
    if as_json:
        output.print_json(found)
    else:
        output.out.print(f"{found['kind']} '{found['name']}' now expires {found['expires_at']}.")


@app.command("destroy")
def destroy_resource(
    resource_id: ResourceId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until it is destroyed (or destruction fails).")
    ] = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Destroy a resource, e.g. drop a database and its role. This cannot be undone."""
    with ApiClient(url) as client:
        if not yes:
            target = client.resource(resource_id)
            question = f"Destroy {target['kind']} '{target['name']}' ({target['id']})?"
            if not typer.confirm(question, default=False, err=True):
                output.err.print("Not confirmed; nothing was destroyed.")
                raise typer.Exit(ABORTED)
        resource = client.destroy(resource_id)
        if wait:
            resource = follow_resource(client, resource_id, output.err)
    if as_json:
        output.print_json(resource)
    elif resource["state"] == "destroyed":
        output.out.print(f"Destroyed {resource['kind']} '{resource['name']}'.", markup=False)
    elif resource["state"] == "failed":
        output.print_error(RuntimeError(f"destruction failed: {resource.get('error')}"))
    else:
        output.out.print(
            f"Destroying {resource['kind']} '{resource['name']}' "
            f"(state {resource['state']}); follow with: goldenpath resources show {resource['id']}",
            markup=False,
            soft_wrap=True,
        )
    code = exit_code_for(resource["state"])
    if code != OK:
        raise typer.Exit(code)
