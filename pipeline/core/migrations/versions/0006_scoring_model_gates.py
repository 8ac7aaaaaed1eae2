"""scoring model gates: each focus area's gate query kept with the strategy's query vectors

An incremental scoring run loads the gate queries instead of building them again; rows stored before
this revision get an empty hash, so the next scoring run builds them once and keeps them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:07:58.307408
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gates_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('gates', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('scoring_model', schema=None) as batch_op:
        batch_op.drop_column('gates')
        batch_op.drop_column('gates_hash')
