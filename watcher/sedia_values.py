"""Reading the values of SEDIA search results (pure): metadata lists, JSON inside strings, keywords,
moments and deadlines, with lone UTF-16 surrogates (which JSON allows but UTF-8 and the database do
not) replaced. :mod:`watcher.sedia` builds call records from them."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from pipeline.core.clock import BRUSSELS, UTC
from pipeline.core.text import one_line
from watcher.records import Deadline

ASSUMED_CUTOFF = time(17, 0)  # the portal's usual cut-off, Brussels time

# a surrogate escaped in JSON ("\ud800"), encoded in the bytes (json.loads reads bytes with
# "surrogatepass"), or already in the text
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_CHAR = re.compile(r"[\ud800-\udfff]")
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")


def _has_surrogate(raw: str | bytes) -> bool:
    """``raw`` may decode to a surrogate. Each pattern is searched only where its first characters
    occur: a regex scan of every page and JSON field was a tenth of a sync."""
    if isinstance(raw, bytes):
        return (b"\\u" in raw and _ESCAPED_SURROGATE_BYTES.search(raw) is not None) or \
            (b"\xed" in raw and _SURROGATE_UTF8.search(raw) is not None)
    return ("\\u" in raw and _ESCAPED_SURROGATE.search(raw) is not None) or \
        (not raw.isascii() and _SURROGATE_CHAR.search(raw) is not None)


def no_lone_surrogates(value: Any, raw: str | bytes) -> Any:
    """``value`` (decoded from ``raw``) with lone UTF-16 surrogates, which JSON allows but UTF-8 and
    the database cannot store, replaced by U+FFFD; pairs stay the characters they encode."""
    if not _has_surrogate(raw):
        return value

    def clean(text: str) -> str:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    if isinstance(value, str):
        return clean(value)
    stack = [value]
    while stack:  # iterative: the document may be nested as deep as the JSON decoder allows
        node = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
            if isinstance(node, list) else []
        for key, item in pairs:
            if isinstance(item, str):
                node[key] = clean(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
    return value


def loads(text: str | bytes) -> Any:
    """JSON text or bytes decoded, lone surrogates replaced (:func:`no_lone_surrogates`)."""
    return no_lone_surrogates(json.loads(text), text)


def text_of(value: Any) -> str | None:
    """A value as text: a list by its first item (however deeply wrapped), a string or number as
    written; None for nothing, an object or a boolean. Printed whole, a list or object wrapped once
    more than the real shape was stored as its repr: the URL "['https://…']", the title "['…']"."""
    for _ in range(20):
        if not isinstance(value, list):
            break
        value = value[0] if value else None
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def unreadable_type(value: Any) -> str | None:
    """"an object" or "a boolean" when ``value`` (or an item of its list, however deeply wrapped)
    holds no text but is given all the same; None for text, numbers, nothing or an empty list. Read
    as none, such a value took the stored call's description, opening date or deadline with it."""
    for item in value if isinstance(value, list) else [value]:
        for _ in range(20):
            if not isinstance(item, list):
                break
            item = item[0] if item else None
        if isinstance(item, dict):
            return "an object"
        if isinstance(item, bool):
            return "a boolean"
    return None


def first(meta: Mapping[str, Any], key: str) -> str | None:
    """The first value of a metadata list (SEDIA wraps every value in a list of strings)."""
    return text_of(meta.get(key))


def values(meta: Mapping[str, Any], key: str) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    found = (text_of(v) if isinstance(v, (list, dict)) else v for v in items)
    return [str(v) for v in found if v is not None and str(v).strip()]


def json_field(meta: Mapping[str, Any], key: str) -> Any:
    """JSON held in a string in a list (``actions``, ``budgetOverview``); None when absent or invalid."""
    text = first(meta, key)
    if text is None:
        return None
    try:
        return loads(text)
    except (ValueError, RecursionError):
        return None


def keywords_of(meta: Mapping[str, Any]) -> list[str]:
    """Keywords, whether a normal list or one string holding a JSON list; de-duplicated, in order."""
    raw = values(meta, "keywords")
    if len(raw) == 1 and raw[0].lstrip().startswith("["):
        try:
            decoded = loads(raw[0])
            raw = [str(v) for v in decoded] if isinstance(decoded, list) else raw
        except (ValueError, RecursionError):
            pass
    out: list[str] = []
    seen: set[str] = set()
    for word in raw:
        word = one_line(word)
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    return out


# Results repeat the same few dates (a call's topics share its deadlines and opening), so each
# distinct text is parsed once; the values are immutable.
_MOMENTS_CACHED = 16_384


def parse_moment(text: str | None) -> datetime | None:
    """``2027-04-08T00:00:00.000+0000`` (or ``…Z``, or a date) as an aware UTC datetime."""
    if not text:
        return None
    return _moment(text)


_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


@functools.lru_cache(maxsize=_MOMENTS_CACHED)
def _moment(text: str) -> datetime | None:
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), UTC)
        value = datetime.fromisoformat(_OFFSET.sub(r"\1:\2", text.replace("Z", "+00:00")))
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or outside datetime's range once shifted to UTC
        return None


def deadline_of(moment: datetime) -> Deadline:
    """Midnight UTC means the portal gave a date only: 17:00 Brussels that day, marked assumed."""
    if moment.tzinfo is UTC:  # as parse_moment gives them: one Deadline per distinct moment
        return _utc_deadline(moment)
    return _deadline(moment)


def _deadline(moment: datetime) -> Deadline:
    if moment.astimezone(UTC).time() == time(0):
        local = datetime.combine(moment.date(), ASSUMED_CUTOFF, BRUSSELS)
        return Deadline(local.astimezone(UTC), time_assumed=True)
    return Deadline(moment.astimezone(UTC), time_assumed=False)


# keyed by UTC datetimes only: equal ones are the same instant written the same way
_utc_deadline = functools.lru_cache(maxsize=_MOMENTS_CACHED)(_deadline)
