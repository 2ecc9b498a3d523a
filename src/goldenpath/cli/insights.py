"""``goldenpath insights``: the TicketOps bill, on the platform's host (like ``db``): these
commands read the configured platform database directly, as the platform itself."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from goldenpath.cli import output
from goldenpath.errors import InvalidInput

if TYPE_CHECKING:
    from goldenpath.app import Platform
    from goldenpath.identity.actor import Actor
    from goldenpath.insights.service import Report

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Insights: ticket history, time and money saved, what to build next.",
)
ACTOR = "insights-cli"


def _platform() -> Platform:
    from goldenpath.app import build_platform
    from goldenpath.settings import load_settings

    return build_platform(load_settings())


def _actor() -> Actor:
    from goldenpath.identity.actor import system_actor

    return system_actor(ACTOR)


@app.command("import")
def import_tickets(
    file: Annotated[Path, typer.Argument(help="A ticket export.", exists=True, dir_okay=False)],
    format: Annotated[
        str | None,
        typer.Option(help="jira-csv, jira-json, github, servicenow or csv (default: guessed)."),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="Generic CSV columns: key=ID,title=Subject,created=Opened,..."),
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone of dates written without one.")] = "UTC",
    source: Annotated[
        str | None, typer.Option(help="Name of the tracker (default: format).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import an export; the same file twice changes nothing, a bad row imports nothing."""
    platform = _platform()
    try:
        result = platform.insights.import_export(
            file.read_bytes(), _actor(), format=format, mapping=mapping, timezone=timezone,
            source=source,
        )  # fmt: skip
    finally:
        platform.close()
    if as_json:
        output.print_json(result.as_dict())
    else:
        output.out.print(
            f"{result.read} tickets read ({result.format}, source '{result.source}'): "
            f"{result.inserted} new, {result.updated} updated, {result.unchanged} unchanged"
        )


@app.command("classify")
def classify() -> None:
    """Classify every ticket again (after golden paths changed)."""
    platform = _platform()
    try:
        count = platform.insights.classify(_actor())
    finally:
        platform.close()
    output.out.print(f"{count} tickets classified")


@app.command("override")
def override(
    source: Annotated[str, typer.Argument(help="The import's source, e.g. jira-csv.")],
    key: Annotated[str, typer.Argument(help="The ticket's id, e.g. OPS-12.")],
    class_name: Annotated[
        str | None, typer.Argument(help="A golden path or ticket type; omit with --clear.")
    ] = None,
    clear: Annotated[bool, typer.Option(help="Remove the override.")] = False,
) -> None:
    """Set a ticket's class by hand."""
    if class_name is None and not clear:
        raise InvalidInput(field="CLASS", rule="give a class, or --clear")
    platform = _platform()
    try:
        platform.insights.override(source, key, None if clear else class_name, _actor())
    finally:
        platform.close()
    output.out.print(f"{source}/{key}: {'cleared' if clear else class_name}")


@app.command("draft")
def draft(type_name: Annotated[str, typer.Argument(help="A ticket type of the report.")]) -> None:
    """Print a golden path skeleton for a ticket type (`> my-path.yaml`)."""
    platform = _platform()
    try:
        typer.echo(platform.insights.draft(type_name, _actor()), nl=False)
    finally:
        platform.close()


def _date(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(field=field, rule="must be an ISO date, e.g. 2025-01-31") from exc


@app.command("report")
def report(
    since: Annotated[str | None, typer.Option(help="Window start (ISO date).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end (ISO date, excluded).")] = None,
    hourly_cost: Annotated[float | None, typer.Option(min=0)] = None,
    hours_per_day: Annotated[float | None, typer.Option(min=0.1, max=24)] = None,
    minutes_per_ticket: Annotated[float | None, typer.Option(min=0)] = None,
    ops_headcount: Annotated[int | None, typer.Option(min=0)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    html: Annotated[Path | None, typer.Option(help="Write a standalone HTML report here.")] = None,
) -> None:
    """Ticket baseline vs the platform, the bill, and what to build next."""
    import dataclasses

    platform = _platform()
    try:
        chosen: dict[str, Any] = {
            "hourly_cost": hourly_cost, "hours_per_day": hours_per_day,
            "minutes_per_ticket": minutes_per_ticket, "ops_headcount": ops_headcount,
        }  # fmt: skip
        inputs = dataclasses.replace(
            platform.insights.inputs, **{k: v for k, v in chosen.items() if v is not None}
        )
        found = platform.insights.report(
            _actor(), since=_date(since, "--since"), until=_date(until, "--until"), inputs=inputs
        )
    finally:
        platform.close()
    if html is not None:
        from goldenpath.insights.html import standalone_html

        html.write_text(standalone_html(found), encoding="utf-8")
    if as_json:
        output.print_json(found.as_dict())
    else:
        print_report(found)


def _days(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 86400:.2f} d"


def _lead(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def print_report(found: Report) -> None:
    output.out.print("[bold]Ticket types[/bold]")
    output.simple_table(
        ["type", "golden path", "tickets", "median", "p90"],
        [
            [
                t.name,
                t.path or "none yet",
                str(t.count),
                _days(t.median_seconds),
                _days(t.p90_seconds),
            ]
            for t in found.types
        ],
    )
    output.out.print("[bold]Golden paths on the platform[/bold]")
    output.simple_table(
        ["path", "requests", "median lead", "p95 lead", "no human touch", "failure rate"],
        [
            [
                r.name, str(r.requests), _lead(r.median_lead_seconds), _lead(r.p95_lead_seconds),
                "-" if r.no_touch_share is None else f"{r.no_touch_share:.0%}",
                "-" if r.failure_rate is None else f"{r.failure_rate:.0%}",
            ]
            for r in found.runs
        ],
    )  # fmt: skip
    bill = found.bill
    output.out.print("[bold]The bill[/bold]")
    for saving in bill.paths:
        output.out.print(f"{saving.path} (replaces '{saving.ticket_type}'):", markup=False)
        for label, figure in (
            ("saved per request", saving.saved_per_request),
            ("idle hours", saving.idle_hours),
            ("idle cost", saving.idle_cost),
            ("ops hours", saving.ops_hours),
            ("ops cost", saving.ops_cost),
        ):
            output.out.print(f"  {label}: {figure.formula}", markup=False)
    output.out.print(f"total: {bill.total_cost.formula}", markup=False)
    for label, share in (("before", bill.share_before), ("after", bill.share_after)):
        if share is not None:
            output.out.print(
                f"share of ops time servicing requests {label}: {share.value:.0%} "
                f"({share.formula})",
                markup=False,
            )
    output.out.print("[bold]What to build next[/bold]")
    for rank, candidate in enumerate(found.next_paths, start=1):
        examples = "; ".join(f"{k} {t}" for k, t in candidate.ticket_type.examples)
        output.out.print(
            f"{rank}. {candidate.ticket_type.name}: {candidate.as_dict()['formula']} "
            f"(e.g. {examples})",
            markup=False,
        )
    for friction in found.friction:
        output.out.print(
            f"guardrail {friction.policy}: {friction.denied} denied, "
            f"{friction.exceptions} exceptions",
            markup=False,
        )
