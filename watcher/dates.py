"""Dates found in free text (news items, calendar notes, funders' pages), in en/da/de/sv/nb.

The finding and parsing is dateparser's (``search_dates``); this module only decides which of the found
dates count and what they mean:

- only full dates (day, month and year) count, so "3 partners" or "May" are not dates;
- numeric dates are day-first (10.11.2025 is 10 November), as everywhere in the Nordics and Germany;
- a date without a time zone is Central European time (Europe/Brussels);
- a date without a time gets :data:`ASSUMED_TIME` (an opening: midnight) and is flagged
  ``time_assumed``;
- the words just before a date say whether it is a deadline or an opening.

Pure functions: text in, dates out.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pipeline.core.call_phrases import NON_CALL_WORDS, phrase_pattern
from pipeline.core.clock import BRUSSELS, UTC
from watcher.records import MAX_YEAR, MIN_YEAR

LANGUAGES = ("en", "da", "de", "sv", "nb")
# EU and Interreg deadlines are most often 17:00 or later Brussels time; assuming 17:00 errs early.
ASSUMED_TIME = time(17, 0)
# a time of day (17:00, 17.00, 5 pm, 17 Uhr), not the day and month of a numeric date (10.11.2025)
_TIME = re.compile(r"(?<![\d.:])\d{1,2}[:.]\d{2}(?!\d|\.\d)|\d{1,2}\s*(?:am|pm|uhr)\b", re.IGNORECASE)
_DEADLINE_WORDS = re.compile(
    r"deadline|closes?|closing|until|due|submi|frist|sidste|senest|bis zum|bis |stichtag|cut-?off|"
    r"(?:antrags|bewerbungs|einsende|einreichungs|abgabe)schluss|"
    r"sista|senast|stenger|lukker|(?<!af)(?<!av)slutt|(?<!\w)(?:apply by|apply before|received by|last day|"
    r"final date)(?!\w)", re.IGNORECASE)
# the end or run of the projects a call funds ("Projektende spätestens 31. Dezember 2029", "Projects
# end 31 December 2029", "Projektperioden løber til …"): taken for a deadline, or the latest plain
# date, the call stayed open years after applications closed
_PROJECT_WORDS = re.compile(
    r"(?<!\w)(?:projects?(?:\s+(?:must|shall|should|will|can|may))?\s+(?:end|run|last|finish|be completed)|"
    r"project (?:end|period|duration)|implementation period|projekte? laufen|projekt(?:ende|slut|laufzeit|"
    r"perioden?)|prosjekt(?:slutt|perioden?)|projektperioden?)", re.IGNORECASE)
_PROJECT_REACH = 25
# "by"/"before" say a deadline only of an application ("Ansøg inden", "Søknader må være mottatt
# innen"): of the project ("afsluttet inden 31. december 2028", "may not start before") the call
# stayed open until the project's end (so is "afsluttet" no "slutt"). Whole words: "Innenministerium",
# "indenfor" hold them.
_BY_WORDS = re.compile(r"(?<!\w)(?:before|inden|innen|innan)(?!\w)", re.IGNORECASE)
_APPLY_WORDS = re.compile(r"ansøg|søk|sök|apply|applica|submi|propos|modtage|mottat|inkomm|indsend|"
                          r"received|send", re.IGNORECASE)
_BY_REACH = 40
# the day an answer is given ("Svar på ansøgningen forventes 15. juni 2027", "Decisions are expected
# on …"): taken as a call's lone date, or the latest of its plain ones, it became the deadline
_RESULT_WORDS = re.compile(
    r"decision|results?\b|notification|notified|outcome|(?<!\w)svar|afgørelse|beslutning|besked|tilsagn|vedtak|"
    r"avgjørelse|beslut|entscheidung|bescheid|zusage", re.IGNORECASE)  # "ansvarlig" holds "svar"
_OPENING_WORDS = re.compile(
    r"open|launch|start|from|åbner|åben|fra |öffnet|ab dem|beginn|öppnar|från|åpner|åpen", re.IGNORECASE)
# a page's or post's own time ("Last updated: 2 December 2026 10:31", "Posted on 12 February 2026",
# "Opdateret 3. marts 2026"): taken as a call's lone date, it became the deadline, moved whenever the
# page was regenerated and closed the call once it was in the past
_STAMP_WORDS = re.compile(
    r"updated|posted|published|modified|last edited|last changed|opdateret|udgivet|publiceret|"
    r"aktualisiert|ver(?:ö|oe)ffentlicht|geändert|uppdaterad|publicerad|oppdatert|publisert",
    re.IGNORECASE)
# an event's day ("Informationsmøde 3. december 2026", "Info day on …") is no deadline either, however
# near the deadline word of the sentence before it (the words of pipeline.core.call_phrases, less
# "how to apply", which introduces a call's own dates)
_EVENT_WORDS = phrase_pattern(tuple(w for w in NON_CALL_WORDS if w != "how to apply"))
# the date a deadline was moved from ("forlænget til 2. februar 2027 (tidligere 15. januar 2027)",
# "postponed from …", "(was …)"): kept, the old date stayed the next deadline, or with "fra"/"from"
# became the opening
_FORMER_WORDS = re.compile(
    r"(?<!\w)(?:previously|formerly|originally|\(\s*was\b|(?:extended|postponed|moved|changed|deferred) from|"
    r"instead of|tidligere|oprindeligt?|opprinnelig|(?:forlænget|forlenget|udskudt|utsatt|rykket|flyttet|"
    r"ændret|endret) fra|i stedet for|tidigare|ursprungligen|(?:förlängd|flyttad|ändrad) från|i stället för|"
    r"zuvor|bisher|ursprünglich|(?:verlängert|verschoben|geändert) vom|statt)(?!\w)",
    re.IGNORECASE)
# ... unless the words say a date was moved: "updated to", or right after a deadline word
_MOVED_TO = re.compile(r"\b(?:to|til|till|auf|zu|på)\b", re.IGNORECASE)
_MOVED_CONTEXT = 20
_CONTEXT_CHARS = 60
# month names and abbreviations in en/da/de/sv/nb (januar, März, mai, maj, okt, desember, …)
_MONTH = r"(?:jan|feb|mar|mär|apr|ma[iyj]|jun|jul|aug|sep|o[ck]t|nov|de[czs])"
# the ordinal dot of "1. desember 2025": dateparser's search (1.5) loses the day after it in Norwegian
# ("desember 2025", a partial date), so the dot, which says nothing about the date, is dropped first
_ORDINAL_DAY = re.compile(r"(?<![\d.])(\d{1,2})\.\s*(?=" + _MONTH + ")", re.IGNORECASE)
# An English ordinal suffix ("15th March 2027", "the 1st of June 2027"): the windows below did not take
# it for a date, so such a deadline was never searched. Written without it, dateparser reads it.
_ORDINAL_SUFFIX = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)(?:\s+of)?\s+(?=" + _MONTH + ")", re.IGNORECASE)
# A range of days in one month ("Ansøgningsfrist: 1.–15. marts 2027", "1–15 March 2027", "March 1–15,
# 2027"): the search read its first day as the date, and the call closed when applications began.
# An application window ends on its last day, so the range is read as that day (as a range of months,
# "1 February – 15 March 2027", is read as its end).
_DAY_RANGE = re.compile(r"(?<![\d.:/])(\d{1,2})\.?\s*[–—-]\s*(?=(\d{1,2})\.?\s*" + _MONTH + ")",
                        re.IGNORECASE)
_MONTH_DAY_RANGE = re.compile(r"(?<!\w)(" + _MONTH + r"[^\W\d_]*\.?\s+)(\d{1,2})\s*[–—-]\s*(\d{1,2})"
                              r"(?=,?\s*\d{4})", re.IGNORECASE)

# Hyphens other than U+002D: the hyphen U+2010, the non-breaking hyphen U+2011 (word processors keep
# "15‑03‑2027" on one line with it) and the figure dash U+2012. No pattern here knew them, so such a
# date was not found; written as "-" it is read like any other.
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-"})
# A day, a month's name and a year joined by hyphens ("15-Mar-2027", "15-marts-2027"): no candidate of
# _FULL_DATE, so never searched; with spaces between, dateparser reads it.
_HYPHENED_DATE = re.compile(r"(?<![\w.-])(\d{1,2})\s*-\s*(" + _MONTH + r"[^\W\d_]*\.?)\s*-\s*(\d{4})"
                            r"(?![\d-])", re.IGNORECASE)


def _unhyphened(text: str) -> str:
    """``text`` with every hyphen written as "-" and a hyphened day-month-year spaced (pure)."""
    return _HYPHENED_DATE.sub(r"\1 \2 \3", text.translate(_HYPHENS))


def _range_end(text: str) -> str:
    """``text`` with each range of days in one month written as its last day (pure)."""
    text = _DAY_RANGE.sub(lambda m: "" if int(m.group(1)) < int(m.group(2)) else m.group(0), text)
    return _MONTH_DAY_RANGE.sub(lambda m: m.group(1) + m.group(3) if int(m.group(2)) < int(m.group(3))
                                else m.group(0), text)


# Where a full date can stand: numeric (10.11.2025, 31/01/2026, 2025-11-30) or a day and a month name
# and a year in either order. dateparser searches only windows around these (the words before and a
# time after included): searched whole, a long page costs it seconds (9 s for 120 kB of prose with
# month-like words and years but no date). The parsing stays dateparser's.
_FULL_DATE = re.compile(
    r"\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}|\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4}"
    r"|\d{1,2}\.?\s*(?:of\s+)?" + _MONTH + r"[^\W\d_]*\.?,?\s*\d{4}"
    r"|" + _MONTH + r"[^\W\d_]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s*\d{4}", re.IGNORECASE)
_WINDOW_BEFORE, _WINDOW_AFTER = 30, 40  # characters around a candidate, widened to whole words
# Characters of windows dateparser searches in one text, the first ones: it takes about half a
# millisecond a character where dates are dense, so a hostile feed item or page of nothing but dates
# (a megabyte in the 20 MB a page may have) held its run for minutes to hours. A call announces its
# dates early; 5,000 characters are the windows of some sixty dates.
MAX_SEARCHED_CHARS = 5_000
# Characters of a text read at all, the first ones: each of the rewrites below reads the whole text, a
# 2 MB call text cost some sixty times a 5 kB one and a 20 MB page ten times that. 200,000 characters
# are a long book chapter; a call's dates come well before.
MAX_READ_CHARS = 200_000
# A time after a written month that dateparser's search takes for the day: "1 juni 2027 kl. 12.00",
# "1 October 2027 12.00" and "1. Dezember 2026, 12 Uhr" come back as the 12th, the real day dropped.
# Written as HH:MM it is read as the time, so these three shapes are rewritten before the search.
# An amount is no time: "2.50 MEUR", "4.50 M€", "12.30 mio. kr." (a scale word, or a currency after a
# scale letter); read as one, the deadline of the 15th was 02:50 that night, the call closed early.
# (white space once between words: "(?:mn|[mk])?\.?\s*" right after "\s*" tried a long run of it split
# in every way, at every time and year a sync read)
_AMOUNT = r"\s*(?:mio|mill|mia|mrd|bn|%|(?:(?:mn|[mk])\.?\s*|\.\s*)?(?:kr\b|€|eur|dkk|sek|nok))"
_NO_AMOUNT = r"(?!" + _AMOUNT + ")"
# dateparser itself reads "15. marts 2027 12.30 mio. kr." as 12:30: such an amount is set apart, as
# a sentence of its own
_AMOUNT_AFTER_YEAR = re.compile(r"(?<=\d{4})[\s,(–—-]+(?=\d{1,3}(?:[.,]\d{1,3})*" + _AMOUNT + ")",
                                re.IGNORECASE)
# (one "\s*" after the clock word, not one on each side of an optional one: a long run of white space
# after a year was tried split in every way, quadratic in its length)
_DOT_TIME = re.compile(r"(?<=\d{4})(,?\s*(?:(?:kl\.?|klokken|klockan|um|at|-)\s*)?)(\d{1,2})\.(\d{2})"
                       r"(?!\d|\.\d)" + _NO_AMOUNT, re.IGNORECASE)
_HOUR_ONLY = re.compile(r"\b(kl\.?|klokken|klockan)(\s*)(\d{1,2})(?![\d.:])", re.IGNORECASE)
_UHR = re.compile(r"(?<![\d.:])(\d{1,2})(\s*)(uhr)\b", re.IGNORECASE)
# the Nordic clock word before a time: dateparser's search knows Danish "kl." but, once it takes a text
# for Swedish or Norwegian, neither "kl." nor "klockan"/"klokken", and reads "15 mars 2027 kl. 16:00"
# as the day alone (so 17:00 assumed: later than the real deadline). "15 mars 2027 16:00" it reads in
# every language, so the word goes once the time is written as HH:MM.
_CLOCK_WORD = re.compile(r"\b(?:kl\.?|klokken|klockan)\s*(?=\d{1,2}:\d{2}(?!\d))", re.IGNORECASE)
# A time given in two zones ("12:00 CET/CEST", "12:00 CET / 11:00 GMT", "12:00 CET (11:00 UTC)"):
# dateparser reads no time in it, and the deadline was its day at 17:00 assumed, five hours late. The
# first is the time; "CET/CEST" names Brussels time whatever the season, so it goes (Brussels is the
# zone of a time without one).
_CET_CEST = re.compile(r"(?<=\d:\d\d)\s*\(?(?:CET\s*/\s*CEST|CEST\s*/\s*CET)\)?(?![A-Za-z])")
_SECOND_ZONE = re.compile(r"(?<=\d:\d\d)(\s*[A-Z]{2,5}(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?)"
                          r"(?:\s*/\s*[A-Z]{2,5}(?![A-Za-z])|\s*[/(]\s*\d{1,2}[:.]\d{2}(?![\d.])\s*(?:[A-Z]{2,5}"
                          r"(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?)?\s*\)?)")
# ... and a zone before a slash and the next stage's date ("12:00 CET / 15 May 2027 17:00 CET") is
# the end of the first date: read as one, neither time was
_ZONE_THEN_DATE = re.compile(r"(?<=\d:\d\d)(\s*[A-Z]{2,5})\s*/\s*(?=\d)")
# the dot of an abbreviated month before its year ("1. dec. 2026", "15. jan. 2027 kl. 12"): dateparser's
# search finds no date at all with it
_MONTH_DOT = re.compile(r"\b(" + _MONTH + r"[^\W\d_]{0,2})\.(?=\s*\d{4})", re.IGNORECASE)
# 24:00, the end of a day ("kl. 24.00", "24 Uhr" once written as HH:MM): dateparser finds no time in it
# and the deadline was read as its day alone, 17:00 assumed. It is searched as the day's last second and
# that second added back, so it ends as midnight after the day (the UTC hour right across a DST night).
_END_OF_DAY = re.compile(r"(?<![\d.:])24:00(?![\d]|:\d)")
_LAST_SECOND = "23:59:59"
# A time written after a date's year in a way dateparser's search does not read as its time: behind a
# dash or a parenthesis ("15 January 2027 – 12:00", "15. januar 2027 (kl. 12.00)"), as noon ("at 12:00
# noon CET", "12 noon"), with a dotted "p.m." (read as 2:00 at night) or as "14h00". The date was read
# as its day alone and 17:00 assumed: five hours after a noon deadline. Rewritten as "2027 12:00".
# The white space between separators is each the one "\s*" before it: with one on either side of a
# separator, a row of them ("2027 , , , , …", "2027 – – – …", a table's empty cells) could be split
# between the two in 2^n ways, each tried once no time followed, and a sync hung on one such text.
_TIME_AFTER_YEAR = re.compile(
    r"(?<=\d{4})(?:\s*(?:(?:[,(@–—-]|(?:at|by|until|before|kl\.?|klokken|klockan|um)(?!\w))\s*)+|\s+|)"
    r"(?:(?P<h>\d{1,2})(?:[:.](?P<m>\d{2})|h(?P<hm>\d{2}))(?!\d|\.\d)"
    + _NO_AMOUNT + r"(?:\s*(?:hrs?|h|uhr)(?!\w))?"
    r"(?:\s*(?P<half>[ap])\.?\s?m\.?(?!\w))?(?:\s*\(?(?:noon|midday)\)?(?!\w))?"
    r"|(?P<hour>\d{1,2})\s*(?P<half2>[ap])\.?\s?m\.?(?!\w)|(?:12\s*)?(?P<noon>noon|midday)(?!\w))",
    re.IGNORECASE)


def _time_after_year(match: re.Match[str]) -> str:
    hour = match.group("h") or match.group("hour")
    minute = int(match.group("m") or match.group("hm") or 0)
    half = (match.group("half") or match.group("half2") or "").lower()
    value = 12 if match.group("noon") else int(hour)
    if half:
        if not 1 <= value <= 12:
            return match.group(0)
        value = value % 12 + (12 if half == "p" else 0)
    if value > 24 or minute > 59 or (value == 24 and minute):
        return match.group(0)
    return f" {value:02d}:{minute:02d}"
# what the search still matched without its day: a month name first, right after a day number
_MONTH_FIRST = re.compile(_MONTH, re.IGNORECASE)
_DAY_BEFORE = re.compile(r"\d{1,2}\.?\s*$")
# a day, its month's name and its year, and the time right after it
_WHOLE_DATE = re.compile(r"\d{1,2}\.?\s*(?:of\s+)?" + _MONTH + r"[^\W\d_]*\.?,?\s*\d{4}(?:\s+\d{1,2}:\d{2})?",
                         re.IGNORECASE)


@dataclass(frozen=True)
class FoundDate:
    text: str  # the words dateparser matched
    at: datetime  # aware UTC
    # deadline | opening | stamp (the page's own time) | event (an info day's) | result (the answer's
    # day) | former (a deadline's before it moved) | project (the funded projects' end) | period_end
    # (the end of a period an opening begins: "from … to …") | date
    kind: str
    time_assumed: bool


def _settings() -> dict[str, object]:
    return {"PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY", "TIMEZONE": "Europe/Brussels",
            "RETURN_AS_TIMEZONE_AWARE": True, "REQUIRE_PARTS": ["day", "month", "year"]}


def names_call_date(text: str) -> bool:
    """``text`` has a word that introduces a deadline or an opening ("Updated deadline: …")."""
    return any(p.search(text) is not None for p in (_DEADLINE_WORDS, _BY_WORDS, _OPENING_WORDS))


def _kind(before: str) -> str:
    """Deadline, opening, the page's own time stamp, an event's or answer's day or a moved deadline's
    former date from the words just before the date (the nearest keyword wins)."""
    best, nearest = "date", None
    for kind, pattern in (("deadline", _DEADLINE_WORDS), ("opening", _OPENING_WORDS),
                          ("stamp", _STAMP_WORDS), ("event", _EVENT_WORDS), ("result", _RESULT_WORDS),
                          ("project", _PROJECT_WORDS)):
        for match in pattern.finditer(before):
            if nearest is None or match.start() > nearest.start():
                best, nearest = kind, match
    for match in _BY_WORDS.finditer(before):
        if (nearest is None or match.start() > nearest.start()) \
                and _APPLY_WORDS.search(before[max(0, match.start() - _BY_REACH):match.start()]):
            best, nearest = "deadline", match
    for former in _FORMER_WORDS.finditer(before):  # "extended from" holds the opening word "from"
        if nearest is None or former.end() > nearest.start():
            best, nearest = "former", former
    if best == "deadline" and nearest is not None and _UNTIL_WORDS.fullmatch(nearest.group(0).strip()):
        # "Projects run until …", "Die Projekte laufen bis …": the projects' end; "Eine Entscheidung
        # fällt bis …", "Der gives svar senest …": the day of the answer, not a second deadline. A
        # deadline noun stays one ("Decision support tools – deadline …", "Svarfrist: …").
        for kind, pattern in (("project", _PROJECT_WORDS), ("result", _RESULT_WORDS)):
            if _in_clause_before(pattern, before, nearest.start()):
                return kind
    if best == "opening" and nearest is not None and _PERIOD_END.search(before[nearest.end():]) \
            and not _in_clause_before(_PROJECT_WORDS, before, nearest.start()):
        return "period_end"  # "open from 1 February 2027 to 15 March 2027": see call_dates
    if best == "former" and nearest is not None and _moved_on(before[nearest.end():]):
        return "deadline"  # "forlænget fra 15. januar til 2. februar 2027": the date it moved to
    if best == "stamp" and nearest is not None and (
            _MOVED_TO.search(before[nearest.end():]) or _names_stamp(before, nearest.start())):
        # "the deadline has been updated to …", "Ansøgningsfristen er opdateret til …": a date moved
        blanked = before[:nearest.start()] + " " * (nearest.end() - nearest.start()) + before[nearest.end():]
        return _kind(blanked)
    return best


# the words that say when, not what, ends: after a word of results or projects they are the answer's
# day or the projects' end
_UNTIL_WORDS = re.compile(r"until|bis(?: zum)?|senest|senast|before|inden|innen|innan", re.IGNORECASE)
_CLAUSE_BREAK = frozenset(".;:!?,()–—")


def _in_clause_before(pattern: re.Pattern[str], before: str, at: int) -> bool:
    """A match of ``pattern`` ends shortly before ``at`` in ``before``, in the same clause (no number
    or punctuation between)."""
    return any(0 <= at - match.end() <= _PROJECT_REACH
               and not any(ch.isdigit() or ch in _CLAUSE_BREAK for ch in before[match.end():at])
               for match in pattern.finditer(before))


# the words between an opening's date and the next date that make the next the end of the period it
# opens ("from 1 February 2027 to", "fra 1. februar 2027 til", "1 February 2027 –"): read as a second
# opening, the call had no deadline and never closed
_PERIOD_END = re.compile(r"\d{4}(?:\s+\d{1,2}:\d{2})?\s*(?:CES?T\s*)?(?:,\s*)?"
                         r"(?:to|til|till|until|through|[–—-])\s*(?:the\s+|den\s+)?\Z", re.IGNORECASE)


def _moved_on(after: str) -> bool:
    """The words after a former date's phrase go on to the date it moved to ("from 15 January 2027
    to", "fra 15. januar til", "vom … auf den")."""
    digits = [i for i, ch in enumerate(after) if ch.isdigit()]
    return bool(digits) and _MOVED_TO.search(after[digits[-1]:]) is not None


