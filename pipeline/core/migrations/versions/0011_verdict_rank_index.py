"""rank calls across focus areas by the verdict's best score, not a cross-area score index

`calls list --top N` without a focus area read the score rows of every area best first through
ix_score_rank (strategy, score, call_id, focus_area). A call's best score over the areas is already its
verdict's best_score, one row per call, so ix_verdict_rank (strategy, best_score, call_id) serves that
listing. Dropping ix_score_rank takes a third of the pages a scoring run after a few changed calls
wrote: each of those calls had an entry in it for every area it scored in, each on its own page.
ix_verdict_strategy is dropped as well: ix_verdict_rank starts with the strategy.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:41:05
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_score_rank', table_name='score')
    op.drop_index('ix_verdict_strategy', table_name='verdict')
    op.create_index('ix_verdict_rank', 'verdict', ['strategy', 'best_score', 'call_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_verdict_rank', table_name='verdict')
    op.create_index('ix_verdict_strategy', 'verdict', ['strategy'], unique=False)
    op.create_index('ix_score_rank', 'score', ['strategy', 'score', 'call_id', 'focus_area'], unique=False)
