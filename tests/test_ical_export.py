"""The iCalendar export opens with the icalendar library, round-trips, and follows moved deadlines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline import applications as apps
from pipeline.core.db import session_scope
from pipeline.follow import set_state
from pipeline.ical_export import build_calendar, write_calendar
from tests.test_applications import NOW, brussels, bsr_call, seed, sync

STRATEGY = "greentech-dk"


def export(engine: Engine, path: Path, now=NOW) -> icalendar.Calendar:
    with session_scope(engine) as session:
        apps.follow_call_deadlines(session, now)
    with Session(engine) as session:
        write_calendar(build_calendar(session, now, strategy=STRATEGY), path)
    return icalendar.Calendar.from_ical(path.read_bytes())


def events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_export_round_trips(engine: Engine, tmp_path: Path) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
        set_state(session, STRATEGY, ids["horizon"], "follow", NOW)
    path = tmp_path / "deadlines.ics"
    cal = export(engine, path)
    assert cal["PRODID"] == "-//fundradar//deadlines//EN"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Brussels"]
    found = events(cal)
    assert sorted(found) == [f"application-{app_id}-deadline-1@fundradar",
                             f"call-{ids['horizon']}-deadline-1@fundradar",
                             f"call-{ids['horizon']}-deadline-2@fundradar"]
    event = found[f"application-{app_id}-deadline-1@fundradar"]
    start = event.decoded("DTSTART")
    assert start == brussels("2026-10-15T12:00") and str(start.tzinfo) == "Europe/Brussels"
    assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]) == ("Deadline: Hydrogen ferries → Small projects: green shipping and "
                                     "ports in the Baltic Sea Region")
    assert str(event["URL"]) == "https://www.euro-access.eu/en/calls/1234"
    triggers = sorted(a.decoded("TRIGGER") for a in event.walk("VALARM"))
    assert triggers == [timedelta(days=-7), timedelta(days=-1)]
    assert {str(a["ACTION"]) for a in event.walk("VALARM")} == {"DISPLAY"}
    stage2 = found[f"call-{ids['horizon']}-deadline-2@fundradar"]
    assert str(stage2["SUMMARY"]) == "Call deadline: HORIZON-CL5-2027-03-D5-05 (stage 2 of 2)"
    assert stage2.decoded("DTSTART") == brussels("2027-03-10T17:00")
    # round trip: parse and serialise again gives the same bytes
    assert icalendar.Calendar.from_ical(cal.to_ical()).to_ical() == cal.to_ical()


def test_moving_the_call_deadline_changes_the_event_and_raises_sequence(engine: Engine,
                                                                        tmp_path: Path) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
    uid = f"application-{app_id}-deadline-1@fundradar"
    before = events(export(engine, tmp_path / "a.ics"))[uid]
    assert before["SEQUENCE"] == 0
    later = NOW + timedelta(days=2)
    sync(engine, "euro_access", [bsr_call("2026-10-29T12:00")], later)  # a sync sees the new deadline
    after = events(export(engine, tmp_path / "b.ics", later))[uid]
    assert after.decoded("DTSTART") == brussels("2026-10-29T12:00")
    assert after["SEQUENCE"] == 1
    again = events(export(engine, tmp_path / "c.ics", later))[uid]  # nothing moved since
    assert again["SEQUENCE"] == 1
    sync(engine, "euro_access", [bsr_call("2026-11-05T12:00")], later + timedelta(days=1))
    assert events(export(engine, tmp_path / "d.ics", later))[uid]["SEQUENCE"] == 2


def test_final_applications_are_not_exported(engine: Engine, tmp_path: Path) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
        apps.move(session, app_id, "withdrawn", NOW, by="anna")
    cal = export(engine, tmp_path / "x.ics")
    assert cal.walk("VEVENT") == []
