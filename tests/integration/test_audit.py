"""The audit log's hash chain on a real history: it verifies, and any tampering is named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from goldenpath import audit
from goldenpath.app import Platform
from goldenpath.store import queries
from tests.conftest import member

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
    with platform.database.begin() as conn:
        return audit.verify(conn)


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


def test_export_is_one_json_line_per_event_with_hashes(history: Platform) -> None:
    import json

    with history.database.begin() as conn:
        lines = list(audit.export_jsonl(conn))
    assert len(lines) == 5
    parsed = [json.loads(line) for line in lines]
    assert all(len(e["hash"]) == 64 for e in parsed)
    assert parsed[1]["prev_hash"] == parsed[0]["hash"]
