"""Queries of the insights tables: bulk upsert of imported tickets (COPY into a temporary
table, then one INSERT ... ON CONFLICT), classes, overrides, and the platform's requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from goldenpath.store import tables

COLUMNS = (
    "source", "ticket_key", "title", "description", "kind", "status", "resolution",
    "created_at", "resolved_at", "updated_at", "assignee", "comments", "worklog_seconds",
    "path", "score", "method",
)  # fmt: skip
_COMPARED = [c for c in COLUMNS if c not in ("source", "ticket_key")]


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int


def upsert_tickets(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> UpsertCounts:
    """Insert new tickets and update changed ones; identical ones are left untouched."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE gp_tickets_in (LIKE gp_tickets INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        with cursor.copy(f"COPY gp_tickets_in ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in COLUMNS])
        changed = ", ".join(f"{c} = excluded.{c}" for c in _COMPARED)
        differs = " OR ".join(f"t.{c} IS DISTINCT FROM excluded.{c}" for c in _COMPARED)
        cursor.execute(
            f"INSERT INTO gp_tickets AS t ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join(COLUMNS)} FROM gp_tickets_in "
            f"ON CONFLICT (source, ticket_key) DO UPDATE SET {changed}, imported_at = now() "
            f"WHERE {differs} RETURNING (xmax = 0)"
        )
        flags = [bool(r[0]) for r in cursor.fetchall()]
        cursor.execute("DROP TABLE gp_tickets_in")
    inserted = sum(flags)
    updated = len(flags) - inserted
    return UpsertCounts(inserted, updated, len(rows) - inserted - updated)


def set_classes(
    conn: sa.Connection, classes: Iterable[tuple[str, str, str | None, float, str]]
) -> None:
    """(source, key, path, score, method) for tickets classified again."""
    _update_from_copy(
        conn, ("path", "score", "method"), classes, "varchar(100), float8, varchar(16)"
    )


def set_candidates(conn: sa.Connection, candidates: Iterable[tuple[str, str, str | None]]) -> None:
    """(source, key, candidate type) for every ticket; unchanged rows are not written."""
    _update_from_copy(conn, ("candidate",), candidates, "varchar(200)")


def _update_from_copy(
    conn: sa.Connection, columns: Sequence[str], values: Iterable[Sequence[Any]], types: str
) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    typed = ", ".join(f"{c} {t.strip()}" for c, t in zip(columns, types.split(","), strict=True))
    with driver.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE gp_ticket_set (source varchar(100), ticket_key varchar(200), "
            f"{typed}) ON COMMIT DROP"
        )
        with cursor.copy(
            f"COPY gp_ticket_set (source, ticket_key, {', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in values:
                copy.write_row(list(row))
        assignments = ", ".join(f"{c} = s.{c}" for c in columns)
        differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in columns)
        cursor.execute(
            f"UPDATE gp_tickets AS t SET {assignments} FROM gp_ticket_set AS s "
            f"WHERE t.source = s.source AND t.ticket_key = s.ticket_key AND ({differs})"
        )
        cursor.execute("DROP TABLE gp_ticket_set")


@dataclass(frozen=True)
class StoredTicket:
    source: str
    key: str
    title: str
    description: str
    created: datetime
    resolved: datetime | None
    worklog_seconds: int | None
    path: str | None
    score: float
    method: str
    candidate: str | None
    override: str | None

    @property
    def lead_seconds(self) -> float | None:
        return None if self.resolved is None else (self.resolved - self.created).total_seconds()


def stored_tickets(
    conn: sa.Connection, since: datetime | None = None, until: datetime | None = None
) -> list[StoredTicket]:
    t, o = tables.tickets, tables.ticket_overrides
    query = sa.select(
        t.c.source, t.c.ticket_key, t.c.title, t.c.description, t.c.created_at,
        t.c.resolved_at, t.c.worklog_seconds, t.c.path, t.c.score, t.c.method, t.c.candidate,
        o.c.class_name,
    ).select_from(
        t.outerjoin(o, sa.and_(o.c.source == t.c.source, o.c.ticket_key == t.c.ticket_key))
    ).order_by(t.c.created_at, t.c.source, t.c.ticket_key)  # fmt: skip
    if since is not None:
        query = query.where(t.c.created_at >= since)
    if until is not None:
        query = query.where(t.c.created_at < until)
    return [
        StoredTicket(
            source=r.source,
            key=r.ticket_key,
            title=r.title,
            description=r.description,
            created=r.created_at,
            resolved=r.resolved_at,
            worklog_seconds=r.worklog_seconds,
            path=r.path,
            score=r.score,
            method=r.method,
            candidate=r.candidate,
            override=r.class_name,
        )
        for r in conn.execute(query)
    ]


def ticket_exists(conn: sa.Connection, source: str, key: str) -> bool:
    t = tables.tickets
    found = conn.execute(
        sa.select(sa.literal(1)).where(t.c.source == source, t.c.ticket_key == key)
    ).first()
    return found is not None


def set_override(conn: sa.Connection, source: str, key: str, class_name: str, by: str) -> None:
    from sqlalchemy.dialects.postgresql import insert

    o = tables.ticket_overrides
    statement = insert(o).values(
        source=source, ticket_key=key, class_name=class_name, decided_by=by
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[o.c.source, o.c.ticket_key],
            set_={"class_name": class_name, "decided_by": by, "decided_at": sa.func.now()},
        )
    )


def clear_override(conn: sa.Connection, source: str, key: str) -> None:
    o = tables.ticket_overrides
    conn.execute(sa.delete(o).where(o.c.source == source, o.c.ticket_key == key))


def platform_requests(
    conn: sa.Connection, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The requests that did a golden path's job (day-2 actions left out), oldest first."""
    r = tables.requests
    query = sa.select(
        r.c.id, r.c.template_name, r.c.status, r.c.created_at, r.c.finished_at, r.c.decided_at,
        r.c.is_exception, r.c.verdict,
    ).order_by(r.c.created_at)  # fmt: skip
    # A day-2 action on what a request made retires no ticket of the golden path's type.
    query = query.where(~r.c.plan.has_key("day2"))
    if since is not None:
        query = query.where(r.c.created_at >= since)
    if until is not None:
        query = query.where(r.c.created_at < until)
    return [dict(row) for row in conn.execute(query).mappings()]
