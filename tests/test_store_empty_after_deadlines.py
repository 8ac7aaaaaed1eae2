"""A source whose every active call has ended may rightly answer with none: its calls close."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from pipeline.core.config import IcalSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import run
from watcher.sources.ical import IcalAdapter

# RFC 5545's minimal calendar (section 3.4's example, one VEVENT), as interreg.no's export writes its calls
HEAD = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interreg.no//NONSGML v1.0//EN\r\n"
        b"CALSCALE:GREGORIAN\r\n")
EVENT = (b"BEGIN:VEVENT\r\nUID:aurora-2027@interreg.no\r\nDTSTAMP:20261201T090000Z\r\n"
         b"SUMMARY:Interreg Aurora: Utlysning 2027\r\nDTSTART:20270115T100000Z\r\n"
         b"DTEND:20270301T100000Z\r\nEND:VEVENT\r\n")
TAIL = b"END:VCALENDAR\r\n"
ICS = {"Content-Type": "text/calendar; charset=utf-8"}


def test_a_calendar_emptied_after_its_last_deadline_closes_its_call(engine, server: LocalServer) -> None:
    """An export of upcoming events is empty once the season's last call has ended: read as a short
    answer ('answered with no calls although 1 were active'), the run was partial on every day after,
    the call never closed and the digest counted the source as failing for good."""
    body = {"ics": HEAD + EVENT + TAIL}
    server.route("GET", "/cal.ics", lambda request: Reply(200, body["ics"], ICS))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    first = run(engine, adapter, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert (first.outcome, first.complete, first.new) == ("ok", True, 1), first.error
    with Session(engine) as session:
        (call,) = session.exec(select(Call)).all()
        assert call.deadlines, "the event's end is the call's deadline"
    body["ics"] = HEAD + TAIL
    later = run(engine, adapter, datetime(2027, 3, 10, 9, 0, tzinfo=UTC))
    assert (later.outcome, later.complete, later.closed, later.error) == ("ok", True, 1, None)


def test_a_calendar_emptied_before_its_calls_deadline_closes_nothing(engine, server: LocalServer) -> None:
    body = {"ics": HEAD + EVENT + TAIL}
    server.route("GET", "/cal.ics", lambda request: Reply(200, body["ics"], ICS))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    run(engine, adapter, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    body["ics"] = HEAD + TAIL
    result = run(engine, adapter, datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert (result.complete, result.closed, result.missing) == (False, 0, 0)
    assert result.error.startswith("the source answered with no calls although 1 were active"), result.error
