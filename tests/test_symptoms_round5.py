"""Round five of the reported symptoms, by routes the earlier tests do not take: each case is served
by the local server from the real recordings (``../shared/samples``) and read through the real client
into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from pipeline.core.config import EuFtSource, EuroAccessSource
from pipeline.core.models import Call
from tests.test_plausibility import SEARCH, Portal, eu_ft, portal, run, statuses  # noqa: F401
from tests.test_short_answers import (  # noqa: F401
    LIFE,
    OCT,
    PROGRAMMES,
    _euro_statuses,
    _first_euro_sync,
    listing,
    missing_marks,
)
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter
from watcher.sources.euro_access import EuroAccessAdapter

D21 = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)


def _adapter(server, engine, programmes: dict[str, str]) -> EuFtAdapter:
    cfg = EuFtSource(type="eu_ft", url=server.url(SEARCH), programmes=programmes)
    return EuFtAdapter("eu_ft", cfg, BuildContext(engine=engine))


def _life_calls(engine) -> list[tuple[str, object]]:
    with Session(engine) as session:
        return [
            (c.status, c.missing_since)
            for c in session.exec(select(Call))
            if isinstance(c.extra, dict) and str(c.extra.get("programme_id")) == LIFE
        ]


def test_a_programme_taken_out_of_the_config_keeps_its_calls(engine, server, portal) -> None:  # noqa: F811
    """A programme the strategy no longer lists is no longer asked for: its calls are not in the
    answer because nobody asked, not because the portal withdrew them. Two runs removed all 31 LIFE
    calls (an alert each, 'removed' in the digest)."""
    first = run(engine, _adapter(server, engine, PROGRAMMES), D21)
    assert first.complete is True
    life = _life_calls(engine)
    assert len(life) == 31 and all(status != "removed" for status, _ in life)
    fewer = {label: pid for label, pid in PROGRAMMES.items() if pid != LIFE}
    for day in (1, 2):
        result = run(engine, _adapter(server, engine, fewer), D21 + timedelta(days=day))
        assert (result.outcome, result.closed, result.missing) == ("ok", 0, 0)
    assert [status for status, _ in _life_calls(engine)] == [status for status, _ in life]
    assert all(mark is None for _, mark in _life_calls(engine))


def test_a_programme_taken_out_of_the_config_still_closes_its_ended_calls(engine, server, portal) -> None:  # noqa: F811
    """Not asked for, a call is still closed once its last deadline has passed."""
    run(engine, _adapter(server, engine, PROGRAMMES), D21)
    fewer = {label: pid for label, pid in PROGRAMMES.items() if pid != LIFE}
    later = datetime(2028, 1, 1, 10, 0, tzinfo=UTC)  # after every LIFE deadline of the recording
    run(engine, _adapter(server, engine, fewer), later)
    assert {status for status, _ in _life_calls(engine)} == {"closed"}


def test_an_interreg_programme_taken_out_of_euro_access_keeps_its_calls(engine, server, listing) -> None:  # noqa: F811
    """euro-access still lists the BSR call; the config only stopped keeping its programme. Two runs
    removed it as withdrawn (a 'removed' alert for a call still open on the site)."""
    before = _first_euro_sync(engine, server, listing)
    cfg = EuroAccessSource(
        type="euro_access", url=server.url("/en/calls"), programmes=["Interreg Germany-Denmark"]
    )
    for day in (1, 2):
        result = run(engine, EuroAccessAdapter("euro_access", cfg), OCT + timedelta(days=day))
        assert (result.outcome, result.closed, result.missing) == ("ok", 0, 0)
    assert _euro_statuses(engine) == before and missing_marks(engine) == []


def _calendar_config(tmp_path, server):
    from pipeline.core.config import load_config
    from tests.conftest import FIXTURES
    from tests.localserver import Reply
    from tests.slack_data import CONFIG

    feed = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_bytes()
    server.route("GET", "/feed", lambda r: Reply(200, feed, {"Content-Type": "application/rss+xml"}))
    path = tmp_path / "strategy.yaml"
    path.write_text(
        CONFIG.read_text() + "calendar: {path: public/deadlines.ics, every: 1h}\n"
        f"sources:\n  bsr_news:\n    type: feed\n    url: {server.url('/feed')}\n"
        "    schedule: {every: 6h}\n",
        encoding="utf-8",
    )
    (tmp_path / "public").mkdir()
    return load_config(path)


def test_the_main_job_of_sync_writes_the_calendar_file_as_serve_does(engine, server, tmp_path) -> None:
    """serve rewrote a strategy's calendar file after a source run that changed something; `sync` and
    `run` (the main job from cron) never did, so a subscribed calendar kept the old deadlines."""
    from pipeline.sync import sync

    config = _calendar_config(tmp_path, server)
    job = sync(engine, config, now=lambda: D21)
    assert [r.outcome for r in job.runs] == ["ok"] and job.runs[0].new
    assert (tmp_path / "public" / "deadlines.ics").is_file()


def test_an_atom_link_written_with_spaces_round_it_is_stored_as_its_address() -> None:
    """feedparser keeps an Atom href as written; one laid out on its own lines (' https://…/call \\n')
    was stored with its spaces, so the digest's link to the call (and the id of an entry without one)
    carried them."""
    from pipeline.core.config import FeedSource
    from watcher.sources.feed import parse_feed

    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>Call for proposals: R&amp;D pilots</title><id>urn:a</id>
<link href="
    https://interreg-baltic.eu/news/call-r-and-d/
"/></entry>
<entry><title>Call for proposals: &lt;small&gt; projects</title><link href=" /news/small/ "/></entry>
</feed>"""
    phrases = list(FeedSource(type="feed", url="https://interreg-baltic.eu/feed/").call_phrases)
    records, _ = parse_feed(atom, source="x", feed="https://interreg-baltic.eu/feed/", phrases=phrases)
    assert [(r.title, r.url) for r in records] == [
        ("Call for proposals: R&D pilots", "https://interreg-baltic.eu/news/call-r-and-d/"),
        ("Call for proposals: <small> projects", "https://interreg-baltic.eu/news/small/"),
    ]
    assert records[1].external_id == "https://interreg-baltic.eu/news/small/"


def test_a_page_taken_out_of_a_page_watch_keeps_its_call(engine, server) -> None:
    """A watched page taken out of `pages:` is no longer read, so its call was missing from every run
    and removed by the second (a 'removed' alert for a call the funder still announces)."""
    import httpx

    from pipeline.core.config import PageWatchSource
    from tests.localserver import Reply
    from tests.test_page_watch import HTML, NOW, _page
    from watcher.runner import run_source
    from watcher.sources.page_watch import PageWatchAdapter

    for path in ("/innovation-express/", "/innovation-express-2/"):
        server.route("GET", path, lambda r: Reply(200, _page("bsr_stars.html"), HTML))

    def adapter(*paths: str) -> PageWatchAdapter:
        cfg = PageWatchSource(type="page_watch", pages=[server.url(p) for p in paths])
        return PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))

    with httpx.Client() as client:
        first = run_source(engine, adapter("/innovation-express/", "/innovation-express-2/"), client, NOW)
        assert (first.new, first.complete) == (2, True)
        for day in (1, 2):
            result = run_source(engine, adapter("/innovation-express/"), client, NOW + timedelta(days=day))
            assert (result.outcome, result.closed, result.missing) == ("ok", 0, 0)
    with Session(engine) as session:
        assert [(c.status, c.missing_since) for c in session.exec(select(Call))] == [
            ("forthcoming", None)
        ] * 2
