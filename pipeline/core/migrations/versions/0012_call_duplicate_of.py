"""call.duplicate_of: the same call stored by two sources is listed once

A new nullable, indexed column: a call another source also stored (the same topic identifier or call
page, pipeline.core.duplicates) names the copy that is listed, digested and alerted instead. It is
worked out from the stored identifiers after each source's run; calls stored before have none until
then.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_call_duplicate_of'), ['duplicate_of'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_duplicate_of'))
        batch_op.drop_column('duplicate_of')
