"""call.missing_since: a call missing from one complete answer is marked, not removed

A new nullable column: the first complete answer of a source that lacks an active call (its deadline
still ahead) sets it; the next complete answer lacking the call too removes it; an answer listing the
call clears it. Calls stored before have no mark, so nothing changes for them until then.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:20:00
"""

from alembic import op
import sqlalchemy as sa
import pipeline.core.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missing_since', pipeline.core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('missing_since')
