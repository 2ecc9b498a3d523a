"""The ``goldenpath`` command: the Typer app, and `main`, which turns every outcome into an
exit code (see `goldenpath.cli.exit_codes`)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
import typer.core

from goldenpath import __version__
from goldenpath.cli import (
    day2,
    identity,
    insights,
    policies,
    prices,
    requests,
    resources,
    server,
    templates,
    upgrades,
)
from goldenpath.cli.exit_codes import ABORTED, EPILOG, OK, UNEXPECTED, exit_code_for
from goldenpath.cli.output import err, print_error
from goldenpath.errors import GoldenPathError
from goldenpath.logs import with_logging


def _flags_without_a_type() -> None:
    """Typer's help shows a `<bool>` type beside every flag (--json, --wait, --help, ...), as if
    it took a value: flags show none."""
    option = typer.core.TyperOption
    shown = getattr(option, "display_type_rich", None)
    if shown is None:  # a Typer that shows no types at all
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_without_a_type()
app = typer.Typer(
    rich_markup_mode="markdown",
    name="goldenpath",
    help="Golden Path: self-service golden paths. Request, watch, and manage what you own.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
app.command("up")(with_logging(server.up))
app.command("api")(with_logging(server.api))
app.command("worker")(with_logging(server.worker))
app.add_typer(server.db_app, name="db")
upgrades.register(templates.app, resources.app)
day2.register(resources.app)
app.add_typer(templates.app, name="templates")
app.add_typer(templates.backends_app, name="backends")
app.command("request", epilog=EPILOG)(requests.request)
app.add_typer(requests.app, name="requests")
app.add_typer(resources.app, name="resources")
app.add_typer(policies.app, name="policies")
policies.app.add_typer(prices.app, name="prices")
app.command("login")(identity.login)
app.command("whoami")(identity.whoami)
app.add_typer(identity.users_app, name="users")
app.add_typer(identity.teams_app, name="teams")
app.add_typer(identity.tokens_app, name="tokens")
app.add_typer(identity.audit_app, name="audit")
secrets_app = typer.Typer(
    rich_markup_mode="markdown", help="Secret outputs of your requests.", no_args_is_help=True
)
secrets_app.command("reveal")(requests.reveal_secrets)
app.add_typer(secrets_app, name="secrets")
app.add_typer(insights.app, name="insights")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"goldenpath {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Golden Path: self-service golden paths. Request, watch, and manage what you own."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting."""
    try:
        result = app(args=argv, prog_name="goldenpath", standalone_mode=False)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)  # usage errors print the usage line too
        if callable(show):
            show()
        else:
            print_error(exc)
        return exit_code_for(exc)
    except typer.Abort:
        # Click's answer to a prompt left with Ctrl-C or end of input: nothing was done.
        err.print("Aborted; nothing was done.")
        return ABORTED
    except KeyboardInterrupt as exc:
        err.print("Interrupted.")
        return exit_code_for(exc)
    except GoldenPathError as exc:
        print_error(exc)
        return exit_code_for(exc)
    except Exception as exc:
        if os.environ.get("GOLDENPATH_DEBUG"):
            err.print_exception()
        print_error(RuntimeError(f"unexpected {type(exc).__name__}: {exc}"))
        return UNEXPECTED
    return result if isinstance(result, int) else OK


def main() -> None:
    """The console script: ``goldenpath``."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
