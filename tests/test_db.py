"""The data store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.clock import UTC
from pipeline.core.db import SQLITE_CACHE_KIB, current_revision, head_revision, open_database
from pipeline.core.models import Call
from watcher.records import CallRecord, Deadline
from watcher.store import begin_run, finish_run

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)


def _record(ref: str, deadline: datetime, **kw) -> CallRecord:
    return CallRecord(external_id=ref, title=kw.pop("title", f"Call {ref}"),
                      deadlines=(Deadline(deadline, time_assumed=True),), **kw)


def test_sqlite_pragmas_and_migration(engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB  # KiB, not pages
    assert current_revision(engine) == head_revision()


def _roundtrip(engine) -> None:
    deadline = datetime(2027, 4, 8, 15, 0, tzinfo=UTC)
    run = begin_run(engine, "eu_ft", NOW)
    result = finish_run(engine, run, [_record("A", deadline), _record("B", deadline)], NOW, complete=True)
    assert (result.new, result.seen) == (2, 2)
    with Session(engine) as session:
        call = session.exec(select(Call).where(Call.external_id == "A")).one()
        assert call.deadline == deadline and call.deadline.tzinfo is not None
        assert call.deadline_time_assumed is True
    later = NOW + timedelta(days=1)
    run = begin_run(engine, "eu_ft", later)
    result = finish_run(engine, run, [_record("A", deadline + timedelta(days=7))], later, complete=True)
    assert (result.changed, result.closed, result.missing) == (1, 0, 1)
    with Session(engine) as session:
        b = session.exec(select(Call).where(Call.external_id == "B")).one()
        assert b.status == "open" and b.missing_since == later and b.missing_since.tzinfo is not None
    then = later + timedelta(days=1)
    run = begin_run(engine, "eu_ft", then)
    result = finish_run(engine, run, [_record("A", deadline + timedelta(days=7))], then, complete=True)
    assert (result.changed, result.closed, result.missing) == (0, 1, 0)
    with Session(engine) as session:
        b = session.exec(select(Call).where(Call.external_id == "B")).one()
        assert b.status == "removed" and b.removed_at == then and b.missing_since is None


def test_sqlite_roundtrip(engine) -> None:
    _roundtrip(engine)


def test_postgresql_roundtrip(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql"
            kind = conn.execute(sa.text(
                "select data_type from information_schema.columns where table_name='call' "
                "and column_name='deadline'")).scalar()
            assert kind == "timestamp with time zone"
        _roundtrip(engine)
    finally:
        engine.dispose()


def test_db_upgrade_cli(cli, db_url: str) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    assert result.stdout == f"{db_url}: schema at revision 0013\n"


def test_bad_database_url_is_one_line(cli) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app
    from tests.localserver import closed_port

    with closed_port() as port:  # nothing can listen there, unlike on a fixed "unused" port
        url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"
        result = CliRunner().invoke(app, ["--db", url, "calls", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot open database {url}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_reads_do_not_wait_for_a_writer_on_sqlite(db_url: str, engine, cli) -> None:
    """A long write (scoring, a sync) holds SQLite's write lock; listings only read and in WAL mode
    must not wait for it (they would fail with "database is locked" after the busy timeout)."""
    from sqlmodel import Session, select

    from pipeline.core.db import open_database, session_scope
    from pipeline.core.models import Idea

    with session_scope(engine) as session:
        session.add(Idea(title="Committed before", created_at=NOW, updated_at=NOW))
    with session_scope(engine) as writer:
        writer.add(Idea(title="Not yet committed", created_at=NOW, updated_at=NOW))
        writer.flush()  # the write lock is held from here to the end of the block
        other = open_database(db_url)
        with Session(other) as reader:
            assert [i.title for i in reader.exec(select(Idea))] == ["Committed before"]
        other.dispose()
        result = cli("ideas", "list", "--json")
        assert result.exit_code == 0, result.output
        assert [i["title"] for i in json.loads(result.stdout)] == ["Committed before"]


def _database_at_0001_with_a_corpus_model(url: str) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine

    engine = create_db_engine(url)
    try:
        command.upgrade(alembic_config(engine), "0001")
        with engine.begin() as conn:
            conn.execute(sa.text("insert into corpus_model (version, corpus_size, drift, vocabulary, "
                                 "fitted_at) values ('old', 10, 0, :blob, :at)"), {"blob": b"", "at": NOW})
    finally:
        engine.dispose()


def _models_match_the_migrations(engine: sa.Engine) -> None:
    """Nothing for alembic to autogenerate: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import pipeline.core.models  # noqa: F401 (registers the tables)

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_upgrade_from_0001_keeps_the_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at_0001_with_a_corpus_model(url)
    engine = open_database(url)  # upgrades to the head
    try:
        assert current_revision(engine) == head_revision() == "0013"
        with engine.connect() as conn:
            assert conn.execute(sa.text("select version, method from corpus_model")).one() == ("old", "")
        _models_match_the_migrations(engine)
    finally:
        engine.dispose()


