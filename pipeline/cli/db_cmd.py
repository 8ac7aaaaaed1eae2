"""``fundradar db upgrade|status``."""

from __future__ import annotations

import typer

from pipeline.cli.common import echo, new_app, state

db_app = new_app("Manage the database schema.\n\nExample: fundradar db status")


@db_app.command("upgrade")
def upgrade_cmd() -> None:
    """Apply pending schema migrations (also done automatically on first use).

    Example: FUNDRADAR_DB=postgresql+psycopg://fundradar@db/fundradar fundradar db upgrade
    """
    from pipeline.core.db import create_db_engine, database_url, describe_url, upgrade

    url = database_url(state().db_url)
    revision = upgrade(create_db_engine(url))
    echo(f"{describe_url(url)}: schema at revision {revision}")


@db_app.command("status")
def status_cmd() -> None:
    """Show the database URL and its schema revision.

    Example: fundradar db status
    """
    from pipeline.core.db import create_db_engine, current_revision, database_url, describe_url, head_revision

    st = state()
    st.require_database()  # a status is a read: a mistyped path must not create the file it asks about
    url = database_url(st.db_url)
    current = current_revision(create_db_engine(url))
    head = head_revision()
    note = "up to date" if current == head else f"behind (newest is {head}); run `fundradar db upgrade`"
    echo(f"{describe_url(url)}: revision {current or 'none'}, {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
