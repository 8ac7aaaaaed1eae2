"""A watched page answering 200 with something else for one run (a maintenance notice, a cookie wall,
a soft 404) does not remove the call it announced: the store removes a call only when the next
complete run lacks it too (watcher.store, "confirmation")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.config import PageWatchSource
from pipeline.core.models import Call, CallChange
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import run
from watcher.sources import BuildContext
from watcher.sources.page_watch import PageWatchAdapter

PAGES = Path(__file__).parent / "fixtures" / "page_watch"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}
MAINTENANCE = ("<html><head><title>Maintenance</title></head><body><main><h1>Scheduled maintenance</h1>"
               "<p>Our website is undergoing scheduled maintenance this morning. We apologise for the "
               "inconvenience and will be back online within a few hours. Thank you for your patience "
               "while we improve the site for our visitors and partners.</p></main></body></html>")


def _statuses(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.external_id: c.status for c in session.exec(select(Call))}


def test_one_odd_answer_of_a_watched_page_removes_nothing(server: LocalServer, engine) -> None:
    bsr = (PAGES / "bsr_stars.html").read_text(encoding="utf-8")
    content = {"/a/": bsr, "/b/": bsr}
    for path in content:
        server.route("GET", path, lambda r, path=path: Reply(200, content[path], HTML))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/a/"),
                                                                                  server.url("/b/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    first = run(engine, adapter, NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 2)

    content["/a/"] = MAINTENANCE
    odd = run(engine, adapter, NOW + timedelta(hours=12))
    assert (odd.outcome, odd.complete, odd.closed, odd.missing) == ("ok", True, 0, 1)
    assert set(_statuses(engine).values()) == {"forthcoming"}  # opens in May

    content["/a/"] = bsr  # the page is back as it was: nothing changed at all
    back = run(engine, adapter, NOW + timedelta(days=1))
    assert (back.complete, back.changed, back.closed) == (True, 0, 0)
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []

    content["/a/"] = MAINTENANCE  # read the same way twice in a row: the call really left the page
    run(engine, adapter, NOW + timedelta(days=2))
    confirmed = run(engine, adapter, NOW + timedelta(days=3))
    assert (confirmed.complete, confirmed.closed) == (True, 1)
    assert _statuses(engine)[server.url("/a/")] == "removed"
