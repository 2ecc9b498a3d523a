"""A ticket as imported from a tracker, and the problems found while reading an export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Ticket:
    """One ticket of an export, whatever the tracker: the same fields for every format.

    ``key`` is the tracker's id (``OPS-12``, ``INC0010001``, ``#42``); with the import's
    ``source`` it is the ticket's identity, so importing the same export twice changes nothing.
    """

    key: str
    title: str
    created: datetime
    description: str = ""
    kind: str | None = None  # the tracker's own type or category (issuetype, category, label)
    status: str | None = None
    resolution: str | None = None
    resolved: datetime | None = None
    updated: datetime | None = None
    assignee: str | None = None
    comments: int = 0
    worklog_seconds: int | None = None  # time logged by whoever handled it, when exported
    line: int = 0  # where it starts in the file, for messages

    @property
    def lead_seconds(self) -> float | None:
        """Created to resolved: the queue and the work, as the requester lived it."""
        if self.resolved is None:
            return None
        return (self.resolved - self.created).total_seconds()

    def row(self, source: str) -> dict[str, Any]:
        return {
            "source": source,
            "ticket_key": self.key,
            "title": self.title,
            "description": self.description,
            "kind": self.kind,
            "status": self.status,
            "resolution": self.resolution,
            "created_at": self.created,
            "resolved_at": self.resolved,
            "updated_at": self.updated,
            "assignee": self.assignee,
            "comments": self.comments,
            "worklog_seconds": self.worklog_seconds,
        }


@dataclass(frozen=True)
class BadRow:
    """One row the importer could not read: where, which field, and the rule it broke."""

    line: int
    field: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule}

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.rule}"


@dataclass
class Parsed:
    """What a reader made of a file: the tickets, and every bad row (then nothing is imported)."""

    format: str
    tickets: list[Ticket] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
