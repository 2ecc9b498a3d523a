"""Reads and writes of the platform's tables. Every function takes the connection it works in,
so the caller decides what commits together."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from goldenpath.errors import AuditLogBusy, Conflict, RequestNotFound, ResourceNotFound
from goldenpath.store import tables
from goldenpath.store.audit_keys import AuditKeys, keys_of
from goldenpath.store.records import LogLine, RequestRecord, ResourceRecord, StepRecord


def new_id() -> str:
    return str(uuid.uuid4())


Statement = TypeVar("Statement", sa.Insert, sa.Update)

# The database's time, one object: `insert_request`, `update_request` and `update_step` tell
# it from the plain values they bind.
NOW: sa.sql.functions.Function[Any] = sa.func.now()


def now() -> sa.sql.functions.Function[Any]:
    return NOW


# --- requests -----------------------------------------------------------------------------


def insert_request(conn: sa.Connection, values: Mapping[str, Any]) -> RequestRecord:
    """Insert the request row; the record as stored (without its steps)."""
    statement, plain = _server_time_apart(_insert_request, values)
    return _request(conn.execute(statement, plain).mappings().one(), ())


@functools.cache
def _insert_request(server_time: frozenset[str]) -> sa.Insert:
    return (
        tables.requests.insert()
        .values({column: NOW for column in server_time})
        .returning(*tables.requests.c)
    )


_INSERT_STEPS = tables.steps.insert()


def insert_steps(
    conn: sa.Connection, request_id: str, steps: Sequence[Mapping[str, Any]]
) -> tuple[StepRecord, ...]:
    """Insert a new request's steps (``pending``); their records, without a read back."""
    if steps:
        conn.execute(
            _INSERT_STEPS,
            [{"request_id": request_id, "status": "pending", **step} for step in steps],
        )
    return tuple(
        StepRecord(
            step_id=step["step_id"],
            position=step["position"],
            name=step["name"],
            action=step["action"],
            status="pending",
            input=None,
            outputs=None,
            error=None,
            started_at=None,
            finished_at=None,
        )
        for step in steps
    )


def get_request(conn: sa.Connection, request_id: str, *, for_update: bool = False) -> RequestRecord:
    """The request with its steps, in one query (a status poll is one round trip)."""
    query = _GET_REQUEST_FOR_UPDATE if for_update else _GET_REQUEST
    row = conn.execute(query, {"wanted_id": request_id}).mappings().first()
    if row is None:
        raise RequestNotFound(request_id=request_id)
    return _request(row, tuple(_step_of_json(s) for s in row["steps_json"]))


# The step columns JSON carries as they are (not timestamps, not bytea).
_STEP_PLAIN_COLUMNS = (
    "step_id",
    "position",
    "name",
    "action",
    "status",
    "input",
    "outputs",
    "error",
)


