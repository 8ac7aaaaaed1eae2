"""Alembic environment: the engine comes from pipeline.core.db (never from an ini file)."""

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import pipeline.core.models  # noqa: F401  (registers the tables)
from pipeline.core.locks import advisory_key

config = context.config
target_metadata = SQLModel.metadata
MIGRATION_LOCK = "schema-migration"
MIGRATION_LOCK_WAIT = "10min"  # another process's migration of a large database may take minutes


def _one_migration_at_a_time(connection: sa.Connection) -> None:
    """PostgreSQL: two processes opening a new or older database at once (serve and a cron ``run``)
    both found it behind and both migrated, and one failed on the tables the other had created. The
    transaction-level advisory lock makes the second wait; alembic then reads the revision the first
    committed and has nothing left to do. (SQLite's BEGIN IMMEDIATE already admits one writer.)"""
    if connection.dialect.name != "postgresql":
        return
    usual = connection.exec_driver_sql("SHOW lock_timeout").scalar()
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT}'")
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(MIGRATION_LOCK)})
    connection.execute(sa.text("SELECT set_config('lock_timeout', :usual, true)"), {"usual": usual})


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        _one_migration_at_a_time(connection)
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        context.run_migrations()


run_migrations_online()
