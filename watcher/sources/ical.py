"""Source type ``ical``: an iCalendar feed of calls, e.g. the interreg.no programme calendar.

interreg.no publishes The Events Calendar's export: one VEVENT per call round with DTSTART = opening,
DTEND = deadline (``TZID=Europe/Oslo``), a UID (``18098-1710921600-1717675200@interreg.no``: post,
start and end, so it changes when the deadline moves) and SUMMARY "Programme: title". The UID is the
call's external id; an event with a new UID and the URL and title of a stored call the calendar no
longer lists is that call (:mod:`watcher.stored_links`). The config's ``programmes`` keep
only events whose programme prefix matches (case-insensitive); empty keeps all. Times without a zone
are in the config's ``timezone``; an all-day event's deadline is its last day at
:data:`watcher.dates.ASSUMED_TIME` (flagged as assumed). An event's end is DTEND, or DTSTART plus
DURATION when it gives a duration instead.

A recurring event (RRULE or RDATE; occurrences moved or changed by a RECURRENCE-ID override are
read as moved, with ``recurring-ical-events``) is one call, a call with repeated cut-offs: its
opening is the series' DTSTART and its deadlines are the ends of the occurrences that end from
now until :data:`HORIZON` ahead (at most :data:`MAX_DEADLINES`). It is closed only when no
occurrence is ahead; its deadline is then the last occurrence's end within :data:`LOOKBACK`. A rule
recurring more often than daily (:data:`SUB_DAILY`, or several BYHOUR/BYMINUTE/BYSECOND values) is no
call's schedule: the event is left out and named, and the run is incomplete.

A programme calendar also lists events that are not calls: webinars, info days, consultations,
matchmaking and partner-search events, application seminars. Such an event is **kept out of the calls**
(decided: an event's dates are not a call's opening and deadline, and stored as a call it competed
with, and outscored, the real call it is about). It is recognised by a word of the config's
``non_call_words`` (``pipeline.core.call_phrases.NON_CALL_WORDS``, en/da/sv/no/de) at the start of a
word of its summary or categories; the events left out are not stored, and are listed in the
fetch's ``extra["not_calls"]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from pipeline.core.call_phrases import NON_CALL_WORDS, first_phrase
from pipeline.core.clock import UTC
from pipeline.core.errors import ParseError
from watcher.dates import ASSUMED_TIME
from watcher.encoding import decode_text
from watcher.html_text import clean_inline, drop_invisible, unescape_entities
from watcher.http import fetch_text
from watcher.records import MIN_YEAR, CallRecord, Deadline
from watcher.replay import file_replay
from watcher.sources import BuildContext, FetchResult, register
from watcher.stored_links import keep_stored_ids, stored_links
from watcher.urls import goes_nowhere

HORIZON = timedelta(days=366)  # a recurring call's deadlines: its occurrences ending within a year
LOOKBACK = timedelta(days=366)  # how far back a finished series' last occurrence is looked for
MAX_DEADLINES = 12
# a call's cut-offs recur daily at most; a rule more frequent than that is no call's schedule, and
# expanding it over the horizon (a million occurrences a year for every minute) would hold the job
SUB_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})


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


def _end_of(event: Any, zone: ZoneInfo) -> tuple[datetime | None, bool]:
    """The event's end: DTEND, else DTSTART + DURATION (RFC 5545 gives one or the other)."""
    duration = event.get("DURATION")
    start = event.get("DTSTART")
    if event.get("DTEND") is None and duration is None and not isinstance(start, list) \
            and type(getattr(start, "dt", None)) is date:
        # an all-day event without an end lasts its one day (RFC 5545 3.6.1): a deadline day
        try:
            return _moment(start.dt + timedelta(days=1), zone, end=True)
        except OverflowError:
            raise _BadEvent(f"DTSTART {start.dt} is outside the dates fundradar can store") from None
    if event.get("DTEND") is not None or duration is None:
        return _time_of(event, "DTEND", zone, end=True)
    if isinstance(duration, list):
        raise _BadEvent(f"DURATION appears {len(duration)} times")
    start = getattr(event.get("DTSTART"), "dt", None)
    try:
        length = duration.dt
    except ValueError:
        length = None
    if start is None or not isinstance(length, timedelta):
        raise _BadEvent(f"DURATION {' '.join(str(duration).split())[:40]!r} is not a length of time "
                        "after a DTSTART")
    try:
        return _moment(start + length, zone, end=True)
    except OverflowError:
        raise _BadEvent("DTSTART + DURATION is outside the dates fundradar can store") from None