def _steps_json() -> sa.ScalarSelect[Any]:
    """A request's steps, in order, as one JSON array (bytea as base64)."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    s = tables.steps
    fields: list[Any] = []
    for name in (*_STEP_PLAIN_COLUMNS, "started_at", "finished_at"):
        fields += [sa.literal_column(f"'{name}'"), s.c[name]]
    fields += [sa.literal_column("'secret_outputs'"), sa.func.encode(s.c.secret_outputs, "base64")]
    step = sa.func.json_build_object(*fields)
    return (
        sa.select(
            sa.func.coalesce(
                sa.func.json_agg(aggregate_order_by(step, s.c.position)), sa.text("'[]'::json")
            )
        )
        .where(s.c.request_id == tables.requests.c.id)
        .scalar_subquery()
    )


_STEPS_JSON = _steps_json()
# The hot statements are built once: SQLAlchemy memoizes a statement's cache key on the object,
# so one built per call had its key computed again each time (most of a status poll's CPU).
_GET_REQUEST = sa.select(tables.requests, _STEPS_JSON.label("steps_json")).where(
    tables.requests.c.id == sa.bindparam("wanted_id")
)
_GET_REQUEST_FOR_UPDATE = _GET_REQUEST.with_for_update(of=tables.requests)
_REQUEST_STATUS = sa.select(tables.requests.c.status).where(
    tables.requests.c.id == sa.bindparam("wanted_id")
)


def request_status(conn: sa.Connection, request_id: str) -> str:
    status = conn.execute(_REQUEST_STATUS, {"wanted_id": request_id}).scalar()
    if status is None:
        raise RequestNotFound(request_id=request_id)
    return str(status)


def get_requests(conn: sa.Connection, request_ids: Sequence[str]) -> dict[str, RequestRecord]:
    """Many requests in one query, by id (without their steps)."""
    rows = conn.execute(
        sa.select(tables.requests).where(tables.requests.c.id.in_(list(request_ids)))
    ).mappings()
    return {row["id"]: _request(row, ()) for row in rows}


def list_requests(
    conn: sa.Connection,
    *,
    status: str | None = None,
    template: str | None = None,
    teams: Sequence[str] | None = None,
    limit: int = 50,
    before: tuple[datetime, str] | None = None,
) -> list[RequestRecord]:
    """Newest first; ``teams`` None means every team; ``before`` the (created_at, id) of the
    last request of the previous page."""
    rows = _newest_first(
        conn, tables.requests, _request_filters(status, template, teams), limit, before
    )
    return [_request(row, ()) for row in rows]


def _newest_first(
    conn: sa.Connection,
    table: sa.Table,
    filters: Sequence[sa.ColumnElement[bool]],
    limit: int,
    before: tuple[datetime, str] | None,
) -> sa.MappingResult:
    """Rows newest first, keyset-paged on (created_at, id): nothing repeats or shifts while
    someone pages."""
    query = (
        sa.select(table)
        .where(*filters)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(sa.tuple_(table.c.created_at, table.c.id) < sa.tuple_(*before))
    return conn.execute(query).mappings()


def count_requests(
    conn: sa.Connection,
    *,
    status: str | None = None,
    template: str | None = None,
    teams: Sequence[str] | None = None,
) -> int:
    query = sa.select(sa.func.count()).where(*_request_filters(status, template, teams))
    return int(conn.execute(query.select_from(tables.requests)).scalar_one())


def _request_filters(
    status: str | None, template: str | None, teams: Sequence[str] | None
) -> list[sa.ColumnElement[bool]]:
    r = tables.requests
    found: list[sa.ColumnElement[bool]] = []
    if status:
        found.append(r.c.status == status)
    if template:
        found.append(r.c.template_name == template)
    if teams is not None:
        found.append(r.c.owner_team.in_(list(teams)))
    return found


def waiting_since(conn: sa.Connection, cutoff: datetime) -> list[RequestRecord]:
    """Requests waiting for approval since before ``cutoff``, locked for the caller's update."""
    rows = conn.execute(
        sa.select(tables.requests)
        .where(
            tables.requests.c.status == "pending_approval", tables.requests.c.created_at < cutoff
        )
        .with_for_update(skip_locked=True)
    ).mappings()
    return [_request(row, ()) for row in rows]


def update_request(conn: sa.Connection, request_id: str, **values: Any) -> None:
    statement, plain = _server_time_apart(_update_request, values)
    conn.execute(statement, {**plain, "wanted_id": request_id})


def update_step(conn: sa.Connection, request_id: str, step_id: str, **values: Any) -> None:
    statement, plain = _server_time_apart(_update_step, values)
    conn.execute(statement, {**plain, "wanted_request": request_id, "wanted_step": step_id})


def _server_time_apart(
    build: Callable[[frozenset[str]], Statement], values: Mapping[str, Any]
) -> tuple[Statement, dict[str, Any]]:
    """The INSERT or UPDATE for these values, built once per set of columns given the
    database's time (``now()``); the other values are bound at execution, naming their
    columns."""
    server_time = frozenset(k for k, v in values.items() if v is NOW)
    return build(server_time), {k: v for k, v in values.items() if k not in server_time}


@functools.cache
def _update_request(server_time: frozenset[str]) -> sa.Update:
    return (
        tables.requests.update()
        .where(tables.requests.c.id == sa.bindparam("wanted_id"))
        .values({column: NOW for column in server_time})
    )


