"""page_watch: funders' pages, main text without boilerplate, content hash, call records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from pipeline.core.config import PageWatchSource
from pipeline.core.models import Call, WatchedPage
from tests.localserver import LocalServer, Reply
from watcher.runner import run_source
from watcher.sources import BuildContext
from watcher.sources.page_watch import PageWatchAdapter, main_text, record_for_page
from watcher.store import begin_run, finish_run

PAGES = Path(__file__).parent / "fixtures" / "page_watch"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_main_text_ignores_navigation_and_footer() -> None:
    bsr = main_text(_page("bsr_stars.html"), "https://www.bsr-stars.eu/innovation-express/", source="ie")
    assert bsr.title == "BSR Innovation Express 2026 – BSR Stars"
    assert bsr.text.startswith("The BSR Innovation Express is a joint call for proposals")
    for boilerplate in ("Accept", "Latest news", "All rights reserved", "Smart Specialisation"):
        assert boilerplate not in bsr.text
    ufm = main_text(_page("ufm_funding.html"), "https://ufm.dk/en/funding", source="ie")
    assert "Innovation Express" not in ufm.text  # only in the menu and the footer
    assert len(bsr.content_hash) == 64 and bsr.content_hash != ufm.content_hash


def test_a_page_announcing_the_call_becomes_a_record() -> None:
    page = main_text(_page("bsr_stars.html"), "https://www.bsr-stars.eu/innovation-express/", source="ie")
    record = record_for_page(page, "Innovation Express", "BSR Innovation Express", NOW)
    assert record is not None
    assert record.external_id == record.url == "https://www.bsr-stars.eu/innovation-express/"
    assert (record.programme, record.status, record.type_of_action) == ("BSR Innovation Express",
                                                                        "forthcoming", "IE")
    assert record.opening_date == datetime(2026, 5, 3, 22, 0, tzinfo=UTC)  # 4 May 2026, CEST
    assert [(d.at, d.time_assumed) for d in record.deadlines] == \
        [(datetime(2026, 10, 15, 13, 0, tzinfo=UTC), False)]  # "14:00 CET" read literally (UTC+1)
    ufm = main_text(_page("ufm_funding.html"), "https://ufm.dk/en/funding", source="ie")
    assert record_for_page(ufm, "Innovation Express", "BSR Innovation Express", NOW) is None


def test_watching_over_http_keeps_hashes_and_refreshes_the_call(server: LocalServer, engine) -> None:
    content = {"bsr": _page("bsr_stars.html")}
    server.route("GET", "/innovation-express/", lambda r: Reply(200, content["bsr"], HTML))
    server.route("GET", "/en/funding", lambda r: Reply(200, _page("ufm_funding.html"), HTML))
    server.route("GET", "/gone", lambda r: Reply(404, "not found"))
    cfg = PageWatchSource(type="page_watch", pages=[
        server.url("/innovation-express/?utm_source=newsletter"), server.url("/en/funding")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    with httpx.Client() as client:
        first = run_source(engine, adapter, client, NOW)
        assert (first.outcome, first.seen, first.new, first.complete) == ("ok", 1, 1, True)
        again = run_source(engine, adapter, client, NOW)
        assert (again.new, again.changed, again.unchanged) == (0, 0, 1)
        # the funder moves the deadline: the hash changes and the call is refreshed
        content["bsr"] = content["bsr"].replace("15 October 2026", "22 October 2026")
        later = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        moved = run_source(engine, adapter, client, later)
        assert moved.changed == 1
    with Session(engine) as session:
        pages = {p.url: p for p in session.exec(select(WatchedPage)).all()}
        call = session.exec(select(Call).where(Call.source == "innovation_express")).one()
    bsr_url = server.url("/innovation-express/")
    assert set(pages) == {bsr_url, server.url("/en/funding")}
    assert pages[bsr_url].changed_at == later and pages[bsr_url].checked_at == later
    assert pages[server.url("/en/funding")].changed_at == NOW
    assert call.url == bsr_url
    assert call.deadline == datetime(2026, 10, 22, 13, 0, tzinfo=UTC)


def test_an_unreadable_page_is_a_warning_and_nothing_closes(server: LocalServer, engine) -> None:
    server.route("GET", "/innovation-express/", lambda r: Reply(200, _page("bsr_stars.html"), HTML))
    cfg = PageWatchSource(type="page_watch", pages=[server.url("/innovation-express/"), server.url("/gone")])
    with httpx.Client() as client:
        result = PageWatchAdapter("ie", cfg, BuildContext(engine=engine)).fetch(client, NOW)
    assert len(result.records) == 1
    assert result.complete is False
    assert result.warning is not None and "1 of 2 watched pages could not be read" in result.warning
    assert "HTTP 404" in result.warning


def _page_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT * FROM watched_page ORDER BY url"))]


def test_the_fetch_writes_nothing_and_finish_run_writes_the_page_states(server: LocalServer, engine) -> None:
    content = {"bsr": _page("bsr_stars.html")}
    server.route("GET", "/innovation-express/", lambda r: Reply(200, content["bsr"], HTML))
    server.route("GET", "/en/funding", lambda r: Reply(200, _page("ufm_funding.html"), HTML))
    cfg = PageWatchSource(type="page_watch", pages=[server.url("/innovation-express/"),
                                                    server.url("/en/funding")])
    adapter = PageWatchAdapter("ie", cfg, BuildContext(engine=engine))
    statements: list[str] = []

    def writes() -> list[str]:  # a write statement or a write transaction (BEGIN IMMEDIATE on SQLite)
        return [s for s in statements
                if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))]

    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(statement))
    with httpx.Client() as client:
        fetched = adapter.fetch(client, NOW)
        assert writes() == [] and _page_rows(engine) == []  # the fetch only read
        assert sorted(p.url for p in fetched.pages) == sorted(cfg.pages)
        assert fetched.extra["changed_pages"] == cfg.pages  # new pages count as changed
        run_id = begin_run(engine, "ie", NOW, type_="page_watch")
        finish_run(engine, run_id, fetched.records, NOW, complete=fetched.complete, pages=fetched.pages)
        stored = {row.url: row for row in _rows(engine)}
        assert set(stored) == set(cfg.pages)
        assert stored[cfg.pages[0]].content_hash == fetched.pages[0].content_hash
        assert stored[cfg.pages[0]].text.startswith("The BSR Innovation Express is a joint call")
        # the page changes: a second fetch sees it against the stored hash and still writes nothing
        content["bsr"] = content["bsr"].replace("15 October 2026", "22 October 2026")
        before, statements[:] = _page_rows(engine), []
        later = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        again = adapter.fetch(client, later)
        assert writes() == [] and _page_rows(engine) == before
        assert again.extra["changed_pages"] == [cfg.pages[0]]
        run_id = begin_run(engine, "ie", later, type_="page_watch")
        finish_run(engine, run_id, again.records, later, complete=again.complete, pages=again.pages)
    stored = {row.url: row for row in _rows(engine)}
    assert (stored[cfg.pages[0]].changed_at, stored[cfg.pages[0]].checked_at) == (later, later)
    assert (stored[cfg.pages[1]].changed_at, stored[cfg.pages[1]].checked_at) == (NOW, later)


def test_a_failed_run_leaves_the_page_states_alone(server: LocalServer, engine) -> None:
    status = {"code": 200}
    server.route("GET", "/innovation-express/", lambda r: Reply(
        status["code"], _page("bsr_stars.html") if status["code"] == 200 else "", HTML))
    cfg = PageWatchSource(type="page_watch", pages=[server.url("/innovation-express/")])
    adapter = PageWatchAdapter("ie", cfg, BuildContext(engine=engine))
    with httpx.Client() as client:
        assert run_source(engine, adapter, client, NOW).outcome == "ok"
        before = _page_rows(engine)
        status["code"] = 500
        failed = run_source(engine, adapter, client, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    assert failed.outcome == "failed"
    assert _page_rows(engine) == before  # checked_at not moved: no run wrote since


def _rows(engine) -> list[WatchedPage]:
    with Session(engine) as session:
        return list(session.exec(select(WatchedPage)).all())


def test_call_words_in_five_languages_and_overridable() -> None:
    from watcher.sources.page_watch import mentions_call

    assert mentions_call("Innovation Express: ansøgningsfristen nærmer sig", "Innovation Express")
    assert mentions_call("Innovation Express – utlysningen är öppen", "Innovation Express")
    assert mentions_call("Innovation Express: Förderaufruf für Cluster", "Innovation Express")
    assert not mentions_call("Read about Innovation Express in our newsletter", "Innovation Express")
    assert not mentions_call("Innovation Express: ansøg nu", "Innovation Express", ["call for proposals"])
    assert PageWatchSource(type="page_watch", pages=["https://x.eu/"],
                           call_phrases=["opslag"]).call_phrases == ["opslag"]


def test_a_page_cut_off_before_its_deadline_keeps_the_stored_call(server: LocalServer, engine) -> None:
    """The fixture cut after "The deadline for applications is" (a server stopping mid-answer): read
    as the page, its call lost its deadline (a "deadline removed" change) and the next whole answer
    put it back, a change alert each time."""
    from datetime import timedelta

    from pipeline.core.models import CallChange

    full = _page("bsr_stars.html")
    content = {"bsr": full}
    server.route("GET", "/innovation-express/", lambda r: Reply(200, content["bsr"], HTML))
    cfg = PageWatchSource(type="page_watch", pages=[server.url("/innovation-express/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    with httpx.Client() as client:
        assert run_source(engine, adapter, client, NOW).new == 1
        content["bsr"] = full[:full.index("The deadline for applications is") + 33]
        cut = run_source(engine, adapter, client, NOW + timedelta(days=1))
    assert (cut.outcome, cut.changed, cut.closed) == ("failed", 0, 0)
    url = server.url("/innovation-express/")
    assert cut.error == (f"no watched page could be read ({url} ends before </html> (cut off?); it is read "
                         "again on the next run)")
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []
        call = session.exec(select(Call)).one()
        assert call.deadline == datetime(2026, 10, 15, 13, 0, tzinfo=UTC)  # as the whole page said
