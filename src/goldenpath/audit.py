"""The audit log: verification of the hash chain, and export.

Events are appended by `store.queries.record_event`, inside the transaction of the change they
record, each carrying the hash of the one before it; the chain's head (last hash and count) is
kept beside them. Verification recomputes every hash from the first event on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import authorize
from goldenpath.store import tables
from goldenpath.store.database import Database
from goldenpath.store.queries import GENESIS_HASH, event_hash


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    events: int
    problem: str | None = None
    event_id: int | None = None

    @property
    def summary(self) -> str:
        if self.ok:
            return f"audit log intact: {self.events} events, hash chain verified"
        where = f" at event {self.event_id}" if self.event_id is not None else ""
        return f"audit log TAMPERED{where}: {self.problem}"


def verify(conn: sa.Connection) -> AuditReport:
    """Walk the chain; the first event whose content, order or link does not check is named."""
    prev = GENESIS_HASH
    count = 0
    for row in conn.execute(sa.select(tables.events).order_by(tables.events.c.id)).mappings():
        count += 1
        if row["prev_hash"] != prev:
            return AuditReport(
                False,
                count,
                "it does not follow the event before it (one was removed or moved)",
                row["id"],
            )
        expected = event_hash(
            prev, row["at"], row["actor"], row["action"], row["target"], row["details"]
        )
        if row["hash"] != expected:
            return AuditReport(False, count, "its content was changed", row["id"])
        prev = row["hash"]
    head = conn.execute(sa.select(tables.audit_head).where(tables.audit_head.c.id == 1)).first()
    head_hash, head_count = (head.hash, int(head._mapping["count"])) if head else (GENESIS_HASH, 0)
    if head_hash != prev or head_count != count:
        return AuditReport(
            False,
            count,
            f"the log ends after {count} events but {head_count} were written "
            "(the newest events were removed)",
        )
    return AuditReport(True, count)


def export_jsonl(conn: sa.Connection) -> Iterator[str]:
    """Every event as one JSON line, in order, with its hashes (for a SIEM or an archive)."""
    for row in conn.execute(sa.select(tables.events).order_by(tables.events.c.id)).mappings():
        yield json.dumps(_plain(dict(row)), sort_keys=True)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


@dataclass(frozen=True)
class AuditLog:
    """The audit use cases, for platform admins."""

    database: Database

    def events(
        self,
        actor: Actor,
        *,
        who: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        authorize(actor, "audit.read")
        query = (
            sa.select(tables.events)
            .where(tables.events.c.id > after_id)
            .order_by(tables.events.c.id)
            .limit(limit)
        )
        if who:
            query = query.where(tables.events.c.actor == who)
        if action:
            query = query.where(tables.events.c.action.startswith(action, autoescape=True))
        if target:
            query = query.where(tables.events.c.target == target)
        if since:
            query = query.where(tables.events.c.at >= since)
        with self.database.begin() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def verify(self, actor: Actor) -> AuditReport:
        authorize(actor, "audit.read")
        with self.database.begin() as conn:
            return verify(conn)

    def export(self, actor: Actor) -> list[str]:
        authorize(actor, "audit.read")
        with self.database.begin() as conn:
            return list(export_jsonl(conn))
