"""iCal source: The Events Calendar export as interreg.no publishes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipeline.core.config import IcalSource
from pipeline.core.errors import ParseError
from tests.localserver import LocalServer, Reply
from watcher.runner import run_source
from watcher.sources.ical import IcalAdapter, parse_calendar, split_summary

ICS = Path(__file__).parent / "fixtures" / "ical" / "interreg_no_calendar.ics"
NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


def test_events_become_calls() -> None:
    records = parse_calendar(ICS.read_bytes(), source="interreg_no", now=NOW)
    assert [r.external_id for r in records] == [
        "18098-1710921600-1717675200@interreg.no", "21544-1768208400-1776383940@interreg.no",
        "21601-1770026400-1777986000@interreg.no", "21633-1789430400-1792108799@interreg.no"]
    aurora, oks1, _, oks2 = records
    assert (aurora.programme, aurora.title) == ("Interreg Aurora", "Utlysning av hovedprosjekter 2024")
    # DTSTART/DTEND with TZID=Europe/Oslo: 08:00 and 12:00 Oslo summer time
    assert aurora.opening_date == datetime(2024, 3, 20, 7, 0, tzinfo=UTC)
    assert [(d.at, d.time_assumed) for d in aurora.deadlines] == [(datetime(2024, 6, 6, 10, 0, tzinfo=UTC),
                                                                    False)]
    assert aurora.status == "closed"
    assert aurora.url == "https://interreg.no/arrangement/interreg-aurora-utlysning-av-hovedprosjekter-2024/"
    assert aurora.text == ("Interreg Aurora lyser ut midler til hovedprosjekter. Søknadsfrist 6. juni 2024 "
                           "kl. 12:00.\nSøknader sendes i Jems.")
    assert (oks1.programme, oks1.title, oks1.status) == ("Interreg Öresund-Kattegat-Skagerrak",
                                                         "Ansökningsomgång 2026:1", "forthcoming")
    assert oks1.deadline == datetime(2026, 4, 16, 21, 59, tzinfo=UTC)
    assert "innovation, grön omställning" in oks1.text  # the escaped comma is unescaped
    # an all-day event: DTEND is exclusive, the deadline is the last day at the assumed time
    assert oks2.opening_date == datetime(2026, 9, 14, 22, 0, tzinfo=UTC)
    assert [(d.at, d.time_assumed) for d in oks2.deadlines] == [(datetime(2026, 10, 15, 15, 0, tzinfo=UTC),
                                                                  True)]


def test_programme_filter_is_case_insensitive() -> None:
    records = parse_calendar(ICS.read_bytes(), source="interreg_no", now=NOW,
                             programmes=["interreg öresund-kattegat-skagerrak"])
    assert [r.title for r in records] == ["Ansökningsomgång 2026:1", "Ansökningsomgång 2026:2"]


def test_summary_split() -> None:
    assert split_summary("Interreg Aurora: Utlysning 2026") == ("Interreg Aurora", "Utlysning 2026")
    assert split_summary("Informasjonsmøte") == (None, "Informasjonsmøte")


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a valid iCalendar file"):
        parse_calendar(b"<html>Not found</html>", source="interreg_no", now=NOW)


def test_calendar_over_http_into_the_database(server: LocalServer, engine) -> None:  # type: ignore[no-untyped-def]
    server.route("GET", "/", lambda r: Reply(200, ICS.read_bytes(), {"Content-Type": "text/calendar"}))
    cfg = IcalSource(type="ical", url=server.url("/?post_type=tribe_events&ical=1&eventDisplay=list"),
                     programmes=["Interreg Öresund-Kattegat-Skagerrak", "Interreg Sverige-Norge"])
    with httpx.Client() as client:
        result = run_source(engine, IcalAdapter("interreg_no", cfg), client, NOW)
    assert (result.outcome, result.seen, result.new, result.complete) == ("ok", 3, 3, True)
    assert server.requests[0].query == {"post_type": ["tribe_events"], "ical": ["1"],
                                        "eventDisplay": ["list"]}