@functools.cache
def _update_step(server_time: frozenset[str]) -> sa.Update:
    s = tables.steps
    return (
        s.update()
        .where(
            s.c.request_id == sa.bindparam("wanted_request"),
            s.c.step_id == sa.bindparam("wanted_step"),
        )
        .values({column: NOW for column in server_time})
    )


def append_log(
    conn: sa.Connection, request_id: str, step_id: str, level: str, message: str
) -> None:
    conn.execute(
        tables.step_logs.insert().values(
            request_id=request_id, step_id=step_id, level=level, message=message
        )
    )


# In autocommit this statement is its own transaction, and the setting holds until its commit.
_APPEND_LOG_UNSYNCED = sa.text(
    "INSERT INTO gp_step_logs (request_id, step_id, level, message) "
    "SELECT :request_id, :step_id, :level, :message "
    "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unsynced"
)


def append_log_unsynced(
    conn: sa.Connection, request_id: str, step_id: str, level: str, message: str
) -> None:
    """`append_log` on an autocommit connection, committed without waiting for the disk: a
    crash may lose the line, never anything else (one statement, one round trip)."""
    conn.execute(
        _APPEND_LOG_UNSYNCED,
        {"request_id": request_id, "step_id": step_id, "level": level, "message": message},
    )


def logs(conn: sa.Connection, request_id: str, after_id: int = 0) -> list[LogLine]:
    rows = conn.execute(
        sa.select(tables.step_logs)
        .where(tables.step_logs.c.request_id == request_id, tables.step_logs.c.id > after_id)
        .order_by(tables.step_logs.c.id)
    ).mappings()
    return [
        LogLine(
            id=r["id"], step_id=r["step_id"], at=r["at"], level=r["level"], message=r["message"]
        )
        for r in rows
    ]


# --- checkpoints --------------------------------------------------------------------------


def get_checkpoint(conn: sa.Connection, request_id: str, step_id: str, key: str) -> bytes | None:
    value = conn.execute(
        sa.select(tables.checkpoints.c.value).where(
            tables.checkpoints.c.request_id == request_id,
            tables.checkpoints.c.step_id == step_id,
            tables.checkpoints.c.key == key,
        )
    ).scalar()
    return None if value is None else bytes(value)


def replace_checkpoint(
    conn: sa.Connection, request_id: str, step_id: str, key: str, value: bytes
) -> None:
    """Store ``value`` in place of what is there (an upgrade's new inputs)."""
    conn.execute(
        tables.checkpoints.delete().where(
            tables.checkpoints.c.request_id == request_id,
            tables.checkpoints.c.step_id == step_id,
            tables.checkpoints.c.key == key,
        )
    )
    put_checkpoint(conn, request_id, step_id, key, value)


def put_checkpoint(
    conn: sa.Connection, request_id: str, step_id: str, key: str, value: bytes
) -> bytes:
    """Store ``value`` unless a value is already there; return the stored one (first wins)."""
    keep_checkpoint(conn, request_id, step_id, key, value)
    stored = get_checkpoint(conn, request_id, step_id, key)
    assert stored is not None
    return stored


def keep_checkpoint(
    conn: sa.Connection, request_id: str, step_id: str, key: str, value: bytes
) -> None:
    """Store ``value`` unless a value is already there (first wins), in one statement."""
    from sqlalchemy.dialects.postgresql import insert

    conn.execute(
        insert(tables.checkpoints)
        .values(request_id=request_id, step_id=step_id, key=key, value=value)
        .on_conflict_do_nothing()
    )


# --- resources ----------------------------------------------------------------------------