def _series(calendar: Any) -> dict[str, list[Any]]:
    """The calendar's VTIMEZONEs, then each UID's events (the series and its overrides), by UID.
    Gathered once per calendar: walked again for each recurring event, 1,000 of them took 9 s and a
    hostile export of 100,000 a day."""
    zones = calendar.walk("VTIMEZONE")
    series: dict[str, list[Any]] = {}
    for event in calendar.walk("VEVENT"):
        series.setdefault(_text(event, "UID"), list(zones)).append(event)
    return series


def _occurrences(series: list[Any], zone: ZoneInfo, now: datetime) -> list[tuple[datetime, bool]]:
    """(end, time assumed) of each occurrence of one series (its events as :func:`_series` gathers
    them) from :data:`LOOKBACK` before ``now`` to :data:`HORIZON` after it, overrides (RECURRENCE-ID)
    applied, in time order."""
    import recurring_ical_events
    from icalendar import Calendar

    own = Calendar()
    for component in series:
        own.add_component(component)
    try:
        found = recurring_ical_events.of(own).between((now - LOOKBACK).date(),
                                                     (now + HORIZON).date() + timedelta(days=1))
    except Exception as exc:  # a malformed RRULE or RDATE: this event only, the others are kept
        raise _BadEvent(f"its recurrence cannot be expanded ({' '.join(str(exc).split())[:80]})") from None
    ends = []
    for occurrence in found:
        end, assumed = _end_of(occurrence, zone)
        if end is not None:
            ends.append((end, assumed))
    return sorted(ends)


def _check_frequency(event: Any) -> None:
    """_BadEvent when a recurrence rule of the event repeats more often than once a day."""
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules]:
        try:
            readable = hasattr(rule, "get")
        except Exception:  # icalendar keeps an unparsable RRULE as a broken property raising on access
            raise _BadEvent(f"its RRULE {' '.join(str(rule).split())[:60]!r} cannot be read") from None
        if not readable:
            continue
        freq = {str(f).upper() for f in rule.get("FREQ") or []}
        within_day = [key for key in ("BYHOUR", "BYMINUTE", "BYSECOND") if len(rule.get(key) or []) > 1]
        if freq & SUB_DAILY or within_day:
            written = " ".join(rule.to_ical().decode("utf-8", "replace").split())[:60]
            raise _BadEvent(f"it recurs more often than daily (RRULE {written}), which is no call's "
                            "deadlines")


def _schedule(series: dict[str, list[Any]], event: Any, uid: str, zone: ZoneInfo, now: datetime,
              ) -> tuple[datetime | None, tuple[Deadline, ...], bool]:
    """(opening, deadlines, recurring) of one event; see the module docstring for recurring ones."""
    opening, _ = _time_of(event, "DTSTART", zone, end=False)
    end, assumed = _end_of(event, zone)
    # an all-day end is the day before DTEND (exclusive), so a one-day event written with DTEND equal
    # to DTSTART is its own day, not one that ended before it began; an end outside the years a call
    # has (Unix time 0) is named as such by the record's checks
    if end is not None and opening is not None and end < opening and end.year >= MIN_YEAR \
            and not (assumed and end + timedelta(days=1) > opening):
        raise _BadEvent(f"it ends (DTEND {end:%Y-%m-%d %H:%M} UTC) before it starts (DTSTART "
                        f"{opening:%Y-%m-%d %H:%M} UTC)")
    if event.get("RRULE") is None and event.get("RDATE") is None:
        return opening, ((Deadline(end, assumed),) if end else ()), False
    _check_frequency(event)
    ends = _occurrences(series[uid], zone, now)
    upcoming = [Deadline(at, a) for at, a in ends if now <= at <= now + HORIZON][:MAX_DEADLINES]
    if upcoming:
        return opening, tuple(upcoming), True
    past = [Deadline(at, a) for at, a in ends if at < now]
    if past:
        return opening, (past[-1],), True
    return opening, ((Deadline(end, assumed),) if end else ()), True


