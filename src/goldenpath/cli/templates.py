"""``goldenpath templates``: browse the golden paths the platform offers."""

from __future__ import annotations

from typing import Annotated

import typer

from goldenpath.cli import output
from goldenpath.cli.client import DEFAULT_URL, ApiClient
from goldenpath.cli.options import AsJson, Url
from goldenpath.cli.policies import verify_templates

app = typer.Typer(help="Browse the golden paths (templates).", no_args_is_help=True)
app.command("verify")(verify_templates)


@app.command("list")
def list_templates(url: Url = DEFAULT_URL, as_json: AsJson = False) -> None:
    """List the golden paths you can request."""
    with ApiClient(url) as client:
        templates = client.templates()
    if as_json:
        output.print_json(templates)
    else:
        output.templates_table(templates)


@app.command("show")
def show_template(
    name: Annotated[str, typer.Argument(help="The golden path's name.")],
    url: Url = DEFAULT_URL,
    as_json: AsJson = False,
) -> None:
    """Show a golden path: its parameters, steps and outputs."""
    with ApiClient(url) as client:
        template = client.template(name)
    if as_json:
        output.print_json(template)
    else:
        output.template_detail(template)


backends_app = typer.Typer(
    help="The backends golden paths run on: configured, or missing (admins).",
    no_args_is_help=True,
)


@backends_app.command("list")
def list_backends(url: Url = DEFAULT_URL, as_json: AsJson = False) -> None:
    """Configured backends (never their credentials), and missing ones golden paths need."""
    with ApiClient(url) as client:
        backends = client.backends()
    if as_json:
        output.print_json(backends)
    else:
        output.backends_table(backends)
