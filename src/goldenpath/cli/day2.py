"""Day-2 actions from the CLI: ``goldenpath resources actions ID`` lists what a resource's
golden path offers on it, ``goldenpath resources run ID ACTION`` runs one as a request."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from goldenpath.cli import output
from goldenpath.cli.client import ApiClient, segment
from goldenpath.cli.options import AsJson, Url
from goldenpath.cli.parameters import parse_parameters
from goldenpath.cli.requests import (
    Params,
    ParamsFile,
    Reveal,
    Wait,
    follow_and_reveal,
    report_final,
)

ResourceId = Annotated[str, typer.Argument(metavar="ID", help="The resource's id.")]


def register(resources: typer.Typer) -> None:
    resources.command("actions")(list_actions)
    resources.command("run")(run_action)


def list_actions(resource_id: ResourceId, url: Url = None, as_json: AsJson = False) -> None:
    """The day-2 actions a resource's golden path offers on it, and their parameters."""
    with ApiClient(url) as client:
        found = client.call("GET", f"/api/v1/resources/{segment(resource_id)}/actions")
    if as_json:
        output.print_json(found)
        return
    if not found:
        output.out.print("Its golden path offers no day-2 action.")
    for action in found:
        names = ", ".join(action["parameters_schema"].get("properties", {})) or "no parameters"
        output.out.print(Text(f"{action['name']}", style="bold") + Text(f"  {action['title']}"))
        output.out.print(Text(f"  {action['description']} ({names})"), soft_wrap=True)


def run_action(
    resource_id: ResourceId,
    action: Annotated[str, typer.Argument(help="The day-2 action, e.g. rotate-password.")],
    param: Params = None,
    params_file: ParamsFile = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the verdict; change nothing.")
    ] = False,
    wait: Wait = False,
    reveal: Reveal = True,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Run a day-2 action on a resource, e.g. `goldenpath resources run ID rotate-password
    --wait`, as a request (kind day2:ACTION) judged by the guardrails."""
    parameters = parse_parameters(param or [], params_file)
    with ApiClient(url) as client:
        answer: dict[str, Any] = client.call(
            "POST",
            f"/api/v1/resources/{segment(resource_id)}/actions/{segment(action)}",
            json={"parameters": parameters, "dry_run": dry_run},
        )
        if dry_run:
            if as_json:
                output.print_json(answer)
            else:
                output.plan(answer)
            return
        if not wait or answer["status"] != "queued":
            if as_json:
                output.print_json(answer)
            else:
                output.out.print(
                    f"Request {answer['id']} ({answer['kind']}) is {answer['status']}."
                )
                output.verdict(answer.get("verdict") or {})
            return
        final, secrets = follow_and_reveal(client, answer["id"], reveal=reveal, as_json=as_json)
    report_final(final, secrets, as_json)
