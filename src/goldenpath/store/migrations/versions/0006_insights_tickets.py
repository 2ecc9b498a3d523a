"""Insights: imported tickets and admins' class overrides.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gp_tickets",
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
        sa.Column("path", sa.String(100), nullable=True),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("method", sa.String(16), nullable=False, server_default="none"),
        sa.Column("candidate", sa.String(200), nullable=True),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_index("ix_gp_tickets_created_at", "gp_tickets", ["created_at"])
    op.create_table(
        "gp_ticket_overrides",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("ticket_key", sa.String(200), primary_key=True),
        sa.Column("class_name", sa.String(200), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )


def downgrade() -> None:
    op.drop_table("gp_ticket_overrides")
    op.drop_index("ix_gp_tickets_created_at", table_name="gp_tickets")
    op.drop_table("gp_tickets")
