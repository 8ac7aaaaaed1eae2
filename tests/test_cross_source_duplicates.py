"""The same call stored by two sources is listed, digested and alerted once (pipeline.core.duplicates):
the Erasmus Charter call recorded on euro-access (its "Call number" ERASMUS-EDU-2022-ECHE-CERT-FP) and
the same topic in SEDIA (tests/fixtures/eu_ft/sedia_search_eche.json, see the README there)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.duplicates import StoredCopy, duplicate_links, url_key
from pipeline.core.models import Call, Score
from watcher.euro_access_parse import ListingRow, parse_detail
from watcher.records import CallRecord
from watcher.runner import run_source
from watcher.sedia import parse_page
from watcher.sources import FetchResult
from watcher.sources.euro_access import record_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIG = FIXTURES / "config" / "slack_strategy.yaml"
NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)  # the euro-access recording's month
EA_URL = "https://www.euro-access.eu/en/calls/135/Erasmus-Charter-for-Higher-Education-5th-cut-off-date"


class _Answer:
    """A source answering the records its real parser made of a recording."""

    url = None

    def __init__(self, name: str, type_: str, records: list[CallRecord]) -> None:
        self.name, self.type, self.records = name, type_, records

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        return FetchResult(records=list(self.records))


def euro_access_copy(samples: Path) -> CallRecord:
    html = (samples / "euro_access" / "call_detail_135_2025-10.html").read_text(encoding="utf-8")
    detail = parse_detail(html, source="euro_access", url=EA_URL)
    row = ListingRow(programme="Erasmus+", title=detail.title or "", url=EA_URL, external_id="135",
                     deadline=None)
    return record_for(row, detail, NOW)


def eu_ft_copy() -> CallRecord:
    page = parse_page(json.loads((FIXTURES / "eu_ft" / "sedia_search_eche.json").read_text(encoding="utf-8")))
    [record] = page.records
    return record


def store(engine, name: str, type_: str, records: list[CallRecord], at: datetime = NOW) -> None:
    with httpx.Client() as client:
        result = run_source(engine, _Answer(name, type_, records), client, at)
    assert result.outcome == "ok", result.error


def stored(engine) -> dict[str, tuple[int, int | None]]:
    with Session(engine) as session:
        return {c.source: (c.id, c.duplicate_of) for c in session.exec(select(Call).order_by(Call.id))}


def test_the_recorded_erasmus_call_is_listed_once_with_the_sedia_deadline(engine, cli, samples) -> None:
    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()], NOW + timedelta(hours=1))
    rows = stored(engine)
    assert rows["euro_access"][1] == rows["eu_ft"][0]  # the euro-access copy names the SEDIA one
    assert rows["eu_ft"][1] is None

    result = cli("--as-of", NOW.isoformat(), "calls", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    # SEDIA moved the 5th cut-off from 27 January to 24 March 2026; euro-access still says January
    assert [(c["source"], c["topic_id"], c["next_deadline"]) for c in listed] == [
        ("eu_ft", "ERASMUS-EDU-2022-ECHE-CERT-FP", "2026-03-24T16:00:00+00:00")]

    # asked for one source's calls, its own copy is listed
    result = cli("--as-of", NOW.isoformat(), "calls", "list", "--source", "euro_access", "--json")
    assert result.exit_code == 0, result.output
    assert [(c["source"], c["next_deadline"]) for c in json.loads(result.stdout)] == [
        ("euro_access", "2026-01-27T16:00:00+00:00")]


def test_calls_show_names_the_other_sources_copy(engine, cli, samples) -> None:
    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()], NOW + timedelta(hours=1))
    copy, kept = stored(engine)["euro_access"][0], stored(engine)["eu_ft"][0]
    shown = cli("--as-of", NOW.isoformat(), "calls", "show", str(copy))
    assert shown.exit_code == 0, shown.output
    assert f"Also on:         eu_ft #{kept} (listed instead of this one)\n" in shown.stdout
    shown = cli("--as-of", NOW.isoformat(), "calls", "show", str(kept))
    assert f"Also on:         euro_access #{copy}\n" in shown.stdout
    shown = cli("--as-of", NOW.isoformat(), "calls", "show", str(kept), "--json")
    assert json.loads(shown.stdout)["copies"] == [{"id": copy, "source": "euro_access", "listed": False}]


def test_each_source_keeps_updating_its_own_copy(engine, samples) -> None:
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()])
    first = euro_access_copy(samples)
    store(engine, "euro_access", "euro_access", [first])
    later = replace(first, title=first.title + " (updated)")
    store(engine, "euro_access", "euro_access", [later], NOW + timedelta(days=1))
    with Session(engine) as session:
        copy = session.exec(select(Call).where(Call.source == "euro_access")).one()
        kept = session.exec(select(Call).where(Call.source == "eu_ft")).one()
    assert (copy.title, copy.duplicate_of) == (later.title, kept.id)


def test_a_copy_whose_identifier_changes_is_listed_again(engine, cli, samples) -> None:
    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()])
    renamed = replace(euro_access_copy(samples), call_id="ERASMUS-EDU-2026-ECHE-CERT-FP")
    store(engine, "euro_access", "euro_access", [renamed], NOW + timedelta(days=1))
    assert stored(engine)["euro_access"][1] is None
    result = cli("--as-of", NOW.isoformat(), "calls", "list", "--json")
    assert sorted(c["source"] for c in json.loads(result.stdout)) == ["eu_ft", "euro_access"]


def test_the_digest_and_the_new_call_alerts_name_the_call_once(engine, samples) -> None:
    from pipeline.notify.alerts import new_call_alerts
    from pipeline.notify.digest import collect_digest
    from tests.slack_data import loaded

    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()], NOW + timedelta(hours=1))
    strategy = loaded().strategy
    kept = stored(engine)["eu_ft"][0]
    later = NOW + timedelta(hours=2)
    with Session(engine) as session:
        for call in session.exec(select(Call)):  # both copies score alike: they are one call's text
            session.add(Score(call_id=call.id, strategy=strategy.name, focus_area="offshore_energy",
                              score=0.9, computed_at=NOW))
        session.commit()
        digest = collect_digest(session, strategy, strategy.slack.digests[0], later, NOW - timedelta(days=1))
        assert ([t.call_id for t in digest.top], digest.matching, digest.new) == ([kept], 1, 1)
        # the SEDIA copy kept was stored after the euro-access one: it is no new call
        assert new_call_alerts(session, strategy, "#calls", later, NOW + timedelta(minutes=30)) == []
        alerts = new_call_alerts(session, strategy, "#calls", later, NOW - timedelta(days=1))
        assert [a.key for a in alerts] == [f"alert:new:{kept}"]


def test_a_call_muted_on_one_source_stays_muted_when_another_source_stores_it(engine, samples) -> None:
    from pipeline.follow import clear_state, set_state
    from pipeline.notify.alerts import new_call_alerts
    from pipeline.notify.digest import collect_digest
    from tests.slack_data import loaded

    strategy = loaded().strategy
    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    copy = stored(engine)["euro_access"][0]
    with Session(engine) as session:
        assert set_state(session, strategy.name, copy, "mute", NOW, "Mette")
        session.commit()
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()], NOW + timedelta(hours=1))
    kept = stored(engine)["eu_ft"][0]
    later = NOW + timedelta(hours=2)
    with Session(engine) as session:
        for call_id in (copy, kept):
            session.add(Score(call_id=call_id, strategy=strategy.name, focus_area="offshore_energy",
                              score=0.9, computed_at=NOW))
        session.commit()
        channel = strategy.slack.digests[0]
        assert collect_digest(session, strategy, channel, later, NOW - timedelta(days=1)).top == []
        assert new_call_alerts(session, strategy, "#calls", later, NOW - timedelta(days=1)) == []
        # unmuted from the copy the digest would show, the call is back
        assert clear_state(session, strategy.name, kept, "mute")
        session.commit()
        digest = collect_digest(session, strategy, channel, later, NOW - timedelta(days=1))
        assert [t.call_id for t in digest.top] == [kept]


def test_a_call_followed_on_one_source_is_followed_as_the_copy_listed(engine, cli, samples) -> None:
    from pipeline.due import tracked_call_ids
    from pipeline.follow import clear_state, set_state
    from tests.slack_data import loaded

    strategy = loaded().strategy
    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    copy = stored(engine)["euro_access"][0]
    with Session(engine) as session:
        assert set_state(session, strategy.name, copy, "follow", NOW, "Mette")
        session.commit()
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()], NOW + timedelta(hours=1))
    kept = stored(engine)["eu_ft"][0]
    with Session(engine) as session:  # reminders and change alerts follow the SEDIA copy's deadlines
        assert tracked_call_ids(session, strategy.name) == [kept]
    listing = ("--as-of", NOW.isoformat(), "calls", "list", "--followed", "--json")
    result = cli("--config", str(CONFIG), *listing)
    assert result.exit_code == 0, result.output
    assert [c["id"] for c in json.loads(result.stdout)] == [kept]
    with Session(engine) as session:  # unfollowed from the copy listed, the call is no longer followed
        assert clear_state(session, strategy.name, kept, "follow")
        session.commit()
        assert tracked_call_ids(session, strategy.name) == []


def test_the_erasmus_programme_line_and_the_workbench_count_the_call_once(engine, samples) -> None:
    # the config's programmes_of_interest keep "Erasmus+", which both copies belong to
    from pipeline.notify.programmes import collect_programme_calls
    from pipeline.strategy.workbench import active_calls
    from tests.slack_data import loaded

    store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
    store(engine, "eu_ft", "eu_ft", [eu_ft_copy()])
    strategy = loaded().strategy.model_copy(update={"programmes_of_interest": ["Erasmus+"]})
    kept = stored(engine)["eu_ft"][0]
    with Session(engine) as session:
        assert [p.call_id for p in collect_programme_calls(session, strategy, NOW)] == [kept]
        assert [c.id for c in active_calls(session, NOW)] == [kept]


@pytest.mark.parametrize(("first", "second"), [
    ("https://www.tillvaxtverket.se/calls/green-2026/", "http://tillvaxtverket.se/calls/green-2026?utm_source=rss"),
    ("https://ufm.dk/opslag/x#apply", "https://UFM.dk/opslag/x"),
])
def test_a_funders_list_and_its_feed_linking_one_call_page_are_one_call(first: str, second: str) -> None:
    assert url_key(first) == url_key(second) is not None
    links = duplicate_links([StoredCopy(1, "funder_page", "html_list", "open", None, first),
                             StoredCopy(2, "funder_rss", "feed", "open", None, second)])
    assert links == {2: 1}


def test_a_page_one_source_links_from_many_calls_names_none_of_them() -> None:
    home = "https://interreg.no/programme/calls"
    links = duplicate_links([StoredCopy(1, "ical", "ical", "open", None, home),
                             StoredCopy(2, "ical", "ical", "open", None, home),
                             StoredCopy(3, "page", "page_watch", "open", None, home)])
    assert links == {}
    assert url_key("https://www.euro-access.eu/") is None  # a home page names no call


def test_the_active_copy_is_kept_when_no_source_is_authoritative() -> None:
    page = "https://innovationsfonden.dk/da/p/grand-solutions"
    links = duplicate_links([StoredCopy(1, "list", "html_list", "closed", None, page),
                             StoredCopy(2, "rss", "feed", "open", None, page)])
    assert links == {1: 2}


def test_a_call_number_of_several_topics_links_none_of_them() -> None:
    # euro-access may give the SEDIA call identifier, which names several topics: not one of them
    links = duplicate_links([StoredCopy(1, "euro_access", "euro_access", "open", "HORIZON-CL5-2027-03", None),
                             StoredCopy(2, "eu_ft", "eu_ft", "open", "HORIZON-CL5-2027-03-D5-05", None)])
    assert links == {}


def test_relinking_on_postgresql_gives_the_same_links(pg_url: str, samples) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app
    from pipeline.core.db import open_database
    from pipeline.notify.alerts import new_call_alerts
    from tests.slack_data import loaded

    engine = open_database(pg_url)
    try:
        store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
        store(engine, "eu_ft", "eu_ft", [eu_ft_copy()])
        rows = stored(engine)
        assert rows["euro_access"][1] == rows["eu_ft"][0]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM call WHERE duplicate_of IS NULL")).scalar() == 1
        listing = ["--db", pg_url, "--as-of", NOW.isoformat(), "calls", "list", "--json"]
        result = CliRunner().invoke(app, listing, catch_exceptions=False)
        assert [c["source"] for c in json.loads(result.stdout)] == ["eu_ft"]
        strategy = loaded().strategy
        with Session(engine) as session:  # the alerts' queries on PostgreSQL
            for call_id in (rows["euro_access"][0], rows["eu_ft"][0]):
                session.add(Score(call_id=call_id, strategy=strategy.name, focus_area="offshore_energy",
                                  score=0.9, computed_at=NOW))
            session.commit()
            alerts = new_call_alerts(session, strategy, "#calls", NOW, NOW - timedelta(days=1))
            assert [a.key for a in alerts] == [f"alert:new:{rows['eu_ft'][0]}"]
            assert new_call_alerts(session, strategy, "#calls", NOW, NOW + timedelta(seconds=1)) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_of_0011_is_upgraded_and_links_the_copies_at_the_next_run(backend: str, db_url: str,
                                                                          request, samples) -> None:
    from alembic import command

    from pipeline.core.db import alembic_config, create_db_engine, open_database
    from tests.test_db import _models_match_the_migrations

    url = db_url if backend == "sqlite" else request.getfixturevalue("pg_url")
    old = create_db_engine(url)
    try:
        command.upgrade(alembic_config(old), "0011")
    finally:
        old.dispose()
    engine = open_database(url)
    try:
        _models_match_the_migrations(engine)
        store(engine, "euro_access", "euro_access", [euro_access_copy(samples)])
        store(engine, "eu_ft", "eu_ft", [eu_ft_copy()])
        rows = stored(engine)
        assert rows["euro_access"][1] == rows["eu_ft"][0]
    finally:
        engine.dispose()
