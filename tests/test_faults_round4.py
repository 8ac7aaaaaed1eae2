"""Faults of the fourth round, each met for real: a PostgreSQL role without the rights fundradar needs,
against the real server through the real CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.db import open_database
from tests.conftest import PG_ADMIN_URL

ADMIN = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_role(pg_url: str) -> Iterator[tuple[str, str]]:
    """A login role of the server that owns nothing (PostgreSQL 15 and later give such a role no CREATE
    on schema public); its name and pg_url as that role. Dropped afterwards."""
    role = f"fundradar_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    database = pg_url.rsplit("/", 1)[1]
    try:
        yield role, pg_url.replace("postgres@", f"{role}@", 1)
    finally:
        with psycopg.connect(ADMIN.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_role_that_may_not_create_tables_is_one_line_naming_the_grant(pg_role) -> None:
    role, url = pg_role
    result = _cli("--db", url, "calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Error: {url}: role {role} may not create or change fundradar's tables (permission denied for "
        "schema public); nothing was changed: run `fundradar db upgrade` once as the database's owner, or "
        f"GRANT CREATE ON SCHEMA public TO {role}\n")


def test_a_role_that_may_only_read_is_one_line_when_it_writes(pg_url: str, pg_role) -> None:
    role, url = pg_role
    open_database(pg_url).dispose()  # the schema, made by the database's owner
    with psycopg.connect(ADMIN.rsplit("/", 1)[0] + "/" + pg_url.rsplit("/", 1)[1], autocommit=True) as conn:
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    assert _cli("--db", url, "calls", "list").exit_code == 0  # reading is allowed
    result = _cli("--db", url, "ideas", "add", "Hydrogen ferries")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: {url}: role {role} may not write fundradar's tables "
                                    "(permission denied for table "), result.stderr
    assert result.stderr.endswith(
        f"); nothing of this write was stored: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
        f"public TO {role} and GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}, or connect as the "
        "tables' owner\n"), result.stderr
