"""Queries of the Slack face: linked identities, link codes, handled deliveries, and the
messages that follow each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from goldenpath.store import tables


@dataclass(frozen=True)
class SlackMessage:
    """One Slack message that shows a request: where it is, and what was last posted."""

    id: int
    request_id: str
    purpose: str  # thread, approval, decision
    channel: str
    slack_user_id: str | None
    thread_ts: str | None
    ts: str | None
    posted_hash: str | None


def link(conn: sa.Connection, slack_user_id: str, user: str, linked_by: str) -> None:
    """Link a Slack user to a platform user, replacing an earlier link of that Slack user."""
    table = tables.slack_identities
    statement = insert(table).values(
        slack_user_id=slack_user_id, user_name=user, linked_by=linked_by
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.slack_user_id],
            set_={"user_name": user, "linked_by": linked_by, "linked_at": sa.func.now()},
        )
    )


def linked_user(conn: sa.Connection, slack_user_id: str) -> str | None:
    table = tables.slack_identities
    row = conn.execute(
        sa.select(table.c.user_name).where(table.c.slack_user_id == slack_user_id)
    ).first()
    return None if row is None else str(row[0])


def slack_ids_of(conn: sa.Connection, users: list[str]) -> dict[str, str]:
    """Slack user id -> platform user, for these users' links."""
    table = tables.slack_identities
    rows = conn.execute(
        sa.select(table.c.slack_user_id, table.c.user_name).where(table.c.user_name.in_(users))
    )
    return {str(r[0]): str(r[1]) for r in rows}


def add_link_code(
    conn: sa.Connection, code_hash: str, slack_user_id: str, expires_at: datetime
) -> None:
    table = tables.slack_link_codes
    conn.execute(table.delete().where(table.c.slack_user_id == slack_user_id))
    conn.execute(
        table.insert().values(
            code_hash=code_hash, slack_user_id=slack_user_id, expires_at=expires_at
        )
    )


def take_link_code(conn: sa.Connection, code_hash: str, now: datetime) -> str | None:
    """The Slack user a valid code was made for; the code is used up either way."""
    table = tables.slack_link_codes
    row = conn.execute(
        table.delete()
        .where(table.c.code_hash == code_hash)
        .returning(table.c.slack_user_id, table.c.expires_at)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return str(row.slack_user_id)


def first_delivery(conn: sa.Connection, key: str) -> bool:
    """Record a Slack delivery; False when one with this key was handled before."""
    table = tables.slack_deliveries
    inserted = conn.execute(
        insert(table).values(key=key).on_conflict_do_nothing().returning(table.c.key)
    ).first()
    return inserted is not None


def add_message(
    conn: sa.Connection,
    request_id: str,
    purpose: str,
    channel: str,
    *,
    slack_user_id: str | None = None,
    thread_ts: str | None = None,
) -> None:
    conn.execute(
        tables.slack_messages.insert().values(
            request_id=request_id,
            purpose=purpose,
            channel=channel,
            slack_user_id=slack_user_id,
            thread_ts=thread_ts,
        )
    )


def messages(conn: sa.Connection, request_id: str) -> list[SlackMessage]:
    table = tables.slack_messages
    rows = conn.execute(
        sa.select(table).where(table.c.request_id == request_id).order_by(table.c.id)
    ).mappings()
    return [
        SlackMessage(
            id=int(r["id"]),
            request_id=r["request_id"],
            purpose=r["purpose"],
            channel=r["channel"],
            slack_user_id=r["slack_user_id"],
            thread_ts=r["thread_ts"],
            ts=r["ts"],
            posted_hash=r["posted_hash"],
        )
        for r in rows
    ]


def message_at(conn: sa.Connection, channel: str, ts: str) -> SlackMessage | None:
    table = tables.slack_messages
    row = conn.execute(
        sa.select(table.c.request_id, table.c.id).where(
            table.c.channel == channel, table.c.ts == ts
        )
    ).first()
    if row is None:
        return None
    return next(m for m in messages(conn, str(row[0])) if m.id == row[1])


def mark_posted(
    conn: sa.Connection, message_id: int, *, ts: str, channel: str, posted_hash: str
) -> None:
    table = tables.slack_messages
    conn.execute(
        table.update()
        .where(table.c.id == message_id)
        .values(ts=ts, channel=channel, posted_hash=posted_hash)
    )
