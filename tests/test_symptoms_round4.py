"""The round's symptoms attacked again, each through the real client, a local server and a real SQLite
file: a funder's listing that pages its calls (a short first page of several) closes nothing, and
neither does one programme's search answered with a few of its calls, nor a calendar export at The
Events Calendar's limit of 30 events; a digest whose sources all answer empty says so, and one whose
database was down at its time comes once the database is back; a Danish funder's call whose text
names the round's pool in its own words passes the budget rule when it fits."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from pipeline.core.config import HtmlListSource, IcalSource, load_config
from pipeline.core.db import open_database
from pipeline.core.models import Call
from pipeline.notify.delivery import Pacer
from pipeline.notify.health import source_health
from pipeline.notify.jobs import send_digests
from pipeline.serve import Service
from pipeline.sync import follow_and_score, plan_sources, run_sources
from tests.localserver import LocalServer, Reply, Request
from tests.slack_data import CONFIG, TOKEN, add_call
from tests.slack_server import SlackServer
from tests.test_hostile_audit_pg_gone import Relay
from tests.test_plausibility import Portal, portal, run, statuses  # noqa: F401
from tests.test_short_answers import D21, LIFE, missing_marks, per_programme
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.html_list import HtmlListAdapter
from watcher.sources.ical import IcalAdapter

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}

# A funder's listing in the Drupal "views" layout of tests/fixtures/html_list/innovationsfonden_list.html,
# two calls a page, with Drupal core's pager (core/modules/system/templates/pager.html.twig: a
# 'pager__item--next' link with rel="next" to '?page=N', counted from 0).
ITEM = """<div class="views-row"><article class="teaser"><h3><a href="/da/opslag/{slug}">{title}</a></h3>
<div class="teaser__dates">Ansøgningsfrist {day}. marts 2027 kl. 12.00</div>
<div class="teaser__text">Tilskud til udviklingsprojekter om havvind og brint.</div></article></div>"""
PAGER = """<nav class="pager" role="navigation" aria-labelledby="pagination-heading">
<h4 id="pagination-heading" class="visually-hidden">Pagination</h4><ul class="pager__items js-pager__items">
<li class="pager__item pager__item--next"><a href="?page={next}" title="Go to next page" rel="next">
<span class="visually-hidden">Next page</span><span aria-hidden="true">››</span></a></li></ul></nav>"""


class PagedListing:
    """The funder's calls, two a page, newest first; ``answer`` may change a page at serve time."""

    def __init__(self, server: LocalServer, calls: list[str]) -> None:
        self.calls = calls
        self.answer: dict[int, Reply] = {}
        server.route("GET", "/da/opslag", self.handle)

    def page(self, number: int) -> str:
        items = self.calls[number * 2:number * 2 + 2]
        rows = "".join(ITEM.format(slug=c.lower().replace(" ", "-"), title=c, day=10 + n)
                       for n, c in enumerate(items))
        pager = PAGER.format(next=number + 1) if len(self.calls) > number * 2 + 2 else ""
        return ('<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Opslag</title></head>'
                f'<body><main><div class="view view-calls"><div class="view-content">{rows}</div>{pager}'
                "</div></main></body></html>")

    def handle(self, request: Request) -> Reply:
        number = int(request.query.get("page", ["0"])[0])
        return self.answer.get(number) or Reply(200, self.page(number), HTML)


def _adapter(server: LocalServer) -> HtmlListAdapter:
    cfg = HtmlListSource(type="html_list", url=server.url("/da/opslag"), programme="EUDP", item=".views-row",
                         title="h3", link="h3 a[href]", type_of_action="national grant")
    return HtmlListAdapter("eudp", cfg)


def _stored(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.title: c.status for c in session.exec(select(Call))}


def test_a_listing_of_several_pages_is_read_whole_and_a_call_moving_to_page_two_stays(engine, server) -> None:
    """html_list read the first page of a paged listing as the whole list: the calls on the next pages
    were never stored, and a new call at the top pushed the last call of page 1 onto page 2, where two
    runs later it was 'removed' (with its alert) though the funder still listed it."""
    listing = PagedListing(server, ["Call A", "Call B", "Call C", "Call D", "Call E"])
    first = run(engine, _adapter(server), NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 5), first.error
    listing.calls.insert(0, "Call New")  # B moves to page 2, D to page 3
    for day in (1, 2):
        result = run(engine, _adapter(server), NOW + timedelta(days=day))
        assert (result.complete, result.closed, result.missing) == (True, 0, 0), result.error
    assert _stored(engine) == {name: "open" for name in
                               ("Call A", "Call B", "Call C", "Call D", "Call E", "Call New")}


