"""call_follow and slack_interaction: follow and mute per strategy and call, clicks from Slack

``call_follow`` holds a strategy's follow and mute state of a call (who, when); ``slack_interaction``
every accepted click or modal submission from Slack, keyed so that a redelivered envelope is a no-op.
Both are new tables: nothing stored before changes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:39:07.626768
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import pipeline.core.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_follow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('at', pipeline.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('strategy', 'call_id', 'kind', name='uq_call_follow')
    )
    with op.batch_alter_table('call_follow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_follow_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_follow_strategy'), ['strategy'], unique=False)

    op.create_table('slack_interaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('idea_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('at', pipeline.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('slack_interaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_interaction_key'), ['key'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('slack_interaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_interaction_key'))

    op.drop_table('slack_interaction')
    with op.batch_alter_table('call_follow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_follow_strategy'))
        batch_op.drop_index(batch_op.f('ix_call_follow_call_id'))

    op.drop_table('call_follow')
