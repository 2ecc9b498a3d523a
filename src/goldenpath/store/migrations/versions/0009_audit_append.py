"""The audit chain's lock and head read in one call (one round trip per append).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# VOLATILE: the head is read with a snapshot taken after the lock is granted, so it is the head
# the previous holder committed. The 5 s bound is for this lock only: the caller's lock_timeout
# (the role's, the session's or the transaction's) is put back afterwards.
FUNCTION = """
CREATE OR REPLACE FUNCTION gp_audit_lock_head(OUT head_hash text, OUT head_count bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    callers_timeout text := current_setting('lock_timeout');
BEGIN
    PERFORM set_config('lock_timeout', '5s', true);
    PERFORM pg_advisory_xact_lock(74110002);
    PERFORM set_config('lock_timeout', callers_timeout, true);
    SELECT h.hash, h.count INTO head_hash, head_count FROM gp_audit_head AS h WHERE h.id = 1;
END
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gp_audit_lock_head()")
