"""Reads and writes of users, teams, memberships and tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from goldenpath.errors import Conflict, TeamNotFound, TokenNotFound, UserNotFound
from goldenpath.store import tables


@dataclass(frozen=True)
class UserRecord:
    name: str
    display_name: str | None
    is_admin: bool
    created_at: datetime
    disabled_at: datetime | None
    memberships: tuple[tuple[str, str], ...]
    password_hash: str | None = None
    external_id: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class TeamRecord:
    name: str
    monthly_budget_usd: float | None
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TokenRecord:
    id: str
    user_name: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def count_users(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(tables.users)).scalar() or 0)


def create_user(
    conn: sa.Connection,
    name: str,
    *,
    display_name: str | None = None,
    password_hash: str | None = None,
    is_admin: bool = False,
    external_id: str | None = None,
) -> None:
    done = conn.execute(
        insert(tables.users)
        .values(
            name=name,
            display_name=display_name,
            password_hash=password_hash,
            is_admin=is_admin,
            external_id=external_id,
        )
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: with SQLAlchemy's implicit RETURNING, rowcount is -1.
        .returning(tables.users.c.name)
    )
    if done.first() is None:
        raise Conflict(problem=f"a user named '{name}' already exists")


def update_user(conn: sa.Connection, name: str, **values: Any) -> None:
    done = conn.execute(tables.users.update().where(tables.users.c.name == name).values(**values))
    if done.rowcount == 0:
        raise UserNotFound(name=name)


def get_user(conn: sa.Connection, name: str) -> UserRecord:
    row = (
        conn.execute(sa.select(tables.users).where(tables.users.c.name == name)).mappings().first()
    )
    if row is None:
        raise UserNotFound(name=name)
    return _user(row, _memberships_of(conn, [name]).get(name, ()))


def user_by_external_id(conn: sa.Connection, external_id: str) -> UserRecord | None:
    row = (
        conn.execute(sa.select(tables.users).where(tables.users.c.external_id == external_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return _user(row, _memberships_of(conn, [row["name"]]).get(row["name"], ()))


def list_users(conn: sa.Connection) -> list[UserRecord]:
    rows = list(conn.execute(sa.select(tables.users).order_by(tables.users.c.name)).mappings())
    memberships = _memberships_of(conn, [r["name"] for r in rows])
    return [_user(r, memberships.get(r["name"], ())) for r in rows]


def ensure_team(conn: sa.Connection, name: str, monthly_budget_usd: float | None = None) -> None:
    conn.execute(
        insert(tables.teams)
        .values(name=name, monthly_budget_usd=monthly_budget_usd)
        .on_conflict_do_nothing()
    )


def update_team(conn: sa.Connection, name: str, **values: Any) -> None:
    done = conn.execute(tables.teams.update().where(tables.teams.c.name == name).values(**values))
    if done.rowcount == 0:
        raise TeamNotFound(name=name)


def get_team(conn: sa.Connection, name: str) -> TeamRecord:
    row = (
        conn.execute(sa.select(tables.teams).where(tables.teams.c.name == name)).mappings().first()
    )
    if row is None:
        raise TeamNotFound(name=name)
    return _team(row, _members_of(conn, name))


def list_teams(conn: sa.Connection) -> list[TeamRecord]:
    rows = conn.execute(sa.select(tables.teams).order_by(tables.teams.c.name)).mappings()
    return [_team(r, _members_of(conn, r["name"])) for r in rows]


def add_member(conn: sa.Connection, user: str, team: str, role: str) -> None:
    get_user(conn, user)
    get_team(conn, team)
    conn.execute(
        insert(tables.memberships)
        .values(user_name=user, team=team, role=role)
        .on_conflict_do_nothing()
    )


def remove_member(conn: sa.Connection, user: str, team: str, role: str | None = None) -> int:
    query = tables.memberships.delete().where(
        tables.memberships.c.user_name == user, tables.memberships.c.team == team
    )
    if role is not None:
        query = query.where(tables.memberships.c.role == role)
    return int(conn.execute(query).rowcount)


def insert_token(
    conn: sa.Connection,
    *,
    token_id: str,
    user: str,
    name: str,
    secret_hash: str,
    scopes: Iterable[str],
    expires_at: datetime | None,
) -> None:
    conn.execute(
        tables.tokens.insert().values(
            id=token_id,
            user_name=user,
            name=name,
            secret_hash=secret_hash,
            scopes=sorted(scopes),
            expires_at=expires_at,
        )
    )


def get_token(conn: sa.Connection, token_id: str) -> TokenRecord:
    row = (
        conn.execute(sa.select(tables.tokens).where(tables.tokens.c.id == token_id))
        .mappings()
        .first()
    )
    if row is None:
        raise TokenNotFound(token_id=token_id)
    return _token(row)


def list_tokens(conn: sa.Connection, user: str | None = None) -> list[TokenRecord]:
    query = sa.select(tables.tokens).order_by(tables.tokens.c.created_at)
    if user is not None:
        query = query.where(tables.tokens.c.user_name == user)
    return [_token(r) for r in conn.execute(query).mappings()]


def revoke_token(conn: sa.Connection, token_id: str) -> None:
    conn.execute(
        tables.tokens.update()
        .where(tables.tokens.c.id == token_id, tables.tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )


def touch_token(conn: sa.Connection, token_id: str) -> None:
    conn.execute(
        tables.tokens.update()
        .where(tables.tokens.c.id == token_id)
        .values(last_used_at=sa.func.now())
    )


def _memberships_of(
    conn: sa.Connection, users: list[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    found: dict[str, list[tuple[str, str]]] = {}
    if not users:
        return {}
    rows = conn.execute(
        sa.select(tables.memberships).where(tables.memberships.c.user_name.in_(users))
    ).mappings()
    for row in rows:
        found.setdefault(row["user_name"], []).append((row["team"], row["role"]))
    return {user: tuple(sorted(pairs)) for user, pairs in found.items()}


def _members_of(conn: sa.Connection, team: str) -> tuple[tuple[str, str], ...]:
    rows = conn.execute(
        sa.select(tables.memberships.c.user_name, tables.memberships.c.role).where(
            tables.memberships.c.team == team
        )
    )
    return tuple(sorted((r[0], r[1]) for r in rows))


def _user(row: sa.RowMapping, memberships: tuple[tuple[str, str], ...]) -> UserRecord:
    return UserRecord(
        name=row["name"],
        display_name=row["display_name"],
        is_admin=row["is_admin"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
        memberships=memberships,
        password_hash=row["password_hash"],
        external_id=row["external_id"],
    )


def _team(row: sa.RowMapping, members: tuple[tuple[str, str], ...]) -> TeamRecord:
    budget = row["monthly_budget_usd"]
    return TeamRecord(
        name=row["name"],
        monthly_budget_usd=None if budget is None else float(budget),
        members=members,
    )


def _token(row: sa.RowMapping) -> TokenRecord:
    return TokenRecord(
        id=row["id"],
        user_name=row["user_name"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        scopes=tuple(row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )
