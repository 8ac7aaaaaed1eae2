"""score.evidence: equal scores rank by the score before its caps at 1

A new nullable column: a score is min(1, gate × min(1, cosines + coverage)), so the calls of an area
whose evidence passes 1 all score 1.000 and ranked by deadline alone. The uncapped value orders them.
Rows stored before have none and rank as their score until the strategy is rescored (the scoring
method's name changed with it, so the next scoring run rescores every call).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_column('evidence')