def reserve_resource(conn: sa.Connection, values: Mapping[str, Any]) -> str:
    """The resource row for a request's step, created in state ``creating`` if new.

    The live-name unique index makes this the reservation of the name: a second request for
    the same kind, backend and name fails here, before anything is created.
    """
    existing = conn.execute(
        sa.select(tables.resources.c.id, tables.resources.c.state).where(
            tables.resources.c.request_id == values["request_id"],
            tables.resources.c.step_id == values["step_id"],
        )
    ).first()
    if existing is not None:
        if existing.state == "destroyed":
            # A retried request makes it again: the name must be reserved again too.
            try:
                with conn.begin_nested():
                    update_resource(
                        conn, str(existing.id), state="creating", destroyed_at=None, error=None
                    )
            except IntegrityError as exc:
                raise Conflict(
                    problem=f"a {values['kind']} named '{values['name']}' was made by someone "
                    "else since this request failed"
                ) from exc
        return str(existing.id)
    resource_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                tables.resources.insert().values(id=resource_id, state="creating", **values)
            )
    except IntegrityError as exc:
        raise Conflict(
            problem=f"a {values['kind']} named '{values['name']}' already exists on backend "
            f"'{values['backend']}'"
        ) from exc
    return resource_id


def release_step_resource(conn: sa.Connection, request_id: str, step_id: str) -> None:
    """Mark a step's reserved resource as never made (``destroyed``), freeing its name."""
    conn.execute(
        tables.resources.update()
        .where(
            tables.resources.c.request_id == request_id,
            tables.resources.c.step_id == step_id,
            tables.resources.c.state == "creating",
        )
        .values(state="destroyed", destroyed_at=now(), error="nothing created: name taken")
    )


def expired_resources(conn: sa.Connection, moment: datetime) -> list[ResourceRecord]:
    """Live resources whose expiry has passed, locked for the caller's update."""
    rows = conn.execute(
        sa.select(tables.resources)
        .where(
            tables.resources.c.expires_at.is_not(None),
            tables.resources.c.expires_at <= moment,
            tables.resources.c.state.in_(("active", "drifted")),
        )
        .with_for_update(skip_locked=True)
    ).mappings()
    return [_resource(row) for row in rows]


def expiring_resources(
    conn: sa.Connection, moment: datetime, horizon: datetime
) -> list[ResourceRecord]:
    """Live resources that expire after ``moment`` and by ``horizon`` and whose owners were not
    warned yet, locked for the caller's update."""
    columns = tables.resources.c
    rows = conn.execute(
        sa.select(tables.resources)
        .where(
            columns.expires_at > moment,
            columns.expires_at <= horizon,
            columns.expiry_warned_at.is_(None),
            columns.state.in_(("active", "drifted")),
        )
        .order_by(columns.expires_at)
        .with_for_update(skip_locked=True)
    ).mappings()
    return [_resource(row) for row in rows]


def live_owners(conn: sa.Connection, kind: str, name: str) -> set[str]:
    """The teams owning a live resource of this kind and name (on any backend)."""
    rows = conn.execute(
        sa.select(tables.resources.c.owner_team).where(
            tables.resources.c.kind == kind,
            tables.resources.c.name == name,
            tables.resources.c.state.in_(("active", "drifted")),
        )
    )
    return {row[0] for row in rows}


def name_taken(conn: sa.Connection, kind: str, backend: str, name: str) -> bool:
    return (
        conn.execute(
            sa.select(tables.resources.c.id).where(
                tables.resources.c.kind == kind,
                tables.resources.c.backend == backend,
                tables.resources.c.name == name,
                tables.resources.c.state != "destroyed",
            )
        ).first()
        is not None
    )


def update_resource(conn: sa.Connection, resource_id: str, **values: Any) -> None:
    conn.execute(
        tables.resources.update().where(tables.resources.c.id == resource_id).values(**values)
    )