def _text(component: Any, name: str) -> str:
    """A text property, stripped; of a property given several times (icalendar's list), the values
    joined by newlines rather than the list's repr ("[vText('…'), vText('…')]") as a title or id."""
    value = component.get(name)
    if isinstance(value, list):
        return "\n".join(str(part).strip() for part in value if str(part).strip())
    return str(value or "").strip()


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


def not_a_call(summary: str, categories: list[str], words: tuple[str, ...] = NON_CALL_WORDS) -> str | None:
    """The word that makes an event a webinar, info day, consultation … rather than a call, or None."""
    return first_phrase(" | ".join([summary, *categories]), words)


def parse_calendar(content: bytes | str, *, source: str, timezone: str = "Europe/Oslo",
                   programmes: list[str] | None = None, now: datetime,
                   skipped: list[str] | None = None, not_calls: list[str] | None = None,
                   non_call_words: tuple[str, ...] = NON_CALL_WORDS,
                   unwatched: set[str] | None = None) -> list[CallRecord]:
    """Records for the calendar's events (pure). Raises ParseError for anything not iCalendar.

    An event that cannot be read (a repeated DTSTART, a date out of range) is left out and its reason
    appended to ``skipped`` (when given), so the caller can report the run as incomplete. An event that
    is not a call (:func:`not_a_call`) is left out and its summary appended to ``not_calls``; the UID
    of one of a programme ``programmes`` does not keep is added to ``unwatched``."""
    from icalendar import Calendar

    # a BOM or a declared charset is the decoder's business (watcher.encoding); icalendar reads text
    text = unicodedata.normalize("NFC", content).removeprefix("\ufeff") if isinstance(content, str) \
        else decode_text(content)
    try:
        calendar = Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError and friends for malformed input
        upper = text.upper()
        if "BEGIN:VCALENDAR" in upper and "END:VCALENDAR" not in upper:  # an answer cut short
            raise ParseError(source, "the calendar file ends before END:VCALENDAR (cut off?); the next "
                                     "run tries again") from None
        first = " ".join(str(exc).split())[:160]
        raise ParseError(source, f"not a valid iCalendar file ({first}); check the URL") from None
    zone = ZoneInfo(timezone)
    wanted = {unicodedata.normalize("NFC", p).casefold() for p in programmes or []}
    events = calendar.walk("VEVENT")
    by_uid = _series(calendar)
    series = {_text(e, "UID") for e in events if e.get("RECURRENCE-ID") is None}
    records = []
    for event in events:
        uid = _text(event, "UID")
        if event.get("RECURRENCE-ID") is not None and uid in series:
            continue  # an override of one occurrence: read with its series
        # plain text by RFC 5545, but WordPress exports write titles HTML-escaped ("R&amp;D &#8211; …");
        # a title is one line, though a SUMMARY may hold line breaks ("\\n", U+2028)
        summary = clean_inline(unescape_entities(_text(event, "SUMMARY")))
        repeated = [name for name in ("UID", "SUMMARY") if isinstance(event.get(name), list)]
        if repeated:  # which of them names the call cannot be told (RFC 5545 allows one)
            if skipped is not None:
                skipped.append(f"event {' '.join(uid.split())[:80] or '(unnamed)'}: {repeated[0]} appears "
                               f"{len(event.get(repeated[0]))} times")
            continue
        programme, title = split_summary(summary)
        if wanted and unicodedata.normalize("NFC", programme or "").casefold() not in wanted:
            if unwatched is not None and uid:
                unwatched.add(uid)
            continue
        categories = event.get("CATEGORIES")
        cats = [str(c) for c in getattr(categories, "cats", [])] if categories is not None else []
        if not_a_call(summary, cats, non_call_words) is not None:
            if not_calls is not None:
                not_calls.append(" ".join(summary.split())[:120])
            continue
        if not uid or not title:
            # an event that lost its UID or summary may be a stored call all the same: left out, it
            # made a complete answer without that call, and two of them removed it
            if skipped is not None:
                named = " ".join((uid or summary).split())[:80] or "(unnamed)"
                lacks = "UID, so it cannot be told which call it is" if not uid else "SUMMARY (title)"
                skipped.append(f"event {named}: it has no {lacks}")
            continue
        try:
            opening, deadlines, recurring = _schedule(by_uid, event, uid, zone, now)
        except _BadEvent as exc:
            if skipped is not None:
                skipped.append(f"event {' '.join(uid.split())[:80]}: {exc}")
            continue
        if deadlines and max(d.at for d in deadlines) < now:
            status = "closed"
        elif opening is not None and opening > now:
            status = "forthcoming"
        else:
            status = "open"
        url = _text(event, "URL").partition("\n")[0] or None  # a repeated URL: its first
        if url is not None and goes_nowhere(url):  # a script or data: URL is no call page
            url = None
        extra: dict[str, Any] = {"categories": cats, "sequence": _sequence(event)}
        if recurring:
            extra["recurring"] = True
        text = drop_invisible(unescape_entities(_text(event, "DESCRIPTION")))
        records.append(CallRecord(
            external_id=uid, title=title, text=text, url=url,
            status=status, programme=programme, opening_date=opening, deadlines=deadlines, extra=extra,
        ))
    return records


