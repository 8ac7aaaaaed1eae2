"""Source type ``ical``: an iCalendar feed of calls, e.g. the interreg.no programme calendar.

interreg.no publishes The Events Calendar's export: one VEVENT per call round with DTSTART = opening,
DTEND = deadline (``TZID=Europe/Oslo``), a stable UID (``18098-1710921600-1717675200@interreg.no``)
and SUMMARY "Programme: title". The UID is the call's external id. The config's ``programmes`` keep
only events whose programme prefix matches (case-insensitive); empty keeps all. Times without a zone
are in the config's ``timezone``; an all-day event's deadline is its last day at
:data:`watcher.dates.ASSUMED_TIME` (flagged as assumed).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from pipeline.core.clock import UTC
from pipeline.core.errors import ParseError
from watcher.dates import ASSUMED_TIME
from watcher.encoding import decode_text
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


class _BadEvent(Exception):
    """An event that cannot be read; the reason is skipped and reported, the other events are kept."""


def _time_of(event: Any, name: str, zone: ZoneInfo, *, end: bool) -> tuple[datetime | None, bool]:
    """DTSTART or DTEND of an event; _BadEvent when repeated (RFC 5545 allows one) or out of range."""
    prop = event.get(name)
    if isinstance(prop, list):
        raise _BadEvent(f"{name} appears {len(prop)} times")
    try:
        value = getattr(prop, "dt", None)
    except ValueError:  # icalendar keeps an unparsable value as a broken property that raises here
        raise _BadEvent(f"{name} {' '.join(str(prop).split())[:40]!r} is not a date or time") from None
    try:
        return _moment(value, zone, end=end)
    except OverflowError:  # e.g. an all-day DTEND of 0001-01-01, or year 1 shifted across UTC
        raise _BadEvent(f"{name} {getattr(prop, 'dt', '')} is outside the dates fundradar can store") \
            from None


def _sequence(event: Any) -> int:
    try:
        return int(event.get("SEQUENCE") or 0)
    except (TypeError, ValueError):
        return 0  # a revision counter only; a garbled one does not make the event unreadable


def split_summary(summary: str) -> tuple[str | None, str]:
    """"Programme: title" -> ("Programme", "title"); a summary without a prefix has no programme."""
    programme, sep, title = summary.partition(": ")
    if not sep or not title.strip():
        return None, summary.strip()
    return programme.strip(), title.strip()


def parse_calendar(content: bytes | str, *, source: str, timezone: str = "Europe/Oslo",
                   programmes: list[str] | None = None, now: datetime,
                   skipped: list[str] | None = None) -> list[CallRecord]:
    """Records for the calendar's events (pure). Raises ParseError for anything not iCalendar.

    An event that cannot be read (a repeated DTSTART, a date out of range) is left out and its reason
    appended to ``skipped`` (when given), so the caller can report the run as incomplete."""
    from icalendar import Calendar

    # a BOM or a declared charset is the decoder's business (watcher.encoding); icalendar reads text
    text = unicodedata.normalize("NFC", content).removeprefix("\ufeff") if isinstance(content, str) \
        else decode_text(content)
    try:
        calendar = Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError and friends for malformed input
        first = " ".join(str(exc).split())[:160]
        raise ParseError(source, f"not a valid iCalendar file ({first}); check the URL") from None
    zone = ZoneInfo(timezone)
    wanted = {unicodedata.normalize("NFC", p).casefold() for p in programmes or []}
    records = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID") or "").strip()
        programme, title = split_summary(str(event.get("SUMMARY") or ""))
        if not uid or not title:
            continue
        if wanted and (programme or "").casefold() not in wanted:
            continue
        try:
            opening, _ = _time_of(event, "DTSTART", zone, end=False)
            deadline, assumed = _time_of(event, "DTEND", zone, end=True)
        except _BadEvent as exc:
            if skipped is not None:
                skipped.append(f"event {' '.join(uid.split())[:80]}: {exc}")
            continue
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
            extra={"categories": cats, "sequence": _sequence(event)},
        ))
    return records


class IcalAdapter:
    type = "ical"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        body = get_text(client, self.url, source=self.name, timeout=self.cfg.timeout_seconds)
        skipped: list[str] = []
        records = parse_calendar(body, source=self.name, timezone=self.cfg.timezone,
                                 programmes=list(self.cfg.programmes), now=now, skipped=skipped)
        # the export is the programme's whole list: an event that disappears is closed (deadline
        # passed) or removed (cancelled) by the store; not when an event could not be read
        warning = (f"{len(skipped)} event(s) could not be read (first: {skipped[0]})" if skipped else None)
        return FetchResult(records=records, complete=not skipped, warning=warning)

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        return file_replay(recording_dir, self.name, self.url, (".ics",), "text/calendar")


@register("ical")
def build(name: str, cfg: Any, context: BuildContext) -> IcalAdapter:
    return IcalAdapter(name, cfg, context)
