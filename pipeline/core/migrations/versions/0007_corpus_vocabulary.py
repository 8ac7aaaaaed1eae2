"""corpus vocabulary: the fitted corpus model in its own table, apart from its drift counter

SQLite rewrites a whole row to update one column: with the model's megabytes in ``corpus_model``, every
incremental scoring run (which updates ``corpus_model.drift``) wrote them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:45:00.000000
"""

import hashlib

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('corpus_vocabulary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('vocabulary', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    conn = op.get_bind()
    for version, vocabulary in conn.execute(sa.text("SELECT version, vocabulary FROM corpus_model")).all():
        blob = bytes(vocabulary or b"")
        conn.execute(sa.text("INSERT INTO corpus_vocabulary (version, digest, vocabulary) "
                             "VALUES (:version, :digest, :blob)"),
                     {"version": version, "digest": hashlib.sha1(blob).hexdigest(), "blob": blob})
    with op.batch_alter_table('corpus_model', schema=None) as batch_op:
        batch_op.drop_column('vocabulary')


def downgrade() -> None:
    with op.batch_alter_table('corpus_model', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vocabulary', sa.LargeBinary(), nullable=False,
                                      server_default=sa.text("''")))
    op.execute("UPDATE corpus_model SET vocabulary = COALESCE((SELECT v.vocabulary FROM corpus_vocabulary v "
               "WHERE v.version = corpus_model.version), vocabulary)")
    op.drop_table('corpus_vocabulary')
