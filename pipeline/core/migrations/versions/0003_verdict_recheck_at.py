"""verdict recheck_at and scoring_model rules_hash: verdicts recomputed only when due

``verdict.recheck_at`` is when the clock alone may change a verdict; ``scoring_model.rules_hash`` the
rules its verdicts were computed with. Rows stored before this revision get NULL and "": the next
scoring run recomputes every verdict once and fills both in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:55:47.698878
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pipeline.core.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('verdict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recheck_at', pipeline.core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('verdict', schema=None) as batch_op:
        batch_op.drop_column('recheck_at')
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.drop_column('rules_hash')