def get_resource(conn: sa.Connection, resource_id: str) -> ResourceRecord:
    row = (
        conn.execute(sa.select(tables.resources).where(tables.resources.c.id == resource_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ResourceNotFound(resource_id=resource_id)
    return _resource(row)


def resources_of_request(conn: sa.Connection, request_id: str) -> list[ResourceRecord]:
    rows = conn.execute(
        sa.select(tables.resources).where(tables.resources.c.request_id == request_id)
    ).mappings()
    return [_resource(r) for r in rows]


def list_resources(
    conn: sa.Connection,
    *,
    teams: Sequence[str] | None = None,
    state: str | None = None,
    include_destroyed: bool = False,
    limit: int = 200,
    before: tuple[datetime, str] | None = None,
) -> list[ResourceRecord]:
    """Newest first; ``teams`` None means every team; ``before`` the (created_at, id) of the
    last resource of the previous page."""
    rows = _newest_first(
        conn, tables.resources, _resource_filters(teams, state, include_destroyed), limit, before
    )
    return [_resource(row) for row in rows]


def count_resources(
    conn: sa.Connection,
    *,
    teams: Sequence[str] | None = None,
    state: str | None = None,
    include_destroyed: bool = False,
) -> int:
    query = sa.select(sa.func.count()).where(*_resource_filters(teams, state, include_destroyed))
    return int(conn.execute(query.select_from(tables.resources)).scalar_one())


def _resource_filters(
    teams: Sequence[str] | None, state: str | None, include_destroyed: bool
) -> list[sa.ColumnElement[bool]]:
    r = tables.resources
    found: list[sa.ColumnElement[bool]] = []
    if teams is not None:
        found.append(r.c.owner_team.in_(list(teams)))
    if state:
        found.append(r.c.state == state)
    elif not include_destroyed:
        found.append(r.c.state != "destroyed")
    return found


def team_spend_and_budget(conn: sa.Connection, team: str) -> tuple[float, float | None]:
    """In one query: the monthly cost of everything the team owns that is not destroyed, and
    the team's stored budget (None when it has none)."""
    total, stored = conn.execute(_TEAM_SPEND_AND_BUDGET, {"wanted_team": team}).one()
    return float(total or 0), None if stored is None else float(stored)


def _team_spend_and_budget() -> sa.Select[Any]:
    r = tables.resources
    team: sa.BindParameter[str] = sa.bindparam("wanted_team", type_=sa.String())
    spend = (
        sa.select(sa.func.coalesce(sa.func.sum(r.c.monthly_cost_usd), 0))
        .where(r.c.owner_team == team, r.c.state != "destroyed")
        .scalar_subquery()
    )
    budget = (
        sa.select(tables.teams.c.monthly_budget_usd)
        .where(tables.teams.c.name == team)
        .scalar_subquery()
    )
    return sa.select(spend, budget)


_TEAM_SPEND_AND_BUDGET = _team_spend_and_budget()


# --- events -------------------------------------------------------------------------------


GENESIS_HASH = "0" * 64
# The chain's lock (pg_advisory_xact_lock 74110002, bounded to 5 s) and its head, in one call:
# migration 0009 defines it.
_TAKE_AUDIT_LOCK = sa.text("SELECT head_hash, head_count FROM gp_audit_lock_head()")
# The events (a JSON array, in order: ids are taken in the order of ORDER BY) and the new head,
# in one statement whatever their number. Text, so it is compiled once: built with Core, the
# multi-row insert in a CTE was compiled anew at every append (a third of a submit's CPU).
_APPEND_EVENTS = sa.text(
    """
    WITH appended AS (
        INSERT INTO gp_events (at, actor, action, target, details, prev_hash, hash, key_id)
        SELECT r.at, r.actor, r.action, r.target, r.details, r.prev_hash, r.hash, r.key_id
        FROM ROWS FROM (
            jsonb_to_recordset(CAST(:rows AS jsonb)) AS (
                at timestamptz, actor text, action text, target text, details jsonb,
                prev_hash text, hash text, key_id text
            )
        ) WITH ORDINALITY AS r(at, actor, action, target, details, prev_hash, hash, key_id, n)
        ORDER BY r.n
    )
    INSERT INTO gp_audit_head (id, hash, count) VALUES (1, :head, :count)
    ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, count = excluded.count
    """
)


@dataclass(frozen=True)
class AuditEvent:
    actor: str
    action: str
    target: str
    details: Mapping[str, Any]


def event_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any],
    *,
    keys: AuditKeys | None = None,
    key_id: str | None = None,
) -> str:
    """The hash an audit event carries: its own content and the hash of the event before it,
    signed (HMAC-SHA256) with the audit key ``key_id``. Events written before the chain was
    keyed (no ``key_id``) carry a plain SHA-256, which anyone can recompute."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()
    if key_id is None:
        return hashlib.sha256(body).hexdigest()
    if keys is None:
        raise ValueError("a keyed event hash needs the audit keys")
    return keys.sign(key_id, body)


def record_event(
    conn: sa.Connection, actor: str, action: str, target: str, details: Mapping[str, Any]
) -> None:
    """Append an audit event to the hash chain, inside the caller's transaction."""
    record_events(conn, [AuditEvent(actor, action, target, details)])


def record_events(conn: sa.Connection, events: Sequence[AuditEvent]) -> None:
    """Append audit events, in order, to the hash chain, inside the caller's transaction.

    The transaction-scoped lock orders appends: the events that commit next are the ones whose
    first ``prev_hash`` names the current head, so the chain has no forks. Two round trips
    whatever the number of events: the lock with the head, then the rows with the new head.
    """
    if not events:
        return
    keys = keys_of(conn)
    # Bounded: a session holding this lock fails the change after a few seconds with a clear
    # error instead of stalling every change of the platform for as long as it holds it.
    try:
        head = conn.execute(_TAKE_AUDIT_LOCK).one()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise AuditLogBusy() from exc
        raise
    prev = head.head_hash or GENESIS_HASH
    count = int(head.head_count or 0)
    rows = []
    for event in events:
        at = datetime.now(UTC)
        clean = json.loads(json.dumps(dict(event.details), default=str))
        digest = event_hash(
            prev, at, event.actor, event.action, event.target, clean, keys=keys, key_id=keys.current
        )
        rows.append(
            {
                "at": at.isoformat(),
                "actor": event.actor,
                "action": event.action,
                "target": event.target,
                "details": clean,
                "prev_hash": prev,
                "hash": digest,
                "key_id": keys.current,
            }
        )
        prev, count = digest, count + 1
    conn.execute(_APPEND_EVENTS, {"rows": json.dumps(rows), "head": prev, "count": count})


def events(conn: sa.Connection, target: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(tables.events).order_by(tables.events.c.id)
    if target:
        query = query.where(tables.events.c.target == target)
    return [dict(r) for r in conn.execute(query).mappings()]


# --- rows to records ----------------------------------------------------------------------


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _step_of_json(data: Mapping[str, Any]) -> StepRecord:
    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    sealed = data["secret_outputs"]
    return StepRecord(
        **{name: data[name] for name in _STEP_PLAIN_COLUMNS},
        started_at=moment(data["started_at"]),
        finished_at=moment(data["finished_at"]),
        secret_outputs=None if sealed is None else base64.b64decode(sealed),
    )


def _request(row: sa.RowMapping, steps: Iterable[StepRecord]) -> RequestRecord:
    return RequestRecord(
        id=row["id"],
        template_name=row["template_name"],
        template_version=row["template_version"],
        template_snapshot=row["template_snapshot"],
        parameters=row["parameters"],
        status=row["status"],
        requested_by=row["requested_by"],
        owner_team=row["owner_team"],
        plan=row["plan"],
        verdict=row["verdict"],
        outputs=row["outputs"],
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        steps=tuple(steps),
        secret_outputs=_bytes(row["secret_outputs"]),
        is_exception=row["is_exception"],
        justification=row["justification"],
        decided_by=row["decided_by"],
        decision_comment=row["decision_comment"],
        decided_at=row["decided_at"],
        secret_parameters=_bytes(row["secret_parameters"]),
    )


def resource_record(row: sa.RowMapping) -> ResourceRecord:
    """A resources-table row as a record (for queries built elsewhere)."""
    return _resource(row)


def _resource(row: sa.RowMapping) -> ResourceRecord:
    cost = row["monthly_cost_usd"]
    return ResourceRecord(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        backend=row["backend"],
        owner_team=row["owner_team"],
        template_name=row["template_name"],
        template_version=row["template_version"],
        request_id=row["request_id"],
        step_id=row["step_id"],
        config=row["config"],
        outputs=row["outputs"],
        state=row["state"],
        monthly_cost_usd=None if cost is None else float(cost),
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        destroyed_at=row["destroyed_at"],
        error=row["error"],
        expiry_warned_at=row.get("expiry_warned_at"),
    )
