"""Any CSV, with a column mapping: ``created=Opened,resolved=Done,key=ID,title=Subject``.

Fields: ``key``, ``title`` and ``created`` are required; ``resolved``, ``description``,
``kind``, ``status``, ``assignee``, ``updated`` and ``worklog_seconds`` are optional."""

from __future__ import annotations

from datetime import tzinfo

from goldenpath.errors import InvalidInput
from goldenpath.insights.formats.csvrows import Row, read_header, rows
from goldenpath.insights.formats.fields import RowReader, no_duplicates, optional
from goldenpath.insights.tickets import Parsed, Ticket

FIELDS = (
    "key", "title", "created", "resolved", "description", "kind", "status", "assignee",
    "updated", "worklog_seconds",
)  # fmt: skip
REQUIRED = ("key", "title", "created")


def parse_mapping(text: str) -> dict[str, str]:
    """``created=Opened,resolved=Done`` as {field: column}; unknown fields are refused."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = part.partition("=")
        field = field.strip()
        if not sep or not column.strip():
            raise InvalidInput(field="map", rule=f"'{part}' must be field=Column")
        if field not in FIELDS:
            raise InvalidInput(
                field="map", rule=f"unknown field '{field}' (one of {', '.join(FIELDS)})"
            )
        mapping[field] = column.strip()
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise InvalidInput(field="map", rule=f"must map {', '.join(missing)}")
    return mapping


def read_csv(text: str, zone: tzinfo, mapping: dict[str, str]) -> Parsed:
    header = {h.lower() for h in read_header(text)}
    absent = [c for c in mapping.values() if c.lower() not in header]
    if absent:
        raise InvalidInput(field="map", rule=f"no column named {', '.join(absent)} in the file")
    parsed = Parsed(format="csv")
    for row in rows(text):
        reader = RowReader(row.line, zone, parsed.bad_rows)

        def get(field: str, row: Row = row) -> str | None:
            return row.first(mapping[field]) if field in mapping else None

        key = reader.required(mapping["key"], get("key"))
        title = reader.required(mapping["title"], get("title"))
        created = reader.date(mapping["created"], get("created"), required=True)
        resolved = reader.date(mapping.get("resolved", "resolved"), get("resolved"))
        updated = reader.date(mapping.get("updated", "updated"), get("updated"))
        worked = reader.integer(mapping.get("worklog_seconds", ""), get("worklog_seconds"))
        if not reader.ok or created is None:
            continue
        ticket = Ticket(
            key=key,
            title=title,
            created=created,
            description=get("description") or "",
            kind=optional(get("kind")),
            status=optional(get("status")),
            resolved=resolved,
            updated=updated,
            assignee=optional(get("assignee")),
            worklog_seconds=worked,
            line=row.line,
        )
        reader.check_order(ticket, mapping.get("resolved", "resolved"))
        if reader.ok:
            parsed.tickets.append(ticket)
    no_duplicates(parsed.tickets, parsed.bad_rows, mapping["key"])
    return parsed
