"""Users signed in through OIDC are bound to their issuer and subject, not to a name.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gp_users", sa.Column("external_id", sa.String(length=500), nullable=True))
    op.create_index("uq_gp_users_external_id", "gp_users", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_gp_users_external_id", table_name="gp_users")
    op.drop_column("gp_users", "external_id")
