"""Users, teams, memberships, API tokens; the hash chain on audit events; sealed parameters.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gp_requests", sa.Column("secret_parameters", sa.LargeBinary(), nullable=True))
    op.add_column("gp_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("gp_events", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_table(
        "gp_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Events written before the chain existed are chained now, in order, so the whole history
    # verifies from the first event on.
    _chain_existing_events()
    op.create_table(
        "gp_users",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "gp_teams",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("monthly_budget_usd", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "gp_memberships",
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["team"], ["gp_teams.name"]),
        sa.ForeignKeyConstraint(["user_name"], ["gp_users.name"]),
        sa.PrimaryKeyConstraint("user_name", "team", "role"),
    )
    op.create_table(
        "gp_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_name"], ["gp_users.name"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _chain_existing_events() -> None:
    from goldenpath.store.queries import GENESIS_HASH, event_hash

    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, at, actor, action, target, details FROM gp_events ORDER BY id")
    ).mappings()
    prev = GENESIS_HASH
    count = 0
    for row in rows:
        digest = event_hash(
            prev, row["at"], row["actor"], row["action"], row["target"], row["details"]
        )
        bind.execute(
            sa.text("UPDATE gp_events SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": prev, "hash": digest, "id": row["id"]},
        )
        prev = digest
        count += 1
    if count:
        bind.execute(
            sa.text("INSERT INTO gp_audit_head (id, hash, count) VALUES (1, :hash, :count)"),
            {"hash": prev, "count": count},
        )


def downgrade() -> None:
    op.drop_table("gp_audit_head")
    op.drop_table("gp_tokens")
    op.drop_table("gp_memberships")
    op.drop_table("gp_teams")
    op.drop_table("gp_users")
    op.drop_column("gp_events", "hash")
    op.drop_column("gp_events", "prev_hash")
    op.drop_column("gp_requests", "secret_parameters")