def test_a_replayed_listing_whose_next_page_was_not_recorded_says_so(engine, server, tmp_path: Path) -> None:
    """A recording of a paged listing holds its first page ('list.html'): the replay answered the next
    page's request with that page again, and the run blamed the site ('did not page as asked')."""
    from watcher.replay import ReplayTransport

    listing = PagedListing(server, ["Call A", "Call B", "Call C"])
    folder = tmp_path / "eudp"
    folder.mkdir()
    (folder / "list.html").write_text(listing.page(0), encoding="utf-8")
    adapter = _adapter(server)
    handler = adapter.replay_handler(tmp_path)
    assert handler is not None
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        result = run_source(engine, adapter, client, NOW)
    assert (result.outcome, result.complete, result.new) == ("ok", False, 2), result.error
    assert result.error.startswith("listing page 2 of http://127.0.0.1:") and \
        "is not in the recording" in result.error and "did not page" not in result.error, result.error

def test_a_next_page_answered_short_closes_nothing(engine, server) -> None:
    """The second page answered empty, or with the first page again (a site ignoring '?page='), is a
    short answer: the run is incomplete and says which page, and nothing is marked or closed."""
    listing = PagedListing(server, ["Call A", "Call B", "Call C", "Call D"])
    run(engine, _adapter(server), NOW)
    before = _stored(engine)
    listing.answer[1] = Reply(200, listing.page(0).replace('rel="next"', ""), HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
    assert result.error.startswith("listing page 2 of http://127.0.0.1:") and "holds no call the pages " \
        "before it did not" in result.error and "\n" not in result.error, result.error
    empty = listing.page(0).replace(ITEM.format(slug="call-a", title="Call A", day=10), "") \
        .replace(ITEM.format(slug="call-b", title="Call B", day=11), "")
    listing.answer[1] = Reply(200, empty, HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=2))
    assert (result.complete, result.closed, result.missing) == (False, 0, 0), result.error
    listing.answer[1] = Reply(503, "busy", HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=3))
    assert (result.outcome, result.closed) == ("failed", 0)
    assert _stored(engine) == before


def test_one_programme_answered_with_one_of_its_calls_removes_none(engine, server, portal) -> None:  # noqa: F811
    """The LIFE query answering one result (totalResults 1, consistent) while 31 LIFE calls were
    open: the run was complete, 30 calls were marked missing, and the next such answer removed them,
    as the guard counts the share of the whole source (4 %); an empty answer was already held back."""
    run(engine, per_programme(server, engine), D21)
    before = statuses(engine)

    def one_life_call(number: int, data: dict) -> dict:
        results = data["results"]
        if results and all(LIFE in r["metadata"].get("frameworkProgramme", []) for r in results):
            return {**data, "totalResults": 1, "results": results[:1]} if number == 1 else \
                {**data, "totalResults": 1, "results": []}
        return data

    portal.mutate = one_life_call
    for day in (1, 2):
        result = run(engine, per_programme(server, engine), D21 + timedelta(days=day))
        assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
        assert result.error == ("LIFE: the search answered 1 result although 31 stored calls of the "
                                "programme are open or forthcoming (30 not in it, more than "
                                "max_close_share=0.2 of them); nothing closed, the next run reads it "
                                "again"), result.error
    assert statuses(engine) == before and missing_marks(engine) == []


# The Events Calendar's export as interreg.no writes it (tests/fixtures/ical/interreg_no_calendar.ics:
# PRODID '… - ECPv6.6.4.2', UID post-start-end, 'Programme: title'); it exports at most 30 events
# (Tribe__Events__iCal::$feed_default_export_count), the soonest first.
TEC_HEAD = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Interreg Norge - ECPv6.6.4.2//NONSGML v1.0//EN\r\n"
            "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Interreg Norge\r\n")
TEC_EVENT = ("BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Oslo:20261101T090000\r\n"
             "DTEND;TZID=Europe/Oslo:2027{month:02d}{day:02d}T120000\r\nDTSTAMP:20261020T081233\r\n"
             "UID:{post}-1793523600-1800000000@interreg.no\r\nSUMMARY:Interreg Aurora: Utlysning {post}\r\n"
             "URL:https://interreg.no/arrangement/utlysning-{post}/\r\nCATEGORIES:Utlysning\r\nEND:VEVENT\r\n")


