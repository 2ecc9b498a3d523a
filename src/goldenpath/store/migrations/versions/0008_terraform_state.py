"""Terraform state sealed in the platform's database, and its locks as leased rows.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gp_terraform_states",
        sa.Column("workspace", sa.String(63), primary_key=True),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_table(
        "gp_terraform_locks",
        sa.Column("workspace", sa.String(63), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("info", JSONB, nullable=False),
        sa.Column(
            "renewed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_index("ix_gp_terraform_locks_holder", "gp_terraform_locks", ["holder"])


def downgrade() -> None:
    op.drop_table("gp_terraform_locks")
    op.drop_table("gp_terraform_states")
