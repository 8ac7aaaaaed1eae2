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
    from pipeline.core import db

    st = state()
    st.require_database()  # a status is a read: a mistyped path must not create the file it asks about
    url = db.database_url(st.db_url)
    current = db.current_revision(db.create_db_engine(url))
    head = db.head_revision()
    if current == head:
        note = "up to date"
    elif current is not None and not db.known_revision(current):
        note = (f"ahead of this fundradar (its newest is {head}): a newer fundradar upgraded it; run that "
                "version")
    else:
        note = f"behind (newest is {head}); run `fundradar db upgrade`"
    echo(f"{db.describe_url(url)}: revision {current or 'none'}, {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