def _tec_calendar(posts: list[int]) -> bytes:
    events = "".join(TEC_EVENT.format(post=post, month=1 + n // 28, day=1 + n % 28)
                     for n, post in enumerate(posts[:30]))
    return (TEC_HEAD + events + "END:VCALENDAR\r\n").encode()


def test_a_calendar_export_at_the_events_calendars_limit_closes_nothing(engine, server) -> None:
    """With 30 events, the most The Events Calendar exports, a new event pushed the latest call out of
    the export: it was marked missing and the next run removed it, though interreg.no still listed it."""
    posts = list(range(18100, 18130))
    server.route("GET", "/cal.ics",
                 lambda r: Reply(200, _tec_calendar(posts), {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")), None)
    first = run(engine, adapter, NOW)
    assert (first.new, first.complete) == (30, False)
    assert first.error == ("the calendar holds 30 events, the most The Events Calendar exports by default "
                           "(feed_default_export_count): later events may be left out, so nothing is "
                           "closed; the site can export more (filter tribe_ical_feed_posts_per_page)")
    posts.insert(0, 18099)
    for day in (1, 2):
        result = run(engine, adapter, NOW + timedelta(days=day))
        assert (result.complete, result.closed, result.missing) == (False, 0, 0)
    assert set(_stored(engine).values()) == {"open"} and len(_stored(engine)) == 31
    del posts[29:]  # 29 events: below the limit, the export is the whole list again
    result = run(engine, adapter, NOW + timedelta(days=3))
    assert (result.complete, result.missing) == (True, 2)


def test_a_digest_whose_sources_all_answer_empty_does_not_call_them_fine(engine, server,
                                                                        tmp_path: Path) -> None:
    """Both calendars answering a valid calendar of no events (a maintenance export) while their calls
    were open: each run was 'ok', so the digest read 'Sources: 2 of 2 fine' and 'No open call matches
    the strategy', though neither source had said anything for a week."""
    calendars = {"cal_a": _tec_calendar(list(range(18100, 18103))),
                 "cal_b": _tec_calendar(list(range(18200, 18202)))}
    for name in calendars:
        server.route("GET", f"/{name}.ics", lambda r, name=name: Reply(200, calendars[name],
                                                                        {"Content-Type": "text/calendar"}))
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent("""\
        name: empty
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          robots: {label: Robots, keywords: [welding robots]}
        slack:
          digests:
            - {channel: "#eu-fundraising", schedule: {cron: "0 8 * * 1"}}
        sources:
        """) + "".join(f"  {name}: {{type: ical, url: '{server.url(f'/{name}.ics')}', "
                       "schedule: {every: 6h}}\n" for name in calendars), encoding="utf-8")
    config = load_config(path)
    monday = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # 08:00 Copenhagen
    with make_client(timeout=2, retries=0) as client:
        run_sources(engine, plan_sources(engine, config), as_of=monday - timedelta(days=8), client=client)
        for name in calendars:
            calendars[name] = (TEC_HEAD + "END:VCALENDAR\r\n").encode()
        runs = run_sources(engine, plan_sources(engine, config), as_of=monday - timedelta(days=1),
                           client=client)
    assert [(r.source, r.outcome, r.seen) for r in runs] == [("cal_a", "ok", 0), ("cal_b", "ok", 0)]
    follow_and_score(engine, config, monday)
    with SlackServer(token=TOKEN) as slack:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        (outcome,) = send_digests(engine, config, monday + timedelta(minutes=5), environ=env,
                                  pacer=Pacer(sleep=lambda s: None))
        (posted,) = slack.messages
    health = posted.raw["blocks"][2]["elements"][0]["text"]
    assert health.startswith("Sources: 0 of 2 fine · cal_a answering no calls since 1 Nov 08:00 (1 run; "
                             "last good 25 Oct 08:00)"), health
    sections = [b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section"]
    assert sections[0] == (":warning: *No source could be read since the last digest* (2 of 2 failed): "
                           "nothing new is listed, and what is shown is from the last good runs.")
    assert "No open call matches" not in posted.raw["text"]


class Switch(Relay):
    """The PostgreSQL relay, switched off (every connection refused and the open ones cut) and on."""

    down = False

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def switch_off(self) -> None:
        self.down = True
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
        self.sockets = []


def test_a_digest_whose_database_was_down_at_its_time_comes_when_it_is_back(pg_url: str, monkeypatch) -> None:
    """serve's digest job found PostgreSQL down at 08:00 ('job … could not run') and gave up: the
    week had no digest (the next one covered both weeks). It now tries again soon, as after a Slack
    outage, and the digest is posted once the database answers."""
    from tests.slack_data import NOW

    parts = urlsplit(pg_url)
    relay = Switch((parts.hostname or "127.0.0.1", parts.port or 5432))
    engine = open_database(pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{relay.port}"))
    try:
        add_call(engine, 1, score=0.7)
        with SlackServer(token=TOKEN) as slack:
            monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
            monkeypatch.setenv("SLACK_API_URL", slack.api_url)
            service = Service(engine, load_config(CONFIG), now=lambda: NOW, reload_seconds=0,
                              retry_seconds=0.5)
            service.start()
            try:
                relay.switch_off()
                engine.dispose()
                assert service.run("digest", "#eu-fundraising") is None
                relay.down = False
                deadline = time.monotonic() + 60
                while not slack.messages and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                service.stop()
            assert len(slack.posted_to("#eu-fundraising")) == 1
    finally:
        engine.dispose()
        relay.cut()


@pytest.mark.parametrize(("text", "budget", "maximum"), [
    # as Danish, Swedish and Norwegian funders write a round's pool, in words other than 'pulje'
    ("EUDP har 500 mio. kr. til rådighed i 2027.", 500e6, None),
    ("Der er afsat 400 mio. kr. til runden.", 400e6, None),
    ("Den samlede bevilling er 120 mio. kr.", 120e6, None),
    ("Der uddeles i alt 100 mio. kr.", 100e6, None),
    ("Det finns 50 miljoner kronor att söka, sammanlagt.", 50e6, None),
    ("Det er avsatt NOK 20 millioner til utlysningen.", 20e6, None),
    ("EUR 3 million is available for the call.", 3e6, None),
    # a per-project figure stays the maximum, pool words or not
    ("Der er afsat 400 mio. kr. til runden; pr. projekt op til 15 mio. kr.", 400e6, 15e6),
    ("Der uddeles tilskud på op til 5 mio. kr. pr. projekt.", None, 5e6),
])
def test_a_pool_in_the_funders_own_words_is_the_budget_not_the_maximum(text: str, budget: float | None,
                                                                       maximum: float | None) -> None:
    """'EUDP har 500 mio. kr. til rådighed' was read as a maximum of EUR 67 million per project, over the
    example strategy's budget_max: the funder's typical call failed the budget rule."""
    from watcher.amounts import EUR_PER, budget_and_maximum

    rate = EUR_PER["EUR"] if "EUR" in text else EUR_PER["SEK"] if "kronor" in text else \
        EUR_PER["NOK"] if "NOK" in text else EUR_PER["DKK"]
    expected = tuple(None if v is None else round(v / rate, 2) for v in (budget, maximum))
    assert budget_and_maximum(text) == expected


def test_an_eudp_round_passes_the_example_budget_rule() -> None:
    from classifiers.funding import FundingRules
    from classifiers.rules import evaluate_call
    from pipeline.core.config import DEFAULT_FUNDING_RULES, load_funding_rules, load_strategy
    from watcher.sources.html_list import record_of

    cfg = HtmlListSource(type="html_list", url="https://ens.dk/eudp", programme="EUDP", item=".row",
                         type_of_action="national grant")
    record = record_of({"title": "EUDP 2027-I: Indkaldelse", "url": "https://ens.dk/eudp/2027-i",
                        "text": "EUDP har 500 mio. kr. til rådighed i 2027. Ansøgningsfrist 3. marts 2027 "
                                "kl. 12.00."}, "", cfg, NOW)
    call = Call(source="eudp", **{k: v for k, v in record.__dict__.items() if k in Call.model_fields
                                  and k not in ("deadlines",)},
                deadlines=[{"at": d.at.isoformat(), "time_assumed": d.time_assumed}
                           for d in record.deadlines])
    funding = FundingRules(load_funding_rules(DEFAULT_FUNDING_RULES))
    verdict = evaluate_call(call, load_strategy(), funding, NOW)
    assert verdict.passed, [o.reason for o in verdict.failed]
    assert [o.status for o in verdict.outcomes if o.rule == "budget"] == ["unknown"]


def test_a_calendar_emptied_after_its_last_call_ended_closes_them_and_is_fine(engine, server) -> None:
    """An export lists coming events only: once the last call's deadline passed it answered a calendar
    of no events. Every run was 'answering no calls' (failing in each digest) and the ended calls were
    never closed, though nothing was missing but what had ended."""
    body = {"ics": _tec_calendar([18300, 18301])}
    server.route("GET", "/ended.ics", lambda r: Reply(200, body["ics"], {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/ended.ics")), None)
    assert run(engine, adapter, NOW).new == 2
    body["ics"] = (TEC_HEAD + "END:VCALENDAR\r\n").encode()
    after = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # both deadlines (January 2027) have passed
    result = run(engine, adapter, after)
    assert (result.outcome, result.complete, result.closed, result.error) == ("ok", True, 2, None)
    assert set(_stored(engine).values()) == {"closed"}
    with Session(engine) as session:
        (health,) = source_health(session, ["interreg_no"], after - timedelta(days=7))
    assert not health.failing and not health.empty
