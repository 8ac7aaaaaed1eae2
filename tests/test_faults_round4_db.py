"""Database faults met for real through the real CLI: a PostgreSQL role without the rights fundradar
needs, a server that takes no writes, a search_path naming no schema, a server out of connections; a
damaged SQLite file, a --db path that is a folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

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


def test_a_role_without_connect_on_the_database_is_told_to_grant_connect(pg_url: str, pg_role) -> None:
    # "permission denied for database" comes at connection for a role without CONNECT (revoked from
    # PUBLIC): no CREATE on schema public, nor running db upgrade as the owner, lets it in
    role, url = pg_role
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM PUBLIC')
    result = _cli("--db", url, "calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f'Error: {url}: role {role} may not connect to database {database} (permission denied for database '
        f'"{database}"); nothing was changed: GRANT CONNECT ON DATABASE "{database}" TO {role}\n')


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


def test_a_damaged_database_file_is_one_line(db_url: str, cli) -> None:
    # a file whose header is SQLite's and whose pages are not (a disk fault, a copy taken mid-write)
    # ended every command in a traceback ending "database disk image is malformed"
    open_database(db_url).dispose()
    path = Path(db_url.removeprefix("sqlite:///"))
    with path.open("r+b") as file:
        file.seek(100)  # past the 100-byte header: the schema's own page and the pages after it
        file.write(b"\xff" * (path.stat().st_size - 100))
    damaged = path.read_bytes()
    result = cli("calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {db_url} is damaged (database disk image is malformed); nothing was "
                             "written: restore it from a backup, or recover what it holds with sqlite3 "
                             f"{path} .recover into a new file and point FUNDRADAR_DB / --db at that\n")
    assert path.read_bytes() == damaged


def test_a_postgresql_database_that_takes_no_writes_is_one_line(pg_url: str) -> None:
    # FUNDRADAR_DB pointed at a standby (a read replica) or at a database with default_transaction_read_only
    # on: every write ended in a traceback ending "cannot execute INSERT in a read-only transaction"
    open_database(pg_url).dispose()
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    assert _cli("--db", pg_url, "calls", "list").exit_code == 0  # reading is fine
    result = _cli("--db", pg_url, "ideas", "add", "Hydrogen ferries")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {pg_url} takes no writes (cannot execute INSERT in a read-only "
                             "transaction: a standby server, or default_transaction_read_only is on); "
                             "nothing was written, point FUNDRADAR_DB / --db at the primary server, or turn "
                             "default_transaction_read_only off for fundradar's database and role\n")


def test_a_search_path_naming_no_schema_is_one_line(pg_url: str) -> None:
    # a URL whose libpq options set a search_path to a schema not made yet (or mistyped) ended in a
    # traceback ending "no schema has been selected to create in"
    url = pg_url + "?options=-csearch_path%3Dfundradar"
    result = _cli("--db", url, "calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {url}: its search_path names no schema that exists (no schema has been "
                             "selected to create in); nothing was changed, create the schema (CREATE SCHEMA "
                             "…) or correct the search_path in the URL's options\n")


@pytest.mark.parametrize("command", [["calls", "list"], ["ideas", "add", "Hydrogen ferries"],
                                     ["db", "status"]])
def test_a_database_path_that_is_a_folder_says_so(tmp_path: Path, command: list[str]) -> None:
    # read commands said "no database at data; run fundradar sync first", and sync then "cannot open
    # sqlite:///data; check that its folder exists and is writable": neither said it was a folder
    folder = tmp_path / "data"
    folder.mkdir()
    result = _cli("--db", str(folder), *command)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {folder} is a folder, not a database file; point FUNDRADAR_DB / --db "
                             f"at a file, such as {folder / 'fundradar.db'} (a new path creates one)\n")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command", [["calls", "list"], ["ideas", "add", "Hydrogen ferries"]])
def test_a_server_out_of_connections_says_so_not_to_check_the_url(pg_role, command: list[str]) -> None:
    # a hosted server's per-role limit (serve's jobs hold up to 50 connections) read "…FATAL: too many
    # connections for role "x"; check FUNDRADAR_DB or --db", though the URL was right
    role, url = pg_role
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT 0')
    result = _cli("--db", url, *command)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert f'too many connections for role "{role}"' in result.stderr, result.stderr
    assert result.stderr.endswith(
        "; the server's connection limit is reached (other programs' sessions, or serve's jobs): run the "
        "command again when some have ended, or raise the limit (max_connections, the role's or the "
        "database's CONNECTION LIMIT)\n"), result.stderr
