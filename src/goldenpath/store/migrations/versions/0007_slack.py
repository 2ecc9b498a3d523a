"""Slack: linked identities, one-time link codes, handled deliveries, messages per request.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gp_slack_identities",
        sa.Column("slack_user_id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("gp_users.name"), nullable=False),
        sa.Column("linked_by", sa.String(100), nullable=False),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )
    op.create_index("ix_gp_slack_identities_user", "gp_slack_identities", ["user_name"])
    op.create_table(
        "gp_slack_link_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "gp_slack_deliveries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_table(
        "gp_slack_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("gp_requests.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("posted_hash", sa.String(64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_index("ix_gp_slack_messages_request", "gp_slack_messages", ["request_id"])


def downgrade() -> None:
    op.drop_table("gp_slack_messages")
    op.drop_table("gp_slack_deliveries")
    op.drop_table("gp_slack_link_codes")
    op.drop_table("gp_slack_identities")
