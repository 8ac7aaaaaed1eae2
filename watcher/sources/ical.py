"""Source type ``ical``: an iCalendar feed of calls, e.g. the interreg.no programme calendar.

interreg.no publishes The Events Calendar's export: one VEVENT per call round with DTSTART = opening,
DTEND = deadline (``TZID=Europe/Oslo``), a stable UID (``18098-1710921600-1717675200@interreg.no``)
and SUMMARY "Programme: title". The UID is the call's external id. The config's ``programmes`` keep
only events whose programme prefix matches (case-insensitive); empty keeps all. Times without a zone
are in the config's ``timezone``; an all-day event's deadline is its last day at
:data:`watcher.dates.ASSUMED_TIME` (flagged as assumed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from pipeline.clock import UTC
from pipeline.errors import ParseError
from watcher.dates import ASSUMED_TIME
from watcher.records import CallRecord, Deadline
from watcher.sources import BuildContext, FetchResult, register
from watcher.sources.feed import file_replay, get_text


def _moment(value: Any, zone: ZoneInfo, *, end: bool) -> tuple[datetime | None, bool]:
    """An event time as aware UTC, and whether its time of day was assumed (all-day events)."""
    if value is None:
        return None, False
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC), False
    if isinstance(value, date):
        day = value - timedelta(days=1) if end else value  # an all-day DTEND is exclusive
        moment = time(0, 0) if not end else ASSUMED_TIME
        return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC), end
    return None, False


def split_summary(summary: str) -> tuple[str | None, str]:
    """"Programme: title" -> ("Programme", "title"); a summary without a prefix has no programme."""
    programme, sep, title = summary.partition(": ")
    if not sep or not title.strip():
        return None, summary.strip()
    return programme.strip(), title.strip()


def parse_calendar(content: bytes | str, *, source: str, timezone: str = "Europe/Oslo",
                   programmes: list[str] | None = None, now: datetime) -> list[CallRecord]:
    """Records for the calendar's events (pure). Raises ParseError for anything not iCalendar."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(content)
    except Exception as exc:  # icalendar raises ValueError and friends for malformed input
        first = " ".join(str(exc).split())[:160]
        raise ParseError(source, f"not a valid iCalendar file ({first}); check the URL") from None
    zone = ZoneInfo(timezone)
    wanted = {p.casefold() for p in programmes or []}
    records = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID") or "").strip()
        programme, title = split_summary(str(event.get("SUMMARY") or ""))
        if not uid or not title:
            continue
        if wanted and (programme or "").casefold() not in wanted:
            continue
        start = event.get("DTSTART")
        end = event.get("DTEND")
        opening, _ = _moment(start.dt if start is not None else None, zone, end=False)
        deadline, assumed = _moment(end.dt if end is not None else None, zone, end=True)
        if deadline is not None and deadline < now:
            status = "closed"
        elif opening is not None and opening > now:
            status = "forthcoming"
        else:
            status = "open"
        url = str(event.get("URL") or "") or None
        categories = event.get("CATEGORIES")
        cats = [str(c) for c in getattr(categories, "cats", [])] if categories is not None else []
        records.append(CallRecord(
            external_id=uid, title=title, text=str(event.get("DESCRIPTION") or "").strip(), url=url,
            status=status, programme=programme, opening_date=opening,
            deadlines=(Deadline(deadline, assumed),) if deadline else (),
            extra={"categories": cats, "sequence": int(event.get("SEQUENCE") or 0)},
        ))
    return records


class IcalAdapter:
    type = "ical"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        body = get_text(client, self.url, source=self.name, timeout=self.cfg.timeout_seconds)
        records = parse_calendar(body, source=self.name, timezone=self.cfg.timezone,
                                 programmes=list(self.cfg.programmes), now=now)
        # the export is the programme's whole list: an event that disappears is closed (deadline
        # passed) or removed (cancelled) by the store
        return FetchResult(records=records, complete=True)

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        return file_replay(recording_dir, self.name, self.url, (".ics",), "text/calendar")


@register("ical")
def build(name: str, cfg: Any, context: BuildContext) -> IcalAdapter:
    return IcalAdapter(name, cfg, context)
