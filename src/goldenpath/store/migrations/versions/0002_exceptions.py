"""Exception requests and approval decisions on requests.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "gp_requests",
        sa.Column("is_exception", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("gp_requests", sa.Column("justification", sa.Text(), nullable=True))
    op.add_column("gp_requests", sa.Column("decided_by", sa.String(length=100), nullable=True))
    op.add_column("gp_requests", sa.Column("decision_comment", sa.Text(), nullable=True))
    op.add_column("gp_requests", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in ("decided_at", "decision_comment", "decided_by", "justification", "is_exception"):
        op.drop_column("gp_requests", column)