def _names_stamp(before: str, at: int) -> bool:
    """A deadline word right before the time stamp word at ``at`` ("Deadline updated: …"), no date
    between them: in "Frist 01.03.2027 · Opdateret 02.12.2026" the word is the first date's, and
    the page's own time became a second deadline."""
    near = before[max(0, at - _MOVED_CONTEXT):at]
    words = list(_DEADLINE_WORDS.finditer(near))
    return bool(words) and not any(ch.isdigit() for ch in near[words[-1].end():])


def find_dates(text: str, languages: tuple[str, ...] = LANGUAGES) -> list[FoundDate]:
    """Every full date in ``text``, in the order they appear."""
    from dateparser.search import search_dates

    # dateparser needs seconds on long runs of numbers ("2025 2025 …" in a hostile feed item): it only
    # sees the windows around what can be a full date, so a text without one costs a regex scan
    if not text:
        return []
    if len(text) > MAX_READ_CHARS:  # cut at a space, not inside a date
        cut = text.rfind(" ", 0, MAX_READ_CHARS)
        text = text[:cut if cut > 0 else MAX_READ_CHARS]
    text = _range_end(_ORDINAL_SUFFIX.sub(r"\1 ", _unhyphened(text)))
    text = _AMOUNT_AFTER_YEAR.sub(". ", _MONTH_DOT.sub(r"\1", _ORDINAL_DAY.sub(r"\1 ", text)))
    text = _UHR.sub(r"\1:00\2\3", _HOUR_ONLY.sub(r"\1\2\3:00", _DOT_TIME.sub(r"\1\2:\3", text)))
    text = _CLOCK_WORD.sub("", _TIME_AFTER_YEAR.sub(_time_after_year, text))
    text = _ZONE_THEN_DATE.sub(r"\1; ", _SECOND_ZONE.sub(r"\1", _CET_CEST.sub("", text)))
    text, ends_of_day = _END_OF_DAY.subn(_LAST_SECOND, text)
    found: list[tuple[str, datetime, int]] = []
    budget = MAX_SEARCHED_CHARS
    for start, end in _windows(text):
        if budget <= 0:
            break
        if end - start > budget:  # cut at the last space within the budget, not inside a date
            cut = text.rfind(" ", start, start + budget)
            end = cut if cut > start else start + budget
        budget -= end - start
        window = text[start:end]
        dates = _search(search_dates, window, languages)
        candidates = list(_FULL_DATE.finditer(window))
        if len(dates) < len(candidates):
            # given two dates close together ("Sista dag 4 mars 2027. Beslut 15 juni 2027.") the search
            # may find one only, and given "apply before 15 March 2027" none: each date is searched in
            # its own part of the window, from the date on (the words before it say its kind)
            cuts = [*(c.start() for c in candidates), len(window)]
            dates = [found for a, b in itertools.pairwise(cuts)
                     for found in _search(search_dates, window[a:b], languages)]
        cursor = 0
        for matched, value in dates:
            local = window.find(matched, cursor)
            cursor = max(cursor, local + len(matched)) if local >= 0 else cursor
            day = _DAY_BEFORE.search(window[:local]) if local > 0 and _MONTH_FIRST.match(matched) else None
            if day is not None:  # the day before the month was lost, so the day read is another number
                whole = _WHOLE_DATE.match(window, day.start())
                # "1. marts 2027, 25 mio. kr.": the number after the year was read as the day; the
                # date searched without it is the date written
                again = _search(search_dates, whole.group(0), languages) if whole else []
                if not again or not again[0][0].strip()[:1].isdigit():
                    continue
                (matched, value), local = again[0], day.start()
            found.append((matched, value, start + local if local >= 0 else -1))
    out: list[FoundDate] = []
    for matched, value, position in found:
        if not re.search(r"\d{4}", matched):  # a year must be written out
            continue
        before = text[max(0, position - _CONTEXT_CHARS):position] if position >= 0 else ""
        # the matched words may begin with the keyword ("until 5 May 2026"): count them too
        # (joined as written, so "postponed" and the matched "from" stay one phrase)
        before += ("" if position >= 0 else " ") + matched[:matched.find(next((ch for ch in matched
                                                                               if ch.isdigit()), ""))]
        has_time = bool(_TIME.search(matched))
        if value.tzinfo is None:
            value = value.replace(tzinfo=BRUSSELS)
        kind = _kind(before)
        if not has_time:  # an opening without a time opens at the start of the day
            value = datetime.combine(value.date(), time(0, 0) if kind == "opening" else ASSUMED_TIME,
                                     tzinfo=BRUSSELS)
        try:
            at = value.astimezone(UTC)
            if ends_of_day and has_time and _LAST_SECOND in matched and value.second == 59:
                at += timedelta(seconds=1)
        except OverflowError:  # outside the years a datetime holds once in UTC
            continue
        if not MIN_YEAR <= at.year <= MAX_YEAR:  # history in the prose ("since 1975"), no call's date:
            continue                             # taken as one, it made the whole record malformed
        if ends_of_day:
            matched = matched.replace(_LAST_SECOND, "24:00")
        out.append(FoundDate(text=matched.strip(), at=at, kind=kind, time_assumed=not has_time))
    return out


