"""What the CLI prints: Rich tables for people, plain JSON for scripts, errors on stderr.

Values that come from users or servers are printed as `Text`, never as Rich markup, so a name
like ``[red]x`` shows as typed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from goldenpath.cli.client import CliError

if TYPE_CHECKING:
    from goldenpath.policy.prices import PriceTable

# Piped output is read by tools like grep, which a hard wrap at Rich's default 80 columns breaks.
_PIPE_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
out = Console(highlight=False, width=_PIPE_WIDTH)
err = Console(stderr=True, highlight=False)

STATUS_STYLES = {
    "pending": "dim",
    "pending_approval": "yellow",
    "queued": "dim",
    "running": "cyan",
    "succeeded": "green",
    "active": "green",
    "skipped": "dim",
    "failed": "bold red",
    "rollback_failed": "bold red",
    "rejected": "bold red",
    "cancelled": "yellow",
    "rolling_back": "yellow",
    "rolled_back": "yellow",
    "destroying": "yellow",
    "destroyed": "dim",
    "drifted": "yellow",
}


def print_json(data: Any) -> None:
    """Machine-readable output: JSON only, on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _table(*headers: str, title: str | None = None) -> Table:
    """A table whose ``id``/``name`` columns are never cut short and whose others wrap: ids and
    names are what people copy into the next command."""
    grid = Table(title=title)
    for header in headers:
        if header in ("id", "name"):
            grid.add_column(header, no_wrap=True, overflow="fold", min_width=len(header))
        else:
            grid.add_column(header)
    return grid


def simple_table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    """Plain rows of text under their headers."""
    grid = _table(*headers)
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    out.print(grid)


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def print_error(error: BaseException) -> None:
    """An error on stderr; bad input lists each field with its rule."""
    fields = error.fields if isinstance(error, CliError) else []
    violations = error.extra.get("violations", []) if isinstance(error, CliError) else []
    if violations:
        err.print(Text("Denied by guardrails:", style="bold red"))
        for violation in violations:
            err.print(Text(f"  {violation['policy']}: {violation['message']}"), soft_wrap=True)
        err.print(
            Text(
                'To ask for an exception, submit again with --justification "why this is needed".'
            ),
            soft_wrap=True,
        )
        return
    if fields:
        err.print(Text("Invalid input:", style="bold red"))
        for field in fields:
            err.print(Text(f"  {field['field']}: {field['rule']}"), soft_wrap=True)
        return
    err.print(Text("Error: ", style="bold red") + Text(str(error)), soft_wrap=True)


# --- templates ------------------------------------------------------------------------------


def templates_table(templates: Iterable[Mapping[str, Any]]) -> None:
    table = _table("name", "version", "title", "cost/month", "approval", "status")
    for t in templates:
        needs = t.get("needs_setup") or []
        table.add_row(
            Text(t["name"], style="bold"),
            Text(t["version"]),
            Text(t["title"]),
            f"${t['monthly_cost_usd']:g}",
            Text(t["approval"]),
            Text("needs setup: " + ", ".join(needs), style="yellow") if needs else Text("ready"),
        )
    out.print(table)


def template_problems_table(problems: Iterable[Mapping[str, Any]]) -> None:
    table = _table("file", "field", "line", "problem")
    for p in problems:
        table.add_row(
            Text(p["file"], style="bold"), Text(p["field"]), Text(p["line"]), Text(p["problem"])
        )
    out.print(table)


def backends_table(backends: Iterable[Mapping[str, Any]]) -> None:
    table = _table("name", "kind", "status", "needed by")
    for b in backends:
        status = Text("configured") if b["configured"] else Text("MISSING", style="bold yellow")
        table.add_row(
            Text(b["name"], style="bold"), Text(b["kind"]), status, ", ".join(b["needed_by"])
        )
    out.print(table)


def backend_checks_table(checks: Iterable[Mapping[str, Any]]) -> None:
    table = _table("name", "kind", "reachable", "detail")
    for c in checks:
        reachable = c["reachable"]
        answer = (
            Text("yes", style="green")
            if reachable
            else Text("NO", style="bold red")
            if reachable is False
            else Text("unchecked", style="dim")
        )
        table.add_row(Text(c["name"], style="bold"), Text(c["kind"]), answer, Text(c["detail"]))
    out.print(table)


