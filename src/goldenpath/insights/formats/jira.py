"""Jira: the CSV export (Issues → Export → CSV, all fields) and the REST API's issue JSON
(``/rest/api/2/search`` results, or a list of issues)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from goldenpath.insights.formats.csvrows import rows
from goldenpath.insights.formats.fields import RowReader, no_duplicates, optional
from goldenpath.insights.tickets import Parsed, Ticket


def read_csv(text: str, zone: tzinfo) -> Parsed:
    parsed = Parsed(format="jira-csv")
    for row in rows(text):
        reader = RowReader(row.line, zone, parsed.bad_rows)
        key = reader.required("Issue key", row.first("Issue key"))
        title = reader.required("Summary", row.first("Summary"))
        created = reader.date("Created", row.first("Created"), required=True)
        resolved = reader.date("Resolved", row.first("Resolved", "Resolution date"))
        updated = reader.date("Updated", row.first("Updated"))
        # "Time Spent" is the issue's total; each "Log Work" ends with the seconds logged.
        spent = reader.integer("Time Spent", row.first("Time Spent", "Σ Time Spent"))
        if spent is None and row.all("Log Work"):
            logged = [reader.integer("Log Work", w.rsplit(";", 1)[-1]) for w in row.all("Log Work")]
            spent = sum(s for s in logged if s is not None)
        if not reader.ok or created is None:
            continue
        ticket = Ticket(
            key=key,
            title=title,
            created=created,
            description=row.first("Description") or "",
            kind=optional(row.first("Issue Type")),
            status=optional(row.first("Status")),
            resolution=optional(row.first("Resolution")),
            resolved=resolved,
            updated=updated,
            assignee=optional(row.first("Assignee")),
            comments=len(row.all("Comment")),
            worklog_seconds=spent,
            line=row.line,
        )
        reader.check_order(ticket, "Resolved")
        if reader.ok:
            parsed.tickets.append(ticket)
    no_duplicates(parsed.tickets, parsed.bad_rows, "Issue key")
    return parsed


def read_json(document: Any, zone: tzinfo) -> Parsed:
    parsed = Parsed(format="jira-json")
    issues = document.get("issues", []) if isinstance(document, dict) else document
    for number, issue in enumerate(issues, start=1):
        reader = RowReader(number, zone, parsed.bad_rows)
        if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
            reader.problem("fields", "each issue must be an object with 'key' and 'fields'")
            continue
        fields: dict[str, Any] = issue["fields"]
        key = reader.required("key", issue.get("key"))
        title = reader.required("fields.summary", fields.get("summary"))
        created = reader.date("fields.created", fields.get("created"), required=True)
        resolved = reader.date("fields.resolutiondate", fields.get("resolutiondate"))
        updated = reader.date("fields.updated", fields.get("updated"))
        spent = reader.integer("fields.timespent", fields.get("timespent"))
        worklogs = (fields.get("worklog") or {}).get("worklogs") or []
        if spent is None and worklogs:
            spent = sum(int(w.get("timeSpentSeconds") or 0) for w in worklogs)
        comment = fields.get("comment") or {}
        comments = comment.get("total", len(comment.get("comments") or []))
        if not reader.ok or created is None:
            continue
        ticket = Ticket(
            key=key,
            title=title,
            created=created,
            description=_text(fields.get("description")),
            kind=_name(fields.get("issuetype")),
            status=_name(fields.get("status")),
            resolution=_name(fields.get("resolution")),
            resolved=resolved,
            updated=updated,
            assignee=_name(fields.get("assignee"), "displayName"),
            comments=int(comments or 0),
            worklog_seconds=spent,
            line=number,
        )
        reader.check_order(ticket, "fields.resolutiondate")
        if reader.ok:
            parsed.tickets.append(ticket)
    no_duplicates(parsed.tickets, parsed.bad_rows, "key")
    return parsed


def _name(value: Any, attribute: str = "name") -> str | None:
    if isinstance(value, dict):
        found = value.get(attribute) or value.get("name")
        return str(found) if found else None
    return str(value) if value else None


def _text(value: Any) -> str:
    """Plain text, or the text nodes of an Atlassian Document Format body (API v3)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        own = str(value.get("text", ""))
        return " ".join(p for p in [own, *(_text(c) for c in value.get("content", []))] if p)
    return str(value)
