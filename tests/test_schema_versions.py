"""A database whose schema is at another revision than this build's: one migration behind is upgraded in
place, one a newer fundradar wrote (a revision this build does not know) is refused in one line that
says so, for every command, on SQLite and PostgreSQL, and nothing of it is changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.core.db import head_revision, open_database

NEWER = "0099_from_a_newer_build"


def _set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def _revision(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return revision


@pytest.mark.parametrize("command", [["calls", "list"], ["sync", "--replay", "/nonexistent"],
                                     ["db", "upgrade"],
                                     ["ideas", "add", "Robots", "--focus", "digital_industry"]])
def test_a_schema_a_newer_fundradar_wrote_is_one_line_for_every_command(db_url: str, cli, command) -> None:
    open_database(db_url).dispose()
    _set_revision(db_url, NEWER)
    result = cli(*command)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"Error: {db_url}: schema revision {NEWER} is newer than this fundradar knows (its "
                     f"newest is {head_revision()}): a newer fundradar upgraded it; run that version against "
                     "this database, nothing was changed"], result.output
    assert _revision(db_url) == NEWER


def test_db_status_says_a_newer_schema_is_ahead_not_behind(db_url: str, cli) -> None:
    open_database(db_url).dispose()
    _set_revision(db_url, NEWER)
    result = cli("db", "status")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (f"{db_url}: revision {NEWER}, ahead of this fundradar (its newest is "
                                     f"{head_revision()}): a newer fundradar upgraded it; run that version")


def test_a_newer_schema_on_postgresql_is_one_line(pg_url: str) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    open_database(pg_url).dispose()
    _set_revision(pg_url, NEWER)
    result = CliRunner().invoke(app, ["--db", pg_url, "calls", "list"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "is newer than this fundradar knows" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _revision(pg_url) == NEWER


def test_a_schema_one_migration_behind_is_upgraded_in_place_keeping_its_rows(db_url: str, cli) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine

    engine = create_db_engine(db_url)
    command.upgrade(alembic_config(engine), "0010")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO idea (title, description, focus_areas, target_countries, status, "
                             "created_at, updated_at) VALUES ('Kept idea', '', '[]', '[]', 'idea', "
                             "'2026-08-01 00:00:00', '2026-08-01 00:00:00')"))
    engine.dispose()
    result = cli("ideas", "list", "--json")
    assert result.exit_code == 0, result.output
    assert "Kept idea" in result.output
    assert _revision(db_url) == head_revision()
