"""Scraped values in the iCalendar export: a call whose URL carries a line break (the search API's JSON
can hold one) neither stops the export nor plants a property in the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import icalendar
from sqlmodel import Session, select

from pipeline.core.db import session_scope
from pipeline.core.models import Call
from pipeline.follow import set_state
from pipeline.ical_export import build_calendar, write_calendar
from tests.test_plausibility import DAY, eu_ft, portal, run  # noqa: F401 (portal is a fixture)

STRATEGY = "greentech-dk"
INJECTED = "\r\nSTATUS:CANCELLED\r\nX-INJECTED:1"


def _hostile_urls(number: int, data: dict[str, Any]) -> dict[str, Any]:
    """Page 3 of the recording with its 7th result's URL carrying CR LF and properties after them."""
    if number == 3:
        result = data["results"][6]
        result["url"] = result["url"] + INJECTED
        result["metadata"]["url"] = [result["url"]]
    return data


def test_a_call_url_with_a_line_break_is_exported_without_it(engine, server, portal, tmp_path: Path,  # noqa: F811
                                                               cli) -> None:
    portal.mutate = _hostile_urls
    result = run(engine, eu_ft(server))
    assert result.outcome == "ok" and result.new == 731
    with session_scope(engine) as session:
        calls = session.exec(select(Call)).all()
        hostile = next(c for c in calls if c.url and "\n" in c.url)
        plain = next(c for c in calls if c.url and "\n" not in c.url and c.deadline is not None)
        for call in (hostile, plain):
            set_state(session, STRATEGY, call.id, "follow", DAY)
    path = tmp_path / "deadlines.ics"
    with Session(engine) as session:
        write_calendar(build_calendar(session, DAY, strategy=STRATEGY), path)
    data = path.read_bytes()
    assert b"X-INJECTED" not in data and b"STATUS:CANCELLED" not in data
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    mine = events[f"call-{hostile.id}-deadline-1@fundradar"]
    assert "URL" not in mine  # not a URL a calendar can link to: left out, the event kept
    assert str(events[f"call-{plain.id}-deadline-1@fundradar"]["URL"]) == plain.url
    exported = cli("--as-of", DAY.isoformat(), "export", "ical", str(tmp_path / "cli.ics"))
    assert exported.exit_code == 0, exported.output
    assert b"X-INJECTED" not in (tmp_path / "cli.ics").read_bytes()


def test_control_characters_in_a_title_are_not_written_into_the_calendar(engine, server, portal,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    def hostile_title(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number == 3:
            data["results"][6]["metadata"]["title"] = ["Green \x1b[31mhydrogen\x1b[0m\x0b\x7f \u202eports"]
        return data

    portal.mutate = hostile_title
    assert run(engine, eu_ft(server)).new == 731
    with session_scope(engine) as session:
        call = next(c for c in session.exec(select(Call)).all() if "\x1b" in c.title)
        set_state(session, STRATEGY, call.id, "follow", DAY)
    path = tmp_path / "deadlines.ics"
    with Session(engine) as session:
        write_calendar(build_calendar(session, DAY, strategy=STRATEGY), path)
    text = path.read_bytes().decode("utf-8").replace("\r\n", "")
    assert not [ch for ch in text if (ord(ch) < 32 and ch != "\t") or ord(ch) == 127 or ch == "\u202e"]
    [event] = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert str(event["DESCRIPTION"]).startswith(f"Call #{call.id}: Green hydrogen  ports\n")
