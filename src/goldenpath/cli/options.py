"""Options shared by the client commands."""

from __future__ import annotations

from typing import Annotated

import typer

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="GOLDENPATH_URL",
        help="Golden Path API to talk to [default: the signed-in profile's, else "
        "http://127.0.0.1:8000].",
        show_default=False,
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON only, on stdout.")
]
TeamFilter = Annotated[str | None, typer.Option("--team", help="Only this team's.")]
