"""Options shared by the client commands."""

from __future__ import annotations

from typing import Annotated

import typer

Url = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="GOLDENPATH_URL",
        help="Golden Path API to talk to.",
        show_default=True,
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON only, on stdout.")
]
TeamFilter = Annotated[str | None, typer.Option("--team", help="Only this team's.")]