def test_upgrade_from_0001_on_postgresql(pg_url: str) -> None:
    _database_at_0001_with_a_corpus_model(pg_url)
    engine = open_database(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select version, method from corpus_model")).one() == ("old", "")
        _models_match_the_migrations(engine)
    finally:
        engine.dispose()


def _database_at_0004_with_a_call(url: str) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine

    engine = create_db_engine(url)
    try:
        command.upgrade(alembic_config(engine), "0004")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "insert into call (source, external_id, title, text, status, deadlines, "
                "deadline_time_assumed, extra, content_hash, first_seen, last_seen) values ('eu_ft', "
                "'ref-1', 'Old call', '', 'open', '[]', false, '{}', 'abc', :at, :at)"), {"at": NOW})
    finally:
        engine.dispose()


def _the_call_is_kept_without_a_raw_hash(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.text("select external_id, content_hash, raw_hash from call")).one() == \
            ("ref-1", "abc", None)
    _models_match_the_migrations(engine)
    # the next run stores the raw hash of what the source sent
    record = _record("ref-1", NOW + timedelta(days=30), title="Old call")
    run = begin_run(engine, "eu_ft", NOW)
    result = finish_run(engine, run, [record], NOW, complete=True, raw_hashes={"ref-1": "raw-1"})
    assert (result.seen, result.new) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select raw_hash from call")).scalar() == "raw-1"


def test_upgrade_from_0004_adds_the_raw_hash(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at_0004_with_a_call(url)
    engine = open_database(url)
    try:
        assert current_revision(engine) == head_revision()
        _the_call_is_kept_without_a_raw_hash(engine)
    finally:
        engine.dispose()


def test_upgrade_from_0004_on_postgresql(pg_url: str) -> None:
    _database_at_0004_with_a_call(pg_url)
    engine = open_database(pg_url)
    try:
        assert current_revision(engine) == head_revision()
        _the_call_is_kept_without_a_raw_hash(engine)
    finally:
        engine.dispose()


def _database_at_0005_with_a_scoring_model(url: str) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine

    engine = create_db_engine(url)
    try:
        command.upgrade(alembic_config(engine), "0005")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "insert into scoring_model (strategy, version, corpus_size, drift, queries_hash, rules_hash, "
                "queries, vocabulary, corpus_version, fitted_at) values ('cluster', 'v1', 10, 0, 'q', 'r', "
                "'{}', :blob, 'c1', :at)"), {"blob": b"", "at": NOW})
    finally:
        engine.dispose()


def _the_scoring_model_is_kept_without_gates(engine: sa.Engine) -> None:
    """A row from before the gate queries were kept: no gates and an empty hash, so the next scoring run
    builds them (classifiers.stored_queries.gate_queries)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("select strategy, version, gates_hash, gates from scoring_model")).one()
    assert (row.strategy, row.version, row.gates_hash) == ("cluster", "v1", "")
    assert (json.loads(row.gates) if isinstance(row.gates, str) else row.gates) == {}
    _models_match_the_migrations(engine)


def test_upgrade_from_0005_adds_the_gates(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at_0005_with_a_scoring_model(url)
    engine = open_database(url)
    try:
        assert current_revision(engine) == head_revision() == "0013"
        _the_scoring_model_is_kept_without_gates(engine)
    finally:
        engine.dispose()


def test_upgrade_from_0005_on_postgresql(pg_url: str) -> None:
    _database_at_0005_with_a_scoring_model(pg_url)
    engine = open_database(pg_url)
    try:
        assert current_revision(engine) == "0013"
        _the_scoring_model_is_kept_without_gates(engine)
    finally:
        engine.dispose()


def _database_at_0006_with_a_corpus_model(url: str) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine

    engine = create_db_engine(url)
    try:
        command.upgrade(alembic_config(engine), "0006")
        with engine.begin() as conn:
            conn.execute(sa.text("insert into corpus_model (version, method, corpus_size, drift, vocabulary, "
                                 "fitted_at) values ('c1', 'm', 10, 3, :blob, :at)"),
                         {"blob": b"fitted bytes", "at": NOW})
    finally:
        engine.dispose()


def _the_corpus_model_is_kept_in_its_own_table(engine: sa.Engine) -> None:
    """The fitted bytes move to corpus_vocabulary under the model's version, with their digest; the
    identity and the drift stay in corpus_model."""
    import hashlib

    with engine.connect() as conn:
        kept = conn.execute(sa.text("select version, method, corpus_size, drift from corpus_model")).one()
        assert kept == ("c1", "m", 10, 3)
        row = conn.execute(sa.text("select version, digest, vocabulary from corpus_vocabulary")).one()
    assert (row.version, row.digest, bytes(row.vocabulary)) == \
        ("c1", hashlib.sha1(b"fitted bytes").hexdigest(), b"fitted bytes")
    _models_match_the_migrations(engine)


def test_upgrade_from_0006_moves_the_corpus_vocabulary(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at_0006_with_a_corpus_model(url)
    engine = open_database(url)
    try:
        assert current_revision(engine) == head_revision() == "0013"
        _the_corpus_model_is_kept_in_its_own_table(engine)
    finally:
        engine.dispose()


def test_upgrade_from_0006_on_postgresql(pg_url: str) -> None:
    _database_at_0006_with_a_corpus_model(pg_url)
    engine = open_database(pg_url)
    try:
        assert current_revision(engine) == "0013"
        _the_corpus_model_is_kept_in_its_own_table(engine)
    finally:
        engine.dispose()