def template_detail(t: Mapping[str, Any]) -> None:
    out.print(Text(f"{t['name']}@{t['version']}", style="bold") + Text(f" — {t['title']}"))
    if t.get("description"):
        out.print(Text(t["description"]))
    out.print(
        Text(f"owner {t['owner']}, approval {t['approval']}, ${t['monthly_cost_usd']:g}/month")
    )
    params = _table(
        "parameter", "type", "default", "enum", "pattern", "required", title="Parameters"
    )
    for name, prop, required in _parameters(t.get("parameters") or []):
        params.add_row(
            Text(name, style="bold"),
            Text(str(prop.get("type", ""))),
            Text(_compact(prop["default"]) if "default" in prop else ""),
            Text(", ".join(str(v) for v in prop.get("enum", []))),
            Text(str(prop.get("pattern", ""))),
            "yes" if required else "",
        )
    out.print(params)
    steps = _table("step", "name", "action", title="Steps")
    for step in t.get("steps") or []:
        steps.add_row(Text(step["id"]), Text(step["name"]), Text(step["action"]))
    out.print(steps)
    outputs = t.get("outputs") or {}
    out.print(Text("Outputs: ") + Text(", ".join(outputs.get("values", [])) or "-"))
    out.print(Text("Secrets: ") + Text(", ".join(outputs.get("secrets", [])) or "-"))


def _parameters(pages: list[Mapping[str, Any]]) -> Iterable[tuple[str, Mapping[str, Any], bool]]:
    for page in pages:
        required = set(page.get("required", []))
        for name, prop in (page.get("properties") or {}).items():
            yield name, prop if isinstance(prop, Mapping) else {}, name in required


# --- requests -------------------------------------------------------------------------------

SANDBOX_TEXT = "SANDBOX: made on local stand-ins, not production"


def sandbox_label(*records: Mapping[str, Any]) -> None:
    """One line saying so when what is shown comes from a sandbox platform."""
    if any(r.get("sandbox") for r in records):
        out.print(Text(SANDBOX_TEXT, style="bold yellow"))


def plan(preview: Mapping[str, Any]) -> None:
    sandbox_label(preview)
    out.print(
        Text(f"Dry run of {preview['template']}@{preview['version']}", style="bold")
        + Text(" — nothing was created.")
    )
    out.print(Text("Parameters: ") + Text(_compact(preview.get("parameters", {}))), soft_wrap=True)
    table = _table("step", "type", "name", "backend", "config", title="Resources")
    for resource in preview["plan"].get("resources", []):
        table.add_row(
            Text(str(resource.get("step", ""))),
            Text(str(resource.get("type", ""))),
            Text(str(resource.get("name", "")), style="bold"),
            Text(str(resource.get("backend", ""))),
            Text(_compact(resource.get("config", {}))),
        )
    out.print(table)
    costs = preview["plan"].get("costs") or {}
    priced = [row for row in costs.get("resources", []) if row.get("monthly_cost_usd")]
    if priced:
        table = _table(
            "resource",
            "size",
            "count",
            "region",
            "USD/month",
            "priced by",
            title="Estimated monthly cost",
        )
        for row in priced:
            table.add_row(
                Text(str(row["address"])),
                Text(str(row.get("size") or "")),
                Text(str(row.get("count", ""))),
                Text(str(row.get("region") or "")),
                Text(f"{row['monthly_cost_usd']:.2f}", justify="right"),
                Text(str(row.get("priced_by") or "")),
            )
        out.print(table)
    cost = preview["plan"].get("total_monthly_cost_usd")
    if cost is not None:
        out.print(Text(f"Estimated cost: ${cost:g}/month"))
    if priced and costs.get("price_table"):
        table_info = costs["price_table"]
        out.print(Text(f"Prices: {table_info.get('origin')} table of {table_info.get('as_of')}"))
    verdict(preview.get("verdict") or {})


def price_table(table: PriceTable) -> None:
    """The price table in force: where it comes from, then every hourly price."""
    out.print(Text(f"Price table: {table.origin}, as of {table.as_of}"))
    out.print(Text(f"Source: {table.source}"), soft_wrap=True)
    grid = _table("service", "region", "size", "USD/hour", "USD/month")
    for service, region, size, hourly in table.rows():
        grid.add_row(
            Text(service),
            Text(region),
            Text(size),
            Text(f"{hourly:g}", justify="right"),
            Text(f"{hourly * table.hours_per_month:.2f}", justify="right"),
        )
    out.print(grid)


def verdict(result: Mapping[str, Any]) -> None:
    """The guardrails' verdict: allow, require_approval, or deny with every violation."""
    decision = str(result.get("decision", "allow"))
    style = {"allow": "green", "require_approval": "yellow"}.get(decision, "red")
    out.print(Text("Guardrails: ") + Text(decision, style=f"bold {style}"))
    for group in ("violations", "approvals", "warnings"):
        for item in result.get(group, []):
            out.print(Text(f"  {group[:-1]}: {item['policy']}: {item['message']}"), soft_wrap=True)


