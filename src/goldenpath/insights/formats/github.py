"""GitHub issues as the REST API lists them (``GET /repos/{owner}/{repo}/issues?state=all``,
a JSON list; pull requests in that list are skipped)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from goldenpath.insights.formats.fields import RowReader, no_duplicates
from goldenpath.insights.tickets import Parsed, Ticket


def read_json(document: Any, zone: tzinfo) -> Parsed:
    parsed = Parsed(format="github")
    for number, issue in enumerate(document, start=1):
        reader = RowReader(number, zone, parsed.bad_rows)
        if not isinstance(issue, dict):
            reader.problem("issue", "must be an object")
            continue
        if "pull_request" in issue:
            continue
        if not isinstance(issue.get("number"), int):
            reader.problem("number", "is required (an integer)")
            continue
        repository = str(issue.get("repository_url", "")).rsplit("/repos/", 1)[-1]
        key = f"{repository}#{issue['number']}" if repository else f"#{issue['number']}"
        title = reader.required("title", issue.get("title"))
        created = reader.date("created_at", issue.get("created_at"), required=True)
        # Closed as "not planned" is a refusal, not a delivery: no resolution time.
        closed = None if issue.get("state_reason") == "not_planned" else issue.get("closed_at")
        resolved = reader.date("closed_at", closed)
        updated = reader.date("updated_at", issue.get("updated_at"))
        if not reader.ok or created is None:
            continue
        labels = [str(label.get("name")) for label in issue.get("labels") or [] if label]
        assignee = issue.get("assignee") or {}
        ticket = Ticket(
            key=key,
            title=title,
            created=created,
            description=str(issue.get("body") or ""),
            kind=labels[0] if labels else None,
            status=str(issue.get("state") or "") or None,
            resolution=issue.get("state_reason"),
            resolved=resolved,
            updated=updated,
            assignee=assignee.get("login") if isinstance(assignee, dict) else None,
            comments=int(issue.get("comments") or 0),
            line=number,
        )
        reader.check_order(ticket, "closed_at")
        if reader.ok:
            parsed.tickets.append(ticket)
    no_duplicates(parsed.tickets, parsed.bad_rows, "number")
    return parsed
