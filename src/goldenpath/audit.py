"""The audit log: verification of the keyed hash chain, its anchors, and export.

Events are appended by `store.queries.record_event`, inside the transaction of the change they
record, each carrying an HMAC (with a key the database never holds) over its content and the
hash of the one before it; the chain's head (last hash and count) is kept beside them.

Anchors put the head outside the database: `AuditLog.checkpoint` appends it to an append-only
file in the data directory (the worker does so on its housekeeping round whenever the head
moved, and ``goldenpath audit checkpoint`` prints it for an external witness). Verification
recomputes every hash and then checks every anchor, so removing the newest events (even with
the head fixed), emptying the log, or recomputing the chain is named.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from goldenpath.errors import AuditAnchorCorrupt
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import authorize
from goldenpath.store import tables
from goldenpath.store.audit_keys import AuditKeys
from goldenpath.store.database import Database
from goldenpath.store.queries import GENESIS_HASH, event_hash

ANCHOR_FILE = "audit-anchors.jsonl"


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    events: int
    problem: str | None = None
    event_id: int | None = None
    anchors: int = 0

    @property
    def summary(self) -> str:
        if self.ok:
            held = f", {self.anchors} anchors held" if self.anchors else ", no anchor yet"
            return f"audit log intact: {self.events} events, keyed hash chain verified{held}"
        where = f" at event {self.event_id}" if self.event_id is not None else ""
        return f"audit log TAMPERED{where}: {self.problem}"


def verify(conn: sa.Connection, keys: AuditKeys, anchors: Sequence[Anchor] = ()) -> AuditReport:
    """Walk the chain, then hold it against the anchors; the first thing that does not check
    is named."""
    prev = GENESIS_HASH
    count = 0
    keyed = False
    hashes: dict[int, str] = {}
    wanted = {a.count for a in anchors}
    for row in conn.execute(sa.select(tables.events).order_by(tables.events.c.id)).mappings():
        count += 1
        if row["prev_hash"] != prev:
            return AuditReport(
                False,
                count,
                "it does not follow the event before it (one was removed or moved)",
                row["id"],
            )
        key_id = row["key_id"]
        if key_id is None and keyed:
            return AuditReport(
                False, count, "it carries an unkeyed hash after keyed events", row["id"]
            )
        if key_id is not None and key_id not in keys.keys:
            return AuditReport(
                False, count, "it is signed with a key the platform does not have", row["id"]
            )
        keyed = keyed or key_id is not None
        expected = event_hash(
            prev,
            row["at"],
            row["actor"],
            row["action"],
            row["target"],
            row["details"],
            keys=keys,
            key_id=key_id,
        )
        if not hmac.compare_digest(str(row["hash"]), expected):
            return AuditReport(False, count, "its content was changed", row["id"])
        prev = row["hash"]
        if count in wanted:
            hashes[count] = prev
    head = conn.execute(sa.select(tables.audit_head).where(tables.audit_head.c.id == 1)).first()
    head_hash, head_count = (head.hash, int(head._mapping["count"])) if head else (GENESIS_HASH, 0)
    if head_hash != prev or head_count != count:
        return AuditReport(
            False,
            count,
            f"the log ends after {count} events but {head_count} were written "
            "(the newest events were removed)",
        )
    for anchor in anchors:
        if anchor.count > count:
            return AuditReport(
                False,
                count,
                f"the log ends after {count} events but the anchor of {anchor.at} saw "
                f"{anchor.count} (events were removed and the head rewritten)",
            )
        if anchor.count and hashes.get(anchor.count) != anchor.hash:
            return AuditReport(
                False,
                count,
                f"event {anchor.count} is not the one the anchor of {anchor.at} saw "
                "(the history before it was rewritten)",
            )
    return AuditReport(True, count, anchors=len(anchors))


@dataclass(frozen=True)
class Anchor:
    """The chain's head as seen at one moment, kept outside the database."""

    count: int
    hash: str
    at: str

    def line(self) -> str:
        return json.dumps({"count": self.count, "hash": self.hash, "at": self.at}) + "\n"


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors in the file; a line that is not an anchor is itself a sign of tampering."""
    if not path.exists():
        return []
    anchors = []
    for number, text in enumerate(path.read_text().splitlines(), 1):
        try:
            data = json.loads(text)
            anchors.append(Anchor(int(data["count"]), str(data["hash"]), str(data["at"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditAnchorCorrupt(path=str(path), line=number) from exc
    return anchors


def current_head(conn: sa.Connection) -> Anchor:
    head = conn.execute(sa.select(tables.audit_head).where(tables.audit_head.c.id == 1)).first()
    count, digest = (int(head._mapping["count"]), str(head.hash)) if head else (0, GENESIS_HASH)
    return Anchor(count, digest, datetime.now(UTC).isoformat())


def append_anchor(path: Path, anchor: Anchor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(anchor.line())
        handle.flush()
        os.fsync(handle.fileno())


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
    keys: AuditKeys
    data_dir: Path

    @property
    def anchor_file(self) -> Path:
        return self.data_dir / ANCHOR_FILE

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
            .where(tables.events.c.id > after_id, *_event_filters(who, action, target, since))
            .order_by(tables.events.c.id)
            .limit(limit)
        )
        with self.database.begin() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def count_events(
        self,
        actor: Actor,
        *,
        who: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
    ) -> int:
        authorize(actor, "audit.read")
        query = sa.select(sa.func.count()).select_from(tables.events)
        with self.database.begin() as conn:
            found = conn.execute(query.where(*_event_filters(who, action, target, since)))
            return int(found.scalar_one())

    def verify(self, actor: Actor) -> AuditReport:
        authorize(actor, "audit.read")
        try:
            anchors = read_anchors(self.anchor_file)
        except AuditAnchorCorrupt as exc:
            return AuditReport(False, 0, str(exc))
        with self.database.begin() as conn:
            return verify(conn, self.keys, anchors)

    def checkpoint(self, actor: Actor) -> Anchor:
        """Anchor the current head outside the database; returns it for an external witness."""
        authorize(actor, "audit.read")
        return self._anchor()

    def checkpoint_if_moved(self) -> Anchor | None:
        """Anchor the head when events were added since the last anchor (worker housekeeping)."""
        anchors = read_anchors(self.anchor_file)
        with self.database.begin() as conn:
            head = current_head(conn)
        if head.count == 0 or (anchors and anchors[-1].count == head.count):
            return None
        return self._anchor()

    def _anchor(self) -> Anchor:
        with self.database.begin() as conn:
            head = current_head(conn)
        append_anchor(self.anchor_file, head)
        return head

    def export(self, actor: Actor) -> list[str]:
        authorize(actor, "audit.read")
        with self.database.begin() as conn:
            return list(export_jsonl(conn))


def _event_filters(
    who: str | None, action: str | None, target: str | None, since: datetime | None
) -> list[sa.ColumnElement[bool]]:
    e = tables.events
    found: list[sa.ColumnElement[bool]] = []
    if who:
        found.append(e.c.actor == who)
    if action:
        found.append(e.c.action.startswith(action, autoescape=True))
    if target:
        found.append(e.c.target == target)
    if since:
        found.append(e.c.at >= since)
    return found
