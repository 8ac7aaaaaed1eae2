"""An iCalendar file of deadlines (the icalendar library builds and serialises it).

One VEVENT per deadline of each open application's call, and per deadline of each tracked call
(followed by the strategy, no open application of ours):

- UID ``application-<id>-deadline-<n>@fundradar`` / ``call-<id>-deadline-<n>@fundradar`` (n counts the
  call's deadlines from 1): stable, so a calendar that subscribed updates the event instead of adding
  a new one when the deadline moves;
- SEQUENCE: the application's ``deadline_sequence`` (raised by
  :func:`pipeline.applications.follow_call_deadlines` when the call's deadline moves) or, for a
  tracked call, the number of recorded changes of its deadlines and of its status to or from
  removed/withdrawn;
- DTSTART in Europe/Brussels time with a VTIMEZONE (the EU portal's deadlines are Brussels time);
- VALARM reminders 7 days and 1 day before;
- a call removed from its source or withdrawn keeps its events with ``STATUS:CANCELLED`` and a raised
  SEQUENCE (the application's, raised when the removal was followed; a tracked call's count of
  deadline moves, removals and returns), so a subscribed calendar drops the deadline instead of
  keeping a live event, and takes it back when the call is listed again.

With ``scope`` (a config folder's selected strategy) only the applications of that strategy's ideas
and of the shared ones are exported.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import icalendar
from sqlmodel import Session, col, func, select

from pipeline.applications import FINAL, GONE_CALL_STATUSES
from pipeline.core.clock import BRUSSELS
from pipeline.core.deadlines import ACTIVE, call_deadlines, effective_status
from pipeline.core.files import require_file_target, write_atomically
from pipeline.core.models import Application, Call, CallChange, Idea
from pipeline.core.text import one_line, printable
from pipeline.reports import tracked_calls
from pipeline.tenancy import visible

PRODID = "-//fundradar//deadlines//EN"
REMINDER_DAYS = (7, 1)


def _link(url: str | None) -> str | None:
    """A call's URL as an event may carry it: an absolute http(s) URL without spaces or control
    characters. A scraped URL with a line break would fail the library's URI value (and, written
    out, start a property of its own), so it is left out and the event kept."""
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return None
    return url


def _event(uid: str, summary: str, at: datetime, sequence: int, now: datetime, description: str,
           url: str | None, *, cancelled: bool = False) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", at.astimezone(BRUSSELS))
    event.add("sequence", sequence)
    # RFC 5545 TEXT holds no control characters (the library writes them as they are): scraped titles
    # carry escape sequences and bidi overrides now and then
    summary, description = printable(summary), printable(description)
    event.add("summary", summary)
    event.add("description", description)
    if (target := _link(url)) is not None:
        event.add("url", target)
    if cancelled:  # no reminders for a deadline that no longer exists
        event.add("status", "CANCELLED")
        return event
    for days in REMINDER_DAYS:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{summary} in {days} day{'s' if days > 1 else ''}")
        alarm.add("trigger", timedelta(days=-days))
        event.add_component(alarm)
    return event


def _stage(index: int, total: int) -> str:
    return f" (stage {index} of {total})" if total > 1 else ""


def build_calendar(session: Session, now: datetime, *, strategy: str,
                   scope: str | None = None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "fundradar deadlines")
    applied: set[int] = set()
    query = visible(select(Application, Call, Idea.title).join(Call, Call.id == Application.call_id)
                    .join(Idea, Idea.id == Application.idea_id).where(col(Application.status).not_in(FINAL)),
                    scope).order_by(Application.id)
    for app, call, idea_title in session.exec(query):
        applied.add(call.id)
        deadlines = call_deadlines(call)
        gone = call.status in GONE_CALL_STATUSES
        for n, value in enumerate(deadlines, start=1):
            # one line each: a scraped title's line break would forge a "Programme:" line in the text
            summary = (f"Deadline: {one_line(idea_title)} → {one_line(call.topic_id or call.title)}"
                       f"{_stage(n, len(deadlines))}")
            description = (f"Application #{app.id} ({app.status}, {app.role}) to call #{call.id}: "
                           f"{one_line(call.title)}\nProgramme: {one_line(call.programme) or 'unknown'}")
            if gone:
                summary = f"Cancelled (call {call.status}): {summary}"
                description = f"The call was {call.status}.\n{description}"
            cal.add_component(_event(f"application-{app.id}-deadline-{n}@fundradar", summary,
                                     value, app.deadline_sequence, now,
                                     description, call.url, cancelled=gone))
    for call in sorted(tracked_calls(session, strategy), key=lambda c: c.id or 0):
        gone = call.status in GONE_CALL_STATUSES
        if call.id in applied or (effective_status(call, now) not in ACTIVE and not gone):
            continue
        deadlines = call_deadlines(call)
        # every move, removal and return raises it: a calendar ignores an update whose SEQUENCE is
        # not above the one it has, so a call back after its cancellation must count higher still
        moves = session.exec(select(func.count()).select_from(CallChange).where(
            CallChange.call_id == call.id,
            (CallChange.field == "deadlines") | ((CallChange.field == "status") & (
                col(CallChange.new).in_(GONE_CALL_STATUSES) | col(CallChange.old).in_(GONE_CALL_STATUSES))))
        ).one()
        for n, value in enumerate(deadlines, start=1):
            summary = f"Call deadline: {one_line(call.topic_id or call.title)}{_stage(n, len(deadlines))}"
            if gone:
                summary = f"Cancelled (call {call.status}): {summary}"
            cal.add_component(_event(f"call-{call.id}-deadline-{n}@fundradar", summary,
                                     value, int(moves), now,
                                     f"Call #{call.id}: {one_line(call.title)}\nProgramme: "
                                     f"{one_line(call.programme) or 'unknown'}", call.url, cancelled=gone))
    cal.add_missing_timezones()
    return cal


def write_calendar(cal: icalendar.Calendar, path: Path) -> int:
    """Write atomically (:func:`pipeline.core.files.write_atomically`); returns the number of events."""
    require_file_target(path, "deadlines.ics")
    write_atomically(path, cal.to_ical())
    return len(cal.walk("VEVENT"))
