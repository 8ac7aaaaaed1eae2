"""drop redundant call_id indexes: score and verdict are looked up by call through their unique keys

``uq_score`` (call_id, strategy, focus_area) and ``uq_verdict`` (call_id, strategy) start with
``call_id``, so they serve every lookup by call (and the foreign key's checks); the separate
``ix_score_call_id`` and ``ix_verdict_call_id`` only had to be kept up to date on every write
(a quarter of the time of inserting a strategy's score rows).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:10:00.000000
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_score_call_id', table_name='score')
    op.drop_index('ix_verdict_call_id', table_name='verdict')


def downgrade() -> None:
    op.create_index('ix_verdict_call_id', 'verdict', ['call_id'], unique=False)
    op.create_index('ix_score_call_id', 'score', ['call_id'], unique=False)
