"""The platform's tables (SQLAlchemy Core). Migrations in ``store/migrations`` create them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()


def _now() -> sa.TextClause:
    return sa.text("now()")


requests = sa.Table(
    "gp_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("template_name", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(100), nullable=False),
    # The template document as submitted: the worker runs exactly this, even if the file changes.
    sa.Column("template_snapshot", JSONB, nullable=False),
    sa.Column("parameters", JSONB, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("requested_by", sa.String(100), nullable=False),
    sa.Column("owner_team", sa.String(100), nullable=False),
    sa.Column("plan", JSONB, nullable=False),
    sa.Column("verdict", JSONB, nullable=True),
    sa.Column("outputs", JSONB, nullable=True),
    sa.Column("secret_outputs", sa.LargeBinary, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("is_exception", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("justification", sa.Text, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decision_comment", sa.Text, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_gp_requests_status", "status"),
    sa.Index("ix_gp_requests_created_at", "created_at"),
)

steps = sa.Table(
    "gp_steps",
    metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), primary_key=True),
    sa.Column("step_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("input", JSONB, nullable=True),
    sa.Column("outputs", JSONB, nullable=True),
    sa.Column("secret_outputs", sa.LargeBinary, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)

step_logs = sa.Table(
    "gp_step_logs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), nullable=False),
    sa.Column("step_id", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_gp_step_logs_request", "request_id", "id"),
)

checkpoints = sa.Table(
    "gp_checkpoints",
    metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), primary_key=True),
    sa.Column("step_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    # Encrypted: checkpoints often hold generated passwords.
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

resources = sa.Table(
    "gp_resources",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("backend", sa.String(100), nullable=False),
    sa.Column("owner_team", sa.String(100), nullable=False),
    sa.Column("template_name", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(100), nullable=False),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), nullable=False),
    sa.Column("step_id", sa.String(64), nullable=False),
    sa.Column("config", JSONB, nullable=False),
    sa.Column("outputs", JSONB, nullable=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("monthly_cost_usd", sa.Numeric(12, 2), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("request_id", "step_id", name="uq_gp_resources_step"),
    # One live resource per kind, backend and name: the reservation that stops two requests
    # (or a retried one) from creating the same thing twice.
    sa.Index(
        "uq_gp_resources_live_name",
        "kind",
        "backend",
        "name",
        unique=True,
        postgresql_where=sa.text("state <> 'destroyed'"),
    ),
)

events = sa.Table(
    "gp_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("details", JSONB, nullable=False),
)
