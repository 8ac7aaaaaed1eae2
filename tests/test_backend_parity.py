"""What a user sees does not depend on the backend: the same commands on a real SQLite file and on the
real PostgreSQL server print the same rows, in the same order, with the same text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from pipeline.calls import CallFilter, list_calls
from pipeline.core.db import head_revision, open_database, session_scope
from pipeline.core.models import Call
from tests.slack_data import NOW

AT = ("--as-of", NOW.isoformat())


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    """A new database of either backend (the same tests run on both)."""
    if request.param == "sqlite":
        yield db_url
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def engine_of(url: str):
    engine = open_database(url)
    yield engine
    engine.dispose()


def run(url: str, *args: str):
    from pipeline.cli.main import app

    return CliRunner().invoke(app, ["--db", url, *AT, *args], catch_exceptions=False)


def add_call(engine, number: int, programme: str) -> None:
    with session_scope(engine) as session:
        session.add(Call(source="euro_access", external_id=f"EA-{number}", title=f"Call {number}",
                         programme=programme, status="open", deadline=NOW + timedelta(days=30 + number),
                         first_seen=NOW, last_seen=NOW))


def test_programme_filter_ignores_the_case_of_every_letter(url: str, engine_of) -> None:
    # SQLite's lower() and LIKE fold ASCII letters only: 'öresund' missed 'Öresund' there, not on
    # PostgreSQL, whose ILIKE folds every letter
    add_call(engine_of, 1, "Interreg Öresund-Kattegat-Skagerrak")
    add_call(engine_of, 2, "Interreg Baltic Sea Region")
    add_call(engine_of, 3, "ÆRØ Ø-STØTTE")
    for asked, expected in (("öresund", [1]), ("ÖRESUND", [1]), ("Interreg", [1, 2]), ("ærø ø-støtte", [3]),
                            ("støtte", [3])):
        result = run(url, "calls", "list", "--programme", asked, "--json")
        assert result.exit_code == 0, result.output
        assert [row["id"] for row in json.loads(result.stdout)] == expected, asked
        with Session(engine_of) as session:  # the same query through a session (digests, serve)
            rows = list_calls(session, CallFilter(programme=asked), NOW)
        assert [row["id"] for row in rows] == expected, asked


def test_a_partner_csv_with_a_nul_byte_is_a_bad_row_on_both(url: str, engine_of, tmp_path) -> None:
    # PostgreSQL refuses a NUL byte in text (a traceback from the driver), SQLite stored it: the cell is
    # now a bad row on both, named by line and column, and nothing is imported
    path = tmp_path / "partners.csv"
    path.write_text("organisation,country,type,competences\nRISE,SE,rto,hydrogen\n"
                    "Nul Org\x00 ApS,DK,sme,ports\x00;wind\n", encoding="utf-8")
    result = run(url, "partners", "import", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {path}:3: organisation: the cell contains a NUL byte (\\x00), which is no text; remove it "
        "or export the list again as a UTF-8 CSV\n"
        f"Error: {path}:3: competences: the cell contains a NUL byte (\\x00), which is no text; remove it "
        "or export the list again as a UTF-8 CSV\n"
        f"Error: {path}: 1 bad row; nothing was imported; fix it and import the file again\n")
    listed = run(url, "partners", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


@pytest.mark.parametrize("command,what", [
    (("ideas", "show"), "idea"), (("applications", "show"), "application"), (("partners", "show"), "partner"),
    (("ideas", "calls"), "idea")])
def test_an_id_past_the_id_columns_is_one_line_on_both(url: str, engine_of, command, what) -> None:
    # the id columns are 32-bit INTEGER: PostgreSQL refused 2147483648 with a traceback ('integer out of
    # range'), SQLite answered 'no idea with id 2147483648'
    result = run(url, *command, "2147483648")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {what} id '2147483648' is larger than any id; give it as 12 or #12\n"
    assert run(url, *command, "2147483647").stderr.startswith(f"Error: no {what} with id 2147483647")


def test_three_processes_opening_one_new_database_at_once_all_exit_0(url: str) -> None:
    # the first migrates, the others wait for it (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock)
    # and find the schema at head; every write is stored
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "pipeline.cli.main", "--db", url, *AT, "ideas", "add"]
    procs = [subprocess.Popen([*command, f"Idea {n}"], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert all(err == "" for _, _, err in results), results
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == \
                [head_revision()]
            assert sorted(conn.execute(sa.text("SELECT title FROM idea")).scalars()) == \
                ["Idea 0", "Idea 1", "Idea 2"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_libpq_url_works_for_every_command(pg_url: str, scheme: str) -> None:
    # 'postgres://' (libpq's other spelling, the one hosting services hand out) worked for `calls list`
    # (read through psycopg) and every writing command refused it: "database URL scheme 'postgres' is
    # not supported (Can't load plugin: sqlalchemy.dialects:postgres)"
    url = pg_url.replace("postgresql+psycopg://", f"{scheme}://")
    added = run(url, "ideas", "add", "Floating wind O&M robots")
    assert (added.exit_code, added.stdout, added.stderr) == \
        (0, "Added idea #1: Floating wind O&M robots\n", "")
    listed = run(url, "ideas", "list", "--json")
    assert listed.exit_code == 0 and [row["id"] for row in json.loads(listed.stdout)] == [1]
    status = run(url, "db", "status")
    assert status.exit_code == 0 and status.stdout.endswith(f": revision {head_revision()}, up to date\n")
    assert run(url, "calls", "list", "--json").stdout == "[]\n"


@pytest.mark.parametrize("options", ["", "?options=-csearch_path%3Dfr", "?options=-c%20search_path%3Dfr"])
def test_writes_wait_at_most_30_s_for_a_lock_whatever_options_the_url_sets(pg_url: str, options: str) -> None:
    # a URL with libpq options (the way to use a schema of one's own) lost the lock_timeout: a write
    # behind a transaction left open in psql waited for ever there, 30 s elsewhere
    import psycopg

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA fr")
    engine = open_database(pg_url + options)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "30s"
            path = conn.exec_driver_sql("SHOW search_path").scalar()
            assert path == ("fr" if options else '"$user", public')
            tables = conn.exec_driver_sql("SELECT schemaname FROM pg_tables WHERE tablename = 'idea'").all()
            assert tables == [("fr" if options else "public",)]  # the schema made where the URL says
    finally:
        engine.dispose()
    kept = open_database(pg_url + "?options=-c%20lock_timeout%3D5s")  # one the URL sets itself is kept
    try:
        with kept.connect() as conn:
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"
    finally:
        kept.dispose()
