"""A calendar event recurring every minute or second (a hostile or broken export) is no call's
deadlines: expanding it took a minute (every minute) or hours and all memory (every second) and held
the whole main job; it is left out and named, and the calendar's other events are read as ever."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.core.config import IcalSource
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import run
from watcher.sources.ical import IcalAdapter

ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
EVERY_MINUTE_OF_THE_DAY = ("FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE="
                           + ",".join(map(str, range(60))))


@pytest.mark.parametrize("rule", ["FREQ=MINUTELY", "FREQ=SECONDLY", "FREQ=HOURLY;INTERVAL=1",
                                  EVERY_MINUTE_OF_THE_DAY, "FREQ=DAILY;BYSECOND=0,1,2,3,4,5"])
def test_an_event_recurring_more_than_daily_is_left_out(engine, server: LocalServer, rule: str) -> None:
    event = (b"BEGIN:VEVENT\r\nUID:flood@interreg.no\r\nSUMMARY:Interreg Aurora: Utlysning hvert minutt\r\n"
             b"DTSTART:20250101T000000Z\r\nDTEND:20250101T000100Z\r\nRRULE:" + rule.encode() +
             b"\r\nEND:VEVENT\r\n")
    hostile = ICS.replace(b"END:VCALENDAR", event + b"END:VCALENDAR")
    server.route("GET", "/cal.ics", lambda request: Reply(200, hostile, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.complete, result.seen) == ("ok", False, 4)
    assert result.error.startswith("1 event(s) could not be read (first: event flood@interreg.no: it "
                                   "recurs more often than daily")


def test_an_event_without_uid_or_summary_makes_the_run_incomplete(engine, server: LocalServer) -> None:
    """An event that lost its UID (or its summary) was left out in silence and the answer counted as
    complete, so a stored call whose event came without its UID twice was removed."""
    stripped = ICS.replace(b"UID:21601-1770026400-1777986000@interreg.no\r\n", b"")
    server.route("GET", "/cal.ics", lambda request: Reply(200, stripped, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.complete, result.seen) == ("ok", False, 3)
    assert result.error == ("1 event(s) could not be read (first: event Interreg Sverige-Norge: Utlysning "
                            "2026: it has no UID, so it cannot be told which call it is)")


def test_an_all_day_event_without_an_end_is_a_deadline_on_its_day() -> None:
    """DTSTART;VALUE=DATE alone lasts that day (RFC 5545): it was stored with no deadline at all."""
    from watcher.sources.ical import parse_calendar

    calendar = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
                "SUMMARY:Interreg Aurora: Søknadsfrist forprosjekter\r\nDTSTART;VALUE=DATE:20261102\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n")
    (record,) = parse_calendar(calendar, source="x", now=NOW)
    assert [(d.at, d.time_assumed) for d in record.deadlines] == [(datetime(2026, 11, 2, 16, 0, tzinfo=UTC),
                                                                  True)]


def test_an_unreadable_rrule_leaves_its_event_out(engine, server: LocalServer) -> None:
    """icalendar keeps "RRULE:FREQ=DAILY;COUNT=9999x" as a broken property that raises on any attribute:
    the whole source failed with "unexpected BrokenCalendarProperty" (found by the property test)."""
    event = (b"BEGIN:VEVENT\r\nUID:broken@interreg.no\r\nSUMMARY:Interreg Aurora: Utlysning\r\n"
             b"DTSTART:20260101T000000Z\r\nDTEND:20260201T000000Z\r\nRRULE:FREQ=DAILY;COUNT=9999x\r\n"
             b"END:VEVENT\r\n")
    hostile = ICS.replace(b"END:VCALENDAR", event + b"END:VCALENDAR")
    server.route("GET", "/cal.ics", lambda request: Reply(200, hostile, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.complete, result.seen) == ("ok", False, 4)
    assert result.error == ("1 event(s) could not be read (first: event broken@interreg.no: its RRULE "
                            "'FREQ=DAILY;COUNT=9999x' cannot be read)")


def test_repeated_text_properties_are_not_stored_as_a_list_repr() -> None:
    """A second SUMMARY made the title "Call'), vText('Other')]" (str of icalendar's list); a second
    UID the call's id. An event whose UID or SUMMARY repeats is left out and named; a repeated
    DESCRIPTION keeps both texts, a repeated URL its first."""
    from watcher.sources.ical import parse_calendar

    def calendar(extra: str) -> str:
        return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
                f"SUMMARY:Interreg Aurora: Utlysning\r\nDTSTART:20270101T100000Z\r\n{extra}END:VEVENT\r\n"
                "END:VCALENDAR\r\n")

    skipped: list[str] = []
    assert parse_calendar(calendar("SUMMARY:Other\r\n"), source="x", now=NOW, skipped=skipped) == []
    assert parse_calendar(calendar("UID:b@x\r\n"), source="x", now=NOW, skipped=skipped) == []
    assert skipped == ["event a@x: SUMMARY appears 2 times", "event a@x b@x: UID appears 2 times"]
    (record,) = parse_calendar(calendar("DESCRIPTION:One\r\nDESCRIPTION:Two\r\nURL:https://a.no/\r\n"
                                        "URL:https://b.no/\r\n"), source="x", now=NOW)
    assert (record.title, record.text, record.url) == ("Utlysning", "One\nTwo", "https://a.no/")


def test_a_calendar_cut_before_its_end_says_so(engine, server: LocalServer) -> None:
    """A calendar answer cut off mid-event read "Found no components where exactly one is required"."""
    cut = ICS[:ICS.index(b"END:VCALENDAR") - 40]
    server.route("GET", "/cal.ics", lambda request: Reply(200, cut, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert result.outcome == "failed"
    assert result.error == "the calendar file ends before END:VCALENDAR (cut off?); the next run tries again"
