"""The audit log's keyed hash chain and its anchors on a real history: it verifies, and every
tamper is named — edits, deletions, reordering, deleting the newest events and fixing the head,
deleting everything, and recomputing the whole chain with the public (unkeyed) hash."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from goldenpath import audit
from goldenpath.app import Platform
from goldenpath.store import queries
from tests.conftest import ADMIN, member

ALICE = member("alice", "payments")


@pytest.fixture
def history(platform: Platform, unique_name: Callable[[str], str]) -> Platform:
    """Real events: submissions, plus a few recorded directly."""
    for _ in range(3):
        platform.service.submit("postgres-database", {"name": unique_name("audit")}, ALICE)
    with platform.database.begin() as conn:
        queries.record_event(conn, "bob", "token.created", "bob/ci", {"scopes": ["read"]})
        queries.record_event(conn, "carol", "login", "carol", {"method": "password"})
    return platform


def verify(platform: Platform) -> audit.AuditReport:
    return platform.audit.verify(ADMIN)


def fix_head(platform: Platform) -> None:
    """What an attacker does after deleting the newest events: point the head at what is left."""
    with platform.database.begin() as conn:
        rows = queries.events(conn)
        last = rows[-1]["hash"] if rows else queries.GENESIS_HASH
        conn.execute(
            sa.text("UPDATE gp_audit_head SET hash = :h, count = :c WHERE id = 1"),
            {"h": last, "c": len(rows)},
        )


def ids(platform: Platform) -> list[int]:
    with platform.database.begin() as conn:
        return [e["id"] for e in queries.events(conn)]


def test_a_real_history_verifies(history: Platform) -> None:
    report = verify(history)
    assert report.ok, report.summary
    assert report.events == 5


def test_an_edited_event_is_named(history: Platform) -> None:
    target = ids(history)[2]
    with history.database.begin() as conn:
        conn.execute(
            sa.text("UPDATE gp_events SET actor = 'mallory' WHERE id = :id"), {"id": target}
        )
    report = verify(history)
    assert not report.ok
    assert report.event_id == target
    assert "changed" in report.summary


def test_an_edited_detail_is_named(history: Platform) -> None:
    target = ids(history)[3]
    with history.database.begin() as conn:
        conn.execute(
            sa.text('UPDATE gp_events SET details = \'{"scopes": ["admin"]}\' WHERE id = :id'),
            {"id": target},
        )
    assert verify(history).event_id == target


def test_a_deleted_event_is_named(history: Platform) -> None:
    all_ids = ids(history)
    with history.database.begin() as conn:
        conn.execute(sa.text("DELETE FROM gp_events WHERE id = :id"), {"id": all_ids[1]})
    report = verify(history)
    assert not report.ok
    assert report.event_id == all_ids[2]
    assert "removed or moved" in report.summary


def test_deleting_the_newest_event_is_detected(history: Platform) -> None:
    with history.database.begin() as conn:
        conn.execute(sa.text("DELETE FROM gp_events WHERE id = :id"), {"id": ids(history)[-1]})
    report = verify(history)
    assert not report.ok
    assert "newest events were removed" in report.summary


def test_reordered_events_are_detected(history: Platform) -> None:
    first, second = ids(history)[:2]
    with history.database.begin() as conn:
        conn.execute(sa.text("UPDATE gp_events SET id = -1 WHERE id = :a"), {"a": first})
        conn.execute(
            sa.text("UPDATE gp_events SET id = :a WHERE id = :b"), {"a": first, "b": second}
        )
        conn.execute(sa.text("UPDATE gp_events SET id = :b WHERE id = -1"), {"b": second})
    report = verify(history)
    assert not report.ok
    assert report.event_id == first


def test_deleting_the_newest_events_and_fixing_the_head_is_caught_by_the_anchor(
    history: Platform,
) -> None:
    anchored = history.audit.checkpoint(ADMIN)
    assert anchored.count == 5
    with history.database.begin() as conn:
        conn.execute(sa.text("DELETE FROM gp_events WHERE id >= :id"), {"id": ids(history)[-2]})
    fix_head(history)
    report = verify(history)
    assert not report.ok
    assert "the anchor of" in report.summary and "saw 5" in report.summary, report.summary


def test_deleting_everything_and_the_head_is_caught_by_the_anchor(history: Platform) -> None:
    history.audit.checkpoint(ADMIN)
    with history.database.begin() as conn:
        conn.execute(sa.text("DELETE FROM gp_events"))
        conn.execute(sa.text("DELETE FROM gp_audit_head"))
    report = verify(history)
    assert not report.ok
    assert report.events == 0
    assert "saw 5" in report.summary, report.summary


def recompute_with_public_hash(platform: Platform, *, clear_key_ids: bool) -> None:
    """The attacker's rewrite: bob's events become mallory's, every hash recomputed with the
    project's own (unkeyed) hash function, the head fixed. They have the database and this
    code, but not the platform's key."""
    with platform.database.begin() as conn:
        prev = queries.GENESIS_HASH
        for row in queries.events(conn):
            actor = "mallory" if row["actor"] == "bob" else row["actor"]
            digest = queries.event_hash(
                prev, row["at"], actor, row["action"], row["target"], row["details"]
            )
            conn.execute(
                sa.text(
                    "UPDATE gp_events SET actor = :a, prev_hash = :p, hash = :h"
                    + (", key_id = NULL" if clear_key_ids else "")
                    + " WHERE id = :id"
                ),
                {"a": actor, "p": prev, "h": digest, "id": row["id"]},
            )
            prev = digest
    fix_head(platform)


