"""``goldenpath templates``: browse the golden paths the platform offers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from goldenpath.actions.registry import default_registry
from goldenpath.cli import output
from goldenpath.cli.client import ApiClient, CliError
from goldenpath.cli.exit_codes import BACKEND_UNREACHABLE, exit_code_for
from goldenpath.cli.options import AsJson, Url
from goldenpath.cli.policies import verify_templates
from goldenpath.errors import GoldenPathError
from goldenpath.templates.loader import load_template

app = typer.Typer(
    rich_markup_mode="markdown", help="Browse the golden paths (templates).", no_args_is_help=True
)
app.command("verify")(verify_templates)


@app.command("list")
def list_templates(url: Url = None, as_json: AsJson = False) -> None:
    """List the golden paths you can request."""
    with ApiClient(url) as client:
        templates = client.templates()
        problems = [] if as_json else _problems_if_admin(client)
    if as_json:
        output.print_json(templates)
    else:
        output.templates_table(templates)
        if problems:
            output.out.print(
                f"{len(problems)} template file(s) failed to load: "
                "see `goldenpath templates problems`",
                style="bold yellow",
            )


def _problems_if_admin(client: ApiClient) -> list[dict[str, Any]]:
    try:
        return client.template_problems()
    except CliError as exc:
        if exc.status == 403:  # not an admin: the problems are not theirs to see
            return []
        raise


@app.command("problems")
def template_problems(url: Url = None, as_json: AsJson = False) -> None:
    """Template files that failed to load, with the field and the reason (admins)."""
    with ApiClient(url) as client:
        problems = client.template_problems()
    if as_json:
        output.print_json(problems)
    elif not problems:
        output.out.print("Every template file loaded.")
    else:
        output.template_problems_table(problems)


@app.command("show")
def show_template(
    name: Annotated[str, typer.Argument(help="The golden path's name.")],
    url: Url = None,
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
    rich_markup_mode="markdown",
    help="The backends golden paths run on: configured, or missing (admins).",
    no_args_is_help=True,
)


@backends_app.command("list")
def list_backends(url: Url = None, as_json: AsJson = False) -> None:
    """Configured backends (never their credentials), and missing ones golden paths need."""
    with ApiClient(url) as client:
        backends = client.backends()
    if as_json:
        output.print_json(backends)
    else:
        output.backends_table(backends)


@backends_app.command("check")
def check_backends(url: Url = None, as_json: AsJson = False) -> None:
    """Whether each configured backend answers now (a connection and a trivial call, each
    within a few seconds); exits 16 when one does not."""
    with ApiClient(url) as client:
        checks = client.check_backends()
    if as_json:
        output.print_json(checks)
    else:
        output.backend_checks_table(checks)
    if any(c["reachable"] is False for c in checks):
        raise typer.Exit(BACKEND_UNREACHABLE)


@app.command("convert")
def convert_template(
    file: Annotated[Path, typer.Argument(help="A Backstage (or native) template file.")],
) -> None:
    """Print the native golden path equivalent of a template file (to migrate when you want)."""
    try:
        template = load_template(file, default_registry().classes())
    except GoldenPathError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(exit_code_for(exc)) from None
    typer.echo(yaml.safe_dump(template.raw, sort_keys=False, allow_unicode=True), nl=False)