# The Events Calendar (PRODID "-//<site> - ECPv<version>//…", interreg.no's export) writes at most this
# many events, the soonest first (Tribe__Events__iCal::$feed_default_export_count): at the limit, the
# events after it are left out, and a new event pushes the latest call out of the export.
TEC_EXPORT_LIMIT = 30
_PRODID = re.compile(r"^PRODID:(.*)$", re.MULTILINE | re.IGNORECASE)
_VEVENT = re.compile(r"^BEGIN:VEVENT\s*$", re.MULTILINE | re.IGNORECASE)


def export_limit_warnings(body: str) -> list[str]:
    """Why the calendar may not be the whole list: an export of The Events Calendar holding exactly as
    many events as it writes by default (pure)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", body)
    prodid = _PRODID.search(unfolded)
    if prodid is None or "ECPv" not in prodid.group(1):
        return []
    count = len(_VEVENT.findall(unfolded))
    if count != TEC_EXPORT_LIMIT:  # fewer is the whole list; more, a site that raised its limit
        return []
    return [f"the calendar holds {count} events, the most The Events Calendar exports by default "
            "(feed_default_export_count): later events may be left out, so nothing is closed; the site "
            "can export more (filter tribe_ical_feed_posts_per_page)"]


class IcalAdapter:
    type = "ical"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url
        self.engine = context.engine if context is not None else None  # its stored links, when given

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        body = fetch_text(client, self.url, source=self.name, timeout=self.cfg.timeout_seconds)
        skipped: list[str] = []
        not_calls: list[str] = []
        unwatched: set[str] = set()  # the events of a programme not kept: still listed, never missing
        records = parse_calendar(body, source=self.name, timezone=self.cfg.timezone,
                                 programmes=list(self.cfg.programmes), now=now, skipped=skipped,
                                 not_calls=not_calls, non_call_words=tuple(self.cfg.non_call_words),
                                 unwatched=unwatched)
        if self.engine is not None:  # a UID holding the event's dates changes with its deadline
            records = keep_stored_ids(records, stored_links(self.engine, self.name))
        # the export is the programme's whole list: an event that disappears is closed (deadline
        # passed) or removed (cancelled) by the store; not when an event could not be read, nor when
        # the export may have stopped at its limit
        problems = [f"{len(skipped)} event(s) could not be read (first: {skipped[0]})"] if skipped else []
        problems += export_limit_warnings(body)
        warning = "; ".join(problems) or None
        return FetchResult(records=records, complete=not problems, warning=warning,
                           extra={"not_calls": not_calls} if not_calls else {}, unwatched=unwatched)

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        return file_replay(recording_dir, self.name, self.url, (".ics",), "text/calendar")


@register("ical")
def build(name: str, cfg: Any, context: BuildContext) -> IcalAdapter:
    return IcalAdapter(name, cfg, context)
