"""Reading one field of one record into a ticket value, collecting what is wrong."""

from __future__ import annotations

from datetime import datetime, tzinfo

from goldenpath.insights.dates import is_null, parse_datetime
from goldenpath.insights.tickets import BadRow, Ticket


class RowReader:
    """Reads the fields of one record at ``line``; every problem is added to ``bad_rows``."""

    def __init__(self, line: int, zone: tzinfo, bad_rows: list[BadRow]) -> None:
        self.line = line
        self.zone = zone
        self.bad_rows = bad_rows
        self.ok = True

    def problem(self, field: str, rule: str) -> None:
        self.ok = False
        self.bad_rows.append(BadRow(self.line, field, rule))

    def required(self, field: str, value: str | None) -> str:
        if is_null(value):
            self.problem(field, "is required")
            return ""
        return str(value).strip()

    def date(self, field: str, value: str | None, *, required: bool = False) -> datetime | None:
        if is_null(value):
            if required:
                self.problem(field, "is required")
            return None
        try:
            return parse_datetime(str(value), self.zone)
        except ValueError as exc:
            self.problem(field, str(exc))
            return None

    def integer(self, field: str, value: str | int | None) -> int | None:
        if value is None or (isinstance(value, str) and is_null(value)):
            return None
        try:
            return int(float(value))
        except (TypeError, ValueError):
            self.problem(field, f"'{value}' is not a number")
            return None

    def check_order(self, ticket: Ticket, resolved_field: str) -> None:
        if ticket.resolved is not None and ticket.resolved < ticket.created:
            self.problem(resolved_field, "is before the creation date")


def optional(value: str | None) -> str | None:
    return None if is_null(value) else str(value).strip()


def no_duplicates(tickets: list[Ticket], bad_rows: list[BadRow], field: str) -> None:
    first_line: dict[str, int] = {}
    for ticket in tickets:
        if ticket.key in first_line:
            bad_rows.append(
                BadRow(
                    ticket.line,
                    field,
                    f"'{ticket.key}' appears twice (first at line {first_line[ticket.key]})",
                )
            )
        else:
            first_line[ticket.key] = ticket.line
