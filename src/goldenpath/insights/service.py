"""The insights use cases: import an export, classify, override, report, draft.

Reading insights is for platform admins and approvers; importing and overriding for admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from goldenpath.errors import AccessDenied, InvalidInput, InvalidTicketFile, TicketNotFound
from goldenpath.identity.actor import Actor
from goldenpath.insights.bill import Bill, BillInputs, make_bill
from goldenpath.insights.classification import Classifier
from goldenpath.insights.clusters import candidate_types
from goldenpath.insights.draft import draft_template
from goldenpath.insights.formats import read_export
from goldenpath.insights.ranking import Candidate, GuardrailFriction, candidates, guardrail_friction
from goldenpath.insights.statistics import PathRun, TicketType, path_runs, ticket_types, type_of
from goldenpath.store import tickets as store
from goldenpath.store.database import Database
from goldenpath.templates.loader import TemplateCatalog


@dataclass(frozen=True)
class ImportResult:
    format: str
    source: str
    read: int
    inserted: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Report:
    since: datetime | None
    until: datetime | None
    types: list[TicketType]
    runs: list[PathRun]
    bill: Bill
    next_paths: list[Candidate]
    friction: list[GuardrailFriction]

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ticket_types": [t.as_dict() for t in self.types],
            "paths": [r.as_dict() for r in self.runs],
            "bill": self.bill.as_dict(),
            "next": [c.as_dict() for c in self.next_paths],
            "guardrails": [g.as_dict() for g in self.friction],
        }


def _may_read(actor: Actor) -> None:
    if not (actor.is_admin or "approver" in actor.roles):
        raise AccessDenied(problem="insights are for platform admins and approvers")


def _may_manage(actor: Actor) -> None:
    if not actor.is_admin:
        raise AccessDenied(problem="only a platform-admin may import or reclassify tickets")


class Insights:
    def __init__(
        self, database: Database, catalog: TemplateCatalog, inputs: BillInputs | None = None
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.inputs = inputs or BillInputs()

    def _classifier(self) -> Classifier:
        return Classifier(list(self.catalog))

    def import_export(
        self,
        data: bytes,
        actor: Actor,
        *,
        format: str | None = None,
        mapping: str | None = None,
        timezone: str = "UTC",
        source: str | None = None,
    ) -> ImportResult:
        """Read the whole file first: one bad row and nothing is imported."""
        _may_manage(actor)
        parsed = read_export(data, format=format, mapping=mapping, timezone=timezone)
        if parsed.bad_rows:
            raise InvalidTicketFile(
                count=len(parsed.bad_rows),
                first="; ".join(str(b) for b in parsed.bad_rows[:5]),
                rows=[b.as_dict() for b in parsed.bad_rows],
            )
        name = source or parsed.format
        if not name or len(name) > 100:
            raise InvalidInput(field="source", rule="must be 1 to 100 characters")
        matches = self._classifier().classify(
            [f"{t.title}\n{t.description[:500]}" for t in parsed.tickets]
        )
        rows = []
        for ticket, match in zip(parsed.tickets, matches, strict=True):
            row = ticket.row(name)
            row.update(path=match.path, score=match.score, method=match.method)
            rows.append(row)
        with self.database.begin() as conn:
            counts = store.upsert_tickets(conn, rows)
            self._recluster(conn)
        return ImportResult(
            parsed.format, name, len(rows), counts.inserted, counts.updated, counts.unchanged
        )

    def classify(self, actor: Actor) -> int:
        """Classify every ticket again (after templates changed); returns how many."""
        _may_manage(actor)
        with self.database.begin() as conn:
            found = store.stored_tickets(conn)
            matches = self._classifier().classify(
                [f"{t.title}\n{t.description[:500]}" for t in found]
            )
            store.set_classes(
                conn,
                (
                    (t.source, t.key, m.path, m.score, m.method)
                    for t, m in zip(found, matches, strict=True)
                ),
            )
            self._recluster(conn)
        return len(found)

    def _recluster(self, conn: Any) -> None:
        unmatched = [t for t in store.stored_tickets(conn) if t.path is None]
        names = candidate_types([t.title for t in unmatched])
        store.set_candidates(
            conn, ((t.source, t.key, n) for t, n in zip(unmatched, names, strict=True))
        )

    def override(self, source: str, key: str, class_name: str | None, actor: Actor) -> None:
        """Set a ticket's class (a golden path's name, or a ticket type); None clears it."""
        _may_manage(actor)
        if "\x00" in source + key:  # PostgreSQL text holds no NUL: no ticket is named so
            raise TicketNotFound(source=source, key=key)
        with self.database.begin() as conn:
            if not store.ticket_exists(conn, source, key):
                raise TicketNotFound(source=source, key=key)
            if class_name is None:
                store.clear_override(conn, source, key)
            else:
                if not class_name.strip() or len(class_name) > 200:
                    raise InvalidInput(field="class", rule="must be 1 to 200 characters")
                store.set_override(conn, source, key, class_name.strip(), actor.user)

    def replaces(self) -> dict[str, str]:
        return {t.name: t.document.spec.replaces for t in self.catalog if t.document.spec.replaces}

    def report(
        self,
        actor: Actor,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        inputs: BillInputs | None = None,
    ) -> Report:
        _may_read(actor)
        chosen = inputs or self.inputs
        with self.database.begin() as conn:
            found = store.stored_tickets(conn, since, until)
            requests = store.platform_requests(conn, since, until)
        types = ticket_types(found, self.replaces())
        runs = path_runs(requests)
        return Report(
            since=since,
            until=until,
            types=types,
            runs=runs,
            bill=make_bill(runs, types, chosen),
            next_paths=candidates(types, chosen),
            friction=guardrail_friction(runs),
        )

    def draft(self, type_name: str, actor: Actor) -> str:
        _may_read(actor)
        replaces = self.replaces()
        with self.database.begin() as conn:
            found = [t for t in store.stored_tickets(conn) if type_of(t, replaces)[0] == type_name]
        if not found:
            raise TicketNotFound(source="*", key=f"of type '{type_name}'")
        return draft_template(type_name, found)