def _search(search_dates: Any, window: str, languages: tuple[str, ...]) -> list[tuple[str, datetime]]:
    try:
        return search_dates(window, languages=list(languages), settings=_settings()) or []
    except OverflowError:  # a date near year 1 or 9999 shifted across a time zone (dateparser#685,
        return []          # #1194): this window's dates are unknown rather than a crash


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` around every :data:`_FULL_DATE` candidate, widened to whole words and merged
    where they touch, in order."""
    spans: list[tuple[int, int]] = []
    for match in _FULL_DATE.finditer(text):
        start = max(0, match.start() - _WINDOW_BEFORE)
        end = min(len(text), match.end() + _WINDOW_AFTER)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


@dataclass(frozen=True)
class CallDates:
    opening: datetime | None
    deadlines: list[FoundDate]


def call_dates(text: str, languages: tuple[str, ...] = LANGUAGES) -> CallDates:
    """The opening and the deadlines a text announces.

    Dates introduced as deadlines are the deadlines; if none is, the latest date introduced neither as
    an opening nor as the page's own time stamp ("updated", "posted") is taken as the deadline (a call
    announcement's lone date is its deadline).
    """
    found = find_dates(text, languages)
    openings = [d for d in found if d.kind == "opening"]
    deadlines = [d for d in found if d.kind == "deadline"]
    # the end of a period "from … to …" is a deadline when the period is the call's: opened before any
    # deadline named ("open from 1 February to 15 March 2027"), not after it ("Deadline 15 March 2027.
    # Projects run from 1 September 2027 to 31 August 2029": read so, the call stayed open two years)
    first_named = min((d.at for d in deadlines), default=None)
    for before, item in itertools.pairwise(found):
        if item.kind == "period_end" and before.kind == "opening" and (
                first_named is None or before.at < first_named):
            deadlines.append(item)
    plain = [d for d in found if d.kind == "date"]
    if not deadlines and plain:
        deadlines = [max(plain, key=lambda d: d.at)]
    unique: dict[datetime, FoundDate] = {}
    for item in sorted(deadlines, key=lambda d: d.at):
        unique.setdefault(item.at, item)
    # a call opens before its first deadline: a date "from" which projects may start, after it, is
    # no opening (read as one, a call open now was forthcoming until after it closed)
    first_deadline = min(unique, default=None)
    opening = min((d.at for d in openings if first_deadline is None or d.at < first_deadline), default=None)
    return CallDates(opening=opening, deadlines=list(unique.values()))
