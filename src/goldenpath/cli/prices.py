"""``goldenpath policies prices``: the price table the platform estimates monthly costs from.

Run where the platform's data directory is (``GOLDENPATH_DATA_DIR``): the imported table is kept
there, and the platform reads it again as soon as it changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from goldenpath.cli import output

if TYPE_CHECKING:
    from goldenpath.policy.prices import PriceBook

app = typer.Typer(
    rich_markup_mode="markdown",
    help="The price table behind cost estimates and the budget guardrail.",
    no_args_is_help=True,
)


def _book() -> PriceBook:
    from goldenpath.policy.prices import PriceBook
    from goldenpath.settings import load_settings

    return PriceBook(load_settings().data_dir.resolve())


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The table in force: its source and date, and every hourly price."""
    table = _book().current()
    if as_json:
        output.print_json(
            {
                "source": table.source,
                "as_of": table.as_of,
                "origin": table.origin,
                "hours_per_month": table.hours_per_month,
                "prices": [
                    {"service": service, "region": region, "size": size, "hourly_usd": hourly}
                    for service, region, size, hourly in table.rows()
                ],
            }
        )
        return
    output.price_table(table)


@app.command("import")
def import_table(
    file: Annotated[
        Path,
        typer.Argument(
            help="A price table in JSON, shaped like the shipped one (docs/policies.md)."
        ),
    ],
) -> None:
    """Check a price table and make it the platform's; a bad file changes nothing (exit 2)."""
    table = _book().import_file(file)
    output.out.print(
        f"imported {len(table.rows())} prices (as of {table.as_of}) into {table.origin}"
    )
