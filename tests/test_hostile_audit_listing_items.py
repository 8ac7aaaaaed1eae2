"""Hostile answers of a funder's listing page (html_list): variants of the Innovationsfonden listing
fixture (tests/fixtures/html_list/innovationsfonden_list.html) served by the local server, read through
the real client into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, select

from pipeline.core.config import HtmlListSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from watcher.runner import run_source
from watcher.sources.html_list import HtmlListAdapter

LISTING = (Path(__file__).parent / "fixtures" / "html_list" / "innovationsfonden_list.html").read_text()
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_a_listed_item_whose_title_is_empty_removes_nothing(server: LocalServer, engine) -> None:
    """An item whose title element came empty (its text rendered by a script, or an image link) was
    dropped without a word and the answer counted as complete: two such answers removed the call,
    though the listing still linked to it."""
    blank = LISTING.replace('<h3><a href="/da/programmer/innobooster">Innobooster</a></h3>',
                            '<h3><a href="/da/programmer/innobooster"></a></h3>')
    assert blank != LISTING
    answers = [LISTING, blank, blank]
    server.route("GET", "/da/programmer", lambda request: Reply(200, answers[0].encode(), HTML))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden",
        item=".views-row", title="h3", link="h3 a[href]",
        text=".teaser__dates, .teaser__amount, .teaser__text"))
    with httpx.Client() as client:
        first = run_source(engine, adapter, client, NOW)
        assert (first.outcome, first.new, first.complete) == ("ok", 3, True)
        for hours in (6, 12):
            answers.pop(0)
            result = run_source(engine, adapter, client, NOW + timedelta(hours=hours))
            assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
            assert result.error == (f"1 listed item(s) left out (first: the item linking to "
                                    f"{server.url('/da/programmer/innobooster')} has no title)")
    with Session(engine) as session:
        calls = {c.title: (c.status, c.removed_at) for c in session.exec(select(Call))}
    assert calls["Innobooster"] == ("open", None)