def test_recomputing_the_chain_with_the_public_hash_is_detected(history: Platform) -> None:
    recompute_with_public_hash(history, clear_key_ids=False)
    report = verify(history)  # the hashes no longer match the key they name
    assert not report.ok and report.event_id == ids(history)[0], report.summary
    assert "changed" in report.summary


def test_a_chain_passed_off_as_unkeyed_is_caught_by_the_anchor(history: Platform) -> None:
    history.audit.checkpoint(ADMIN)
    recompute_with_public_hash(history, clear_key_ids=True)
    report = verify(history)
    assert not report.ok
    assert "rewritten" in report.summary, report.summary


def test_housekeeping_anchors_the_head_when_it_moved(history: Platform) -> None:
    first = history.audit.checkpoint_if_moved()
    assert first is not None and first.count == 5
    assert history.audit.checkpoint_if_moved() is None  # nothing new: no new anchor
    report = verify(history)
    assert report.ok and report.anchors == 1, report.summary
    assert "keyed hash chain verified, 1 anchors held" in report.summary
    assert oct(history.audit.anchor_file.stat().st_mode & 0o777) == "0o600"


def test_the_key_never_reaches_the_database(history: Platform) -> None:
    keys = history.box.audit_keys
    with history.database.begin() as conn:
        dump = " ".join(str(dict(r)) for r in queries.events(conn))
    for key in keys.keys.values():
        assert key.hex() not in dump
    assert keys.current in dump  # only the key's id is stored


def test_export_is_one_json_line_per_event_with_hashes(history: Platform) -> None:
    import json

    with history.database.begin() as conn:
        lines = list(audit.export_jsonl(conn))
    assert len(lines) == 5
    parsed = [json.loads(line) for line in lines]
    assert all(len(e["hash"]) == 64 for e in parsed)
    assert parsed[1]["prev_hash"] == parsed[0]["hash"]


def test_recording_an_event_keeps_the_callers_lock_timeout(platform: Platform) -> None:
    """The audit lock's bound is for that lock only: the rest of the transaction waits as the
    caller (the platform's role, the session or the transaction) configured it, not forever."""
    with platform.database.engine.connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '7s'"))
        conn.commit()
        with conn.begin():
            queries.record_event(conn, "bob", "login", "bob", {"method": "password"})
            assert conn.execute(sa.text("SHOW lock_timeout")).scalar_one() == "7s"
        with conn.begin():
            conn.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            queries.record_event(conn, "bob", "login", "bob", {"method": "password"})
            assert conn.execute(sa.text("SHOW lock_timeout")).scalar_one() == "3s"
        conn.execute(sa.text("RESET lock_timeout"))
        conn.commit()
