"""ServiceNow: a table export of incidents or requests, or an *event log* of them (one row per
update of a ticket, as in the audit-history exports) — then the rows of one ``number`` are
collapsed into one ticket: the earliest ``opened_at``, the last ``resolved_at``/``closed_at``,
and the latest non-empty value of every other field. ``?`` is a null."""

from __future__ import annotations

from datetime import datetime, tzinfo

from goldenpath.insights.formats.csvrows import Row, rows
from goldenpath.insights.formats.fields import RowReader, optional
from goldenpath.insights.tickets import BadRow, Parsed, Ticket


def read_csv(text: str, zone: tzinfo) -> Parsed:
    parsed = Parsed(format="servicenow")
    by_number: dict[str, list[Row]] = {}
    for row in rows(text):
        number = optional(row.first("number"))
        if number is None:
            parsed.bad_rows.append(BadRow(row.line, "number", "is required"))
            continue
        by_number.setdefault(number, []).append(row)
    for number, events in by_number.items():
        ticket = _collapse(number, events, zone, parsed.bad_rows)
        if ticket is not None:
            parsed.tickets.append(ticket)
    return parsed


def _collapse(number: str, events: list[Row], zone: tzinfo, bad: list[BadRow]) -> Ticket | None:
    ok = True
    opened: list[datetime] = []
    resolved: list[datetime] = []
    updated: list[datetime] = []
    for event in events:
        reader = RowReader(event.line, zone, bad)
        when = reader.date("opened_at", event.first("opened_at"), required=True)
        done = reader.date("resolved_at", event.first("resolved_at"))
        closed = reader.date("closed_at", event.first("closed_at"))
        touched = reader.date("sys_updated_at", event.first("sys_updated_at", "sys_updated_on"))
        ok = ok and reader.ok
        if when:
            opened.append(when)
        last = done or closed
        if last is not None:
            resolved.append(last)
        if touched:
            updated.append(touched)
    if not ok or not opened:
        return None

    def latest(*names: str) -> str | None:
        for event in reversed(events):
            value = optional(event.first(*names))
            if value is not None:
                return value
        return None

    parts = [latest(n) for n in ("category", "subcategory", "u_symptom")]
    title = latest("short_description") or " / ".join(p for p in parts if p) or number
    ticket = Ticket(
        key=number,
        title=title,
        created=min(opened),
        description=latest("description") or "",
        kind=latest("category"),
        status=latest("state", "incident_state"),
        resolution=latest("close_code", "closed_code"),
        resolved=max(resolved) if resolved else None,
        updated=max(updated) if updated else None,
        assignee=latest("assigned_to"),
        comments=max(0, len(events) - 1),
        worklog_seconds=_seconds(latest("time_worked", "business_duration")),
        line=events[0].line,
    )
    if ticket.resolved is not None and ticket.resolved < ticket.created:
        bad.append(BadRow(events[-1].line, "resolved_at", "is before opened_at"))
        return None
    return ticket


def _seconds(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
