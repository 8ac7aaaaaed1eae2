"""The words that make a feed item or a watched page a call announcement, by language (pure data).

Danish clusters read funders writing in Danish, Swedish, Norwegian, German and English, so the default
phrases cover all five. A phrase matches at the start of a word, case-insensitively, so "ansøg"
matches "ansøgningsfrist" and "Ansøg nu", and "call for proposals" does not match inside another
word. A source's ``call_phrases`` in the strategy config replaces the whole list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CALL_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("call for proposals", "call for applications", "call for project", "open for applications",
           "call opens", "call is open", "deadline", "application round", "apply now"),
    "da": ("indkaldelse", "opslag", "ansøgningsfrist", "ansøgningsrunde", "åbner for ansøgninger",
           "ansøg", "søg støtte", "søg tilskud", "puljen åbner"),
    "sv": ("utlysning", "ansökningsomgång", "sista ansökningsdag", "öppen för ansökningar", "ansök",
           "sök stöd", "sök medel"),
    "no": ("utlysning", "søknadsfrist", "søknadsrunde", "åpen for søknader", "søk støtte", "søk midler",
           "lyser ut"),
    "de": ("ausschreibung", "aufruf", "förderaufruf", "projektaufruf", "antragsfrist",
           "einreichungsfrist", "bewerbungsfrist", "antragstellung"),
}

DEFAULT_CALL_PHRASES: list[str] = list(dict.fromkeys(p for phrases in CALL_PHRASES.values() for p in phrases))

# a watched page names its programme in a menu or a news list too; there a mention counts as a call only
# together with one of these (or a full date), the call phrases plus the bare words of applying
PAGE_CALL_WORDS: list[str] = list(dict.fromkeys([
    *DEFAULT_CALL_PHRASES, "call", "calls", "apply", "application", "frist", "søknad", "antrag"]))

# summary or category words of calendar events that are not calls (en, da, sv, no, de)
NON_CALL_WORDS: tuple[str, ...] = (
    "webinar", "info day", "infoday", "information day", "information session", "info session",
    "information meeting", "consultation", "matchmaking", "match-making", "partner search event",
    "brokerage", "networking", "workshop", "seminar", "conference", "how to apply",
    "informationsmøde", "infomøde", "informationsdag", "høring", "ansøgerseminar", "netværksmøde",
    "informationsmöte", "informationsträff", "samråd", "remiss", "ansökningsseminarium",
    "informasjonsmøte", "søkerseminar", "infotag", "informationsveranstaltung",
    "konsultation", "vernetzungstreffen",
)


@lru_cache(maxsize=64)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for ``phrases``, each matching at the start of a word; inner spaces match
    any run of whitespace."""
    parts = sorted({r"\s+".join(map(re.escape, p.split())) for p in phrases if p.strip()}, key=len,
                   reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")" if parts else r"(?!x)x", re.IGNORECASE)


def first_phrase(text: str, phrases: list[str] | tuple[str, ...]) -> str | None:
    """The first of ``phrases`` found in ``text`` (as written there), or None."""
    found = phrase_pattern(tuple(phrases)).search(unicodedata.normalize("NFC", text or ""))
    return found.group(0) if found else None
