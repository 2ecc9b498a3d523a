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
    # Parameters the form marks secret (writeOnly, format: password): sealed here, masked above.
    sa.Column("secret_parameters", sa.LargeBinary, nullable=True),
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
    # When its owners were warned that it expires soon; cleared when it is extended.
    sa.Column("expiry_warned_at", sa.DateTime(timezone=True), nullable=True),
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
    # Each event carries the hash of the one before it: editing, removing or reordering any
    # event breaks every hash after it (`goldenpath audit verify`).
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=True),
    # The audit key that signed the hash (HMAC); NULL for events from before the chain was keyed.
    sa.Column("key_id", sa.String(16), nullable=True),
)

# The chain's head: the last event's hash and the count, so removing the newest events is
# detected too (nothing after them would notice).
audit_head = sa.Table(
    "gp_audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "gp_users",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    # "<issuer>#<subject>" for users of an identity provider: the provider's stable key for
    # them. A name alone could be claimed by anyone the provider lets pick one.
    sa.Column("external_id", sa.String(500), nullable=True),
    sa.Index("uq_gp_users_external_id", "external_id", unique=True),
)

teams = sa.Table(
    "gp_teams",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("monthly_budget_usd", sa.Numeric(12, 2), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

memberships = sa.Table(
    "gp_memberships",
    metadata,
    sa.Column("user_name", sa.String(100), sa.ForeignKey("gp_users.name"), primary_key=True),
    sa.Column("team", sa.String(63), sa.ForeignKey("gp_teams.name"), primary_key=True),
    sa.Column("role", sa.String(20), primary_key=True),
)

tokens = sa.Table(
    "gp_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("user_name", sa.String(100), sa.ForeignKey("gp_users.name"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    # Only a hash: the token itself is shown once, when it is made.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
)

# Insights: ticket history imported from the team's tracker, keyed on where it came from and
# the tracker's id, so importing the same export twice changes nothing.
tickets = sa.Table(
    "gp_tickets",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("ticket_key", sa.String(200), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.String(200), nullable=True),
    sa.Column("status", sa.String(100), nullable=True),
    sa.Column("resolution", sa.String(100), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("assignee", sa.String(200), nullable=True),
    sa.Column("comments", sa.Integer, nullable=False, server_default="0"),
    sa.Column("worklog_seconds", sa.Integer, nullable=True),
    # The classification: the golden path that replaces it (or none yet), its score and how
    # it was found, and the candidate type it was clustered into when no path replaces it.
    sa.Column("path", sa.String(100), nullable=True),
    sa.Column("score", sa.Float, nullable=False, server_default="0"),
    sa.Column("method", sa.String(16), nullable=False, server_default="none"),
    sa.Column("candidate", sa.String(200), nullable=True),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("ix_gp_tickets_created_at", "created_at"),
)

# An admin's correction of a ticket's class: a golden path's name, or a ticket type's name.
ticket_overrides = sa.Table(
    "gp_ticket_overrides",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("ticket_key", sa.String(200), primary_key=True),
    sa.Column("class_name", sa.String(200), nullable=False),
    sa.Column("decided_by", sa.String(100), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

# Slack: which platform user a Slack user is (linked by an admin or by a confirmed one-time
# code), the pending codes (only their hash), the Slack deliveries already handled (Slack
# retries; a retry must not submit twice), and the messages that follow a request.
slack_identities = sa.Table(
    "gp_slack_identities",
    metadata,
    sa.Column("slack_user_id", sa.String(32), primary_key=True),
    sa.Column("user_name", sa.String(100), sa.ForeignKey("gp_users.name"), nullable=False),
    sa.Column("linked_by", sa.String(100), nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("ix_gp_slack_identities_user", "user_name"),
)

slack_link_codes = sa.Table(
    "gp_slack_link_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("slack_user_id", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

slack_deliveries = sa.Table(
    "gp_slack_deliveries",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(36), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

slack_messages = sa.Table(
    "gp_slack_messages",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), nullable=False),
    # thread: the requester's message, updated as the request runs; approval: one per
    # approvers' channel or DM; decision: the reply in the requester's thread.
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("slack_user_id", sa.String(32), nullable=True),
    sa.Column("thread_ts", sa.String(32), nullable=True),
    sa.Column("ts", sa.String(32), nullable=True),
    sa.Column("posted_hash", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("ix_gp_slack_messages_request", "request_id"),
)

# Terraform state served to Terraform's `http` backend by the platform, sealed with its key.
terraform_states = sa.Table(
    "gp_terraform_states",
    metadata,
    sa.Column("workspace", sa.String(63), primary_key=True),
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

# Leased locks on a workspace, as rows: `operation` (one platform operation at a time) and
# `state` (Terraform's own LOCK). A lock whose holder stopped renewing it lapses.
terraform_locks = sa.Table(
    "gp_terraform_locks",
    metadata,
    sa.Column("workspace", sa.String(63), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("info", JSONB, nullable=False),
    sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("ix_gp_terraform_locks_holder", "holder"),
)
