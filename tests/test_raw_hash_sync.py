"""Results sent as before are not parsed again (``call.raw_hash``), and the database ends up as if
every result had been parsed: the recorded SEDIA searches through the local HTTP server and the real
client, once with the adapter that reads the stored raw hashes and once with one that parses all."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pipeline.core.config import EuFtSource
from pipeline.core.db import open_database
from tests.localserver import LocalServer
from tests.test_eu_ft_sync import REMOVED, SEARCH_PATH, Portal, as_of, changes
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sedia import load_page, parse_page, parse_salt, raw_hash
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter
from watcher.store import begin_run, finish_run


@pytest.fixture
def portal(server: LocalServer, samples: Path) -> Portal:
    return Portal(server, samples)


def adapter(server: LocalServer, engine: sa.Engine | None) -> EuFtAdapter:
    cfg = EuFtSource(type="eu_ft", url=server.url(SEARCH_PATH), programmes={})
    return EuFtAdapter("eu_ft", cfg, BuildContext(engine=engine))


def sync(engine: sa.Engine, server: LocalServer, day: str, *, skipping: bool = True, later: int = 0):
    with make_client(retries=0) as client:
        return run_source(engine, adapter(server, engine if skipping else None), client,
                          as_of(day) + timedelta(days=later))


def calls(engine: sa.Engine) -> list[tuple]:
    """Every call row without its raw hash."""
    with engine.connect() as conn:
        columns = [c for c in sa.inspect(conn).get_columns("call") if c["name"] != "raw_hash"]
        names = ", ".join(f'"{c["name"]}"' for c in columns)
        return [tuple(row) for row in conn.execute(sa.text(f"SELECT {names} FROM call ORDER BY id"))]


def summary(result) -> tuple:
    return (result.outcome, result.complete, result.seen, result.new, result.changed, result.unchanged,
            result.closed, result.duplicates, result.error)


def test_skipping_leaves_the_same_database_as_parsing_everything(engine, server: LocalServer,
                                                                   portal: Portal, tmp_path: Path) -> None:
    """The real next day, then the day before again (the removed calls come back with the bytes they
    had when the store removed them, so they are parsed and reopened)."""
    other = open_database(f"sqlite:///{tmp_path / 'parse_all.db'}")
    try:
        for day in ("2026-08-21", "2026-08-22", "2026-08-21"):
            portal.serve(day)
            skipped = sync(engine, server, day)
            parsed = sync(other, server, day, skipping=False)
            assert summary(skipped) == summary(parsed)
        assert calls(engine) == calls(other)
        assert [(c.call_id, c.field, c.old, c.new) for c in changes(engine)] == \
            [(c.call_id, c.field, c.old, c.new) for c in changes(other)]
        with engine.connect() as conn:
            back = conn.execute(sa.text("SELECT status, raw_hash FROM call WHERE external_id IN :refs")
                                .bindparams(sa.bindparam("refs", expanding=True)), {"refs": list(REMOVED)})
            assert {(status, hashed is not None) for status, hashed in back} == {("forthcoming", True),
                                                                                 ("open", True)}
    finally:
        other.dispose()


def test_an_unchanged_day_parses_nothing_and_writes_nothing(engine, server: LocalServer,
                                                            portal: Portal) -> None:
    portal.serve("2026-08-22")
    sync(engine, server, "2026-08-22")
    before, before_changes = calls(engine), len(changes(engine))
    with make_client(retries=0) as client:
        fetched = adapter(server, engine).fetch(client, as_of("2026-08-22"))
    assert (fetched.records, len(fetched.unchanged), fetched.complete) == ([], 723, True)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(statement))
    again = sync(engine, server, "2026-08-22")
    assert summary(again) == ("ok", True, 723, 0, 0, 723, 0, 0, None)
    assert calls(engine) == before and len(changes(engine)) == before_changes
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert all("fetch_run" in w for w in writes), writes


def test_an_unparsed_call_is_seen_a_day_later(engine, server: LocalServer, portal: Portal) -> None:
    """Two days on, the same answer: nothing is parsed, every call's last_seen moves and none closes."""
    portal.serve("2026-08-22")
    sync(engine, server, "2026-08-22")
    later = sync(engine, server, "2026-08-22", later=2)
    assert summary(later) == ("ok", True, 723, 0, 0, 723, 0, 0, None)
    with engine.connect() as conn:
        seen = conn.execute(sa.text("SELECT DISTINCT last_seen FROM call")).scalars().all()
    assert [str(s)[:19] for s in seen] == ["2026-08-24 10:00:00"]


def test_a_raw_hash_that_changed_meanwhile_makes_the_run_incomplete(engine) -> None:
    """The fetch read a raw hash that another run has replaced (or the store cleared, closing the call)
    before this run writes: the call cannot be written from a hash, so nothing is closed."""
    from watcher.records import CallRecord

    now = as_of("2026-08-22")
    records = [CallRecord(external_id=f"ref-{n}", title=f"Call {n}") for n in range(3)]
    run = begin_run(engine, "eu_ft", now)
    finish_run(engine, run, records, now, complete=True, raw_hashes={r.external_id: "a" for r in records})
    run = begin_run(engine, "eu_ft", now)
    result = finish_run(engine, run, [], now, complete=True, unchanged={"ref-0": "a", "ref-1": "b"})
    assert (result.outcome, result.complete, result.seen, result.unchanged, result.closed) == \
        ("ok", False, 1, 1, 0)
    assert result.error == ("1 call(s) changed in the database while the source was read; nothing closed, "
                            "the next run reads them again")


def test_another_parser_or_other_programme_names_parse_again(samples: Path) -> None:
    page_file = samples / "eu_ft" / "search_2026-08-22" / "page_001.json"
    data = load_page(page_file.read_bytes(), source="eu_ft", page="page 1")
    salt = parse_salt({})
    known = {page.external_id: page_hash for page, page_hash in
             zip(parse_page(data).records, parse_page(data).raw_hashes.values(), strict=True)}
    assert parse_page(data, known=known, salt=salt).records == []
    assert len(parse_page(data, known=known, salt=salt).unchanged) == len(known)
    again = parse_page(data, known=known, salt=salt + "another parser")
    assert len(again.records) == len(known) and again.unchanged == {}
    named = parse_page(data, known=known, programme_names={"43108390": "Horizon"})
    assert len(named.records) == len(known)
    assert raw_hash({"a": 1}, salt) != raw_hash({"a": 2}, salt)


def test_skipping_on_postgresql_counts_as_parsing_everything(pg_url: str, engine, server: LocalServer,
                                                             portal: Portal) -> None:
    """The same days on PostgreSQL (bulk writes, raw hashes read back) and, parsing all, on SQLite."""
    pg = open_database(pg_url)
    try:
        for day in ("2026-08-21", "2026-08-22", "2026-08-21", "2026-08-21"):
            portal.serve(day)
            assert summary(sync(pg, server, day)) == summary(sync(engine, server, day, skipping=False))
        query = sa.text("SELECT external_id, status, content_hash, raw_hash IS NOT NULL FROM call "
                        "ORDER BY id")
        with pg.connect() as on_pg, engine.connect() as on_sqlite:
            stored = [tuple(r) for r in on_pg.execute(query)]
            assert [r[:3] for r in stored] == [tuple(r)[:3] for r in on_sqlite.execute(query)]
        assert {has_hash for _, status, _, has_hash in stored if status in ("open", "forthcoming")} == {True}
    finally:
        pg.dispose()