def policy_report(files: Iterable[Mapping[str, Any]], problems: Iterable[str]) -> None:
    """What each loaded policy file contributes, then every problem (the files to fix)."""
    table = _table("file", "package", "evaluated by", "rego", "rules")
    for f in files:
        table.add_row(
            Text(f["file"]),
            Text(f["package"]),
            Text(f["group"] if not f["helper"] else "helper library (used by other policies)"),
            Text(f["rego"]),
            Text(", ".join(f["rules"])),
        )
    out.print(table)
    shown = list(problems)
    for problem in shown:
        err.print(Text("problem: ", style="bold red") + Text(problem), soft_wrap=True)
    summary = f"{len(shown)} problem(s)" if shown else "no problems"
    out.print(Text(summary, style="bold red" if shown else "green"))


def requests_table(requests: Iterable[Mapping[str, Any]]) -> None:
    requests = list(requests)
    sandbox_label(*requests)
    table = _table("id", "template", "kind", "status", "team", "by", "created")
    for r in requests:
        table.add_row(
            Text(r["id"]),
            Text(f"{r['template']}@{r['version']}"),
            Text(r.get("kind", "create")),
            status_text(r["status"]),
            Text(r["team"]),
            Text(r["requested_by"]),
            Text(str(r["created_at"])[:19]),
        )
    out.print(table)


def request_detail(r: Mapping[str, Any]) -> None:
    sandbox_label(r)
    out.print(Text(f"Request {r['id']}", style="bold"), soft_wrap=True)
    out.print(Text("status: ") + status_text(r["status"]))
    for label, key in (("template", "template"), ("team", "team"), ("by", "requested_by")):
        out.print(Text(f"{label}: {r[key]}"))
    out.print(Text("parameters: ") + Text(_compact(r.get("parameters", {}))), soft_wrap=True)
    steps = _table("step", "action", "status", "seconds", "error", title="Steps")
    for s in r.get("steps", []):
        seconds = s.get("duration_seconds")
        steps.add_row(
            Text(s["name"]),
            Text(s["action"]),
            status_text(s["status"]),
            f"{seconds:.1f}" if seconds is not None else "",
            Text(s.get("error") or "", style="red"),
        )
    out.print(steps)
    if r.get("outputs"):
        outputs(r["outputs"], r["id"])
    if r.get("error"):
        out.print(Text("error: ", style="bold red") + Text(r["error"]), soft_wrap=True)


def outputs(values: Mapping[str, Any], request_id: str, *, secrets_shown: bool = False) -> None:
    for name, value in (values.get("values") or {}).items():
        out.print(Text(f"{name}: ", style="bold") + Text(_compact(value)), soft_wrap=True)
    if values.get("text"):
        out.print(Text(str(values["text"])), soft_wrap=True)
    if values.get("secrets") and not secrets_shown:
        names = ", ".join(values["secrets"])
        hint = f"secrets: {names} (goldenpath secrets reveal {request_id})"
        out.print(Text(hint, style="dim"), soft_wrap=True)


def secrets(values: Mapping[str, Any], request_id: str) -> None:
    """Secrets on one line each, unwrapped, so they can be copied as they are."""
    again = f"`goldenpath secrets reveal {request_id}` shows them again, audited"
    out.print(Text(f"Secrets (keep them safe; {again}):", style="bold yellow"), soft_wrap=True)
    for name, value in values.items():
        out.print(Text(f"{name}: ", style="bold") + Text(_compact(value)), soft_wrap=True)


# --- resources ------------------------------------------------------------------------------


def resources_table(resources: Iterable[Mapping[str, Any]]) -> None:
    resources = list(resources)
    sandbox_label(*resources)
    table = _table("id", "kind", "name", "team", "state", "created")
    for r in resources:
        table.add_row(
            Text(r["id"]),
            Text(r["kind"]),
            Text(r["name"], style="bold"),
            Text(r["team"]),
            status_text(r["state"]),
            Text(str(r["created_at"])[:19]),
        )
    out.print(table)


def resource_detail(r: Mapping[str, Any]) -> None:
    sandbox_label(r)
    out.print(Text(f"Resource {r['id']}", style="bold"), soft_wrap=True)
    out.print(Text("state: ") + status_text(r["state"]))
    for key in ("kind", "name", "backend", "team", "template", "request_id", "expires_at"):
        if r.get(key) is not None:
            out.print(Text(f"{key}: {r[key]}"), soft_wrap=True)
    out.print(Text("config: ") + Text(_compact(r.get("config", {}))), soft_wrap=True)
    for name, value in (r.get("outputs") or {}).items():
        out.print(Text(f"{name}: ", style="bold") + Text(_compact(value)), soft_wrap=True)
    if r.get("error"):
        out.print(Text("error: ", style="bold red") + Text(r["error"]), soft_wrap=True)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
