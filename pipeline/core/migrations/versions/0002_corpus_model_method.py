"""corpus model method: the scoring method a stored corpus model was fitted with

A model fitted by another method (an older LSA size, say) is refitted by the next scoring run; rows
stored before this revision get "" and are refitted too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:37:07.935715
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('corpus_model', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('corpus_model', schema=None) as batch_op:
        batch_op.drop_column('method')
