"""call.raw_hash: the hash of each result as the source sent it

A new nullable column: calls stored before have none, so the next sync parses each of their results
once and stores its hash; nothing else changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:09:02.275907
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import pipeline.core.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('raw_hash')
