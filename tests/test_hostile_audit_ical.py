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
