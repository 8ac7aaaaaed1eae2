"""The normalised call record every source produces (pure data; no I/O).

A source parses what it fetched into :class:`CallRecord` objects; :mod:`watcher.store` writes them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

# Status values a source may give. "removed" and "closed" are also set by the store when a call
# disappears from a complete run.
STATUSES = ("announced", "forthcoming", "open", "closed", "removed", "withdrawn")


@dataclass(frozen=True)
class Deadline:
    at: datetime  # timezone-aware
    time_assumed: bool = False  # True when the source gave only a date and we assumed the cut-off time

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "time_assumed": self.time_assumed}


@dataclass(frozen=True)
class CallRecord:
    external_id: str  # stable id within the source (SEDIA reference, URL without tracking, iCal UID)
    title: str
    text: str = ""
    url: str | None = None
    status: str = "open"
    programme: str | None = None
    call_id: str | None = None
    topic_id: str | None = None
    opening_date: datetime | None = None
    deadlines: tuple[Deadline, ...] = ()
    budget: float | None = None
    expected_grants: int | None = None
    min_contribution: float | None = None
    max_contribution: float | None = None
    type_of_action: str | None = None
    funding_rate: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        for value in [self.opening_date, *(d.at for d in self.deadlines)]:
            if value is not None and value.tzinfo is None:
                raise ValueError(f"naive datetime in call {self.external_id!r}")

    @property
    def deadline(self) -> datetime | None:
        return self.deadlines[0].at if self.deadlines else None

    def tracked(self) -> dict[str, Any]:
        """The fields whose change is recorded, as JSON-ready values (a fresh dict; ``extra`` copied)."""
        data = self._json_ready()
        data["extra"] = copy.deepcopy(self.extra) if self.extra else {}
        return data

    def _json_ready(self) -> dict[str, Any]:
        """:meth:`tracked` sharing ``extra`` with the record: for reading only."""
        data = {name: getattr(self, name) for name in _RECORD_FIELD_NAMES}
        data["extra"] = self.extra or {}
        data["deadlines"] = [d.to_json() for d in self.deadlines]
        data["opening_date"] = self.opening_date.isoformat() if self.opening_date else None
        return data

    def content_hash(self) -> str:
        """SHA-256 of the tracked fields' canonical JSON; computed once per record (it is immutable)."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            canonical = json.dumps(self._json_ready(), sort_keys=True, ensure_ascii=False, default=str)
            cached = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            self.__dict__["_content_hash"] = cached  # not a field: equality and replace() ignore it
        return cached


_RECORD_FIELD_NAMES = tuple(f.name for f in fields(CallRecord))  # in order; fields() rebuilds it per call


@dataclass(frozen=True)
class PageState:
    """A watched page's main text and its hash as one fetch read it; the store keeps it (``watched_page``)
    in the run's write transaction, so the fetch itself writes nothing."""

    url: str
    content_hash: str
    text: str = ""


# --- what a record may hold ------------------------------------------------------------------------
# A value outside these bounds is not a call's data but a broken or hostile answer, and it would fail
# later (an integer column overflows, PostgreSQL refuses a NUL byte, a date shifted by a time zone or
# a reminder leaves datetime's range). Such a record is skipped with its reason, never stored.
MAX_ID_CHARS = 1_000  # external_id, call and topic ids: real ones are under 100
# ... and as many bytes in UTF-8: PostgreSQL's btree indexes on them (uq_call_source_external,
# ix_call_topic_id) refuse an entry over 2,704 bytes, which failed the whole run there, not on SQLite
MAX_ID_BYTES = 1_000
MAX_LINE_CHARS = 20_000  # title, url, programme, type of action
MAX_TEXT_CHARS = 5_000_000  # a call's description
MAX_INTEGER = 2**31 - 1  # an INTEGER column on every backend
MAX_AMOUNT = 1e15  # euros; no call is worth a quadrillion
# A call's dates. No source lists a call from before 1980, and 1 January 1970 (31 December 1969 west of
# Greenwich) is how an unset date is written as Unix time 0: read as a date, it made an open call's
# deadline passed, and the call closed. The top leaves room for time-zone shifts and reminders.
MIN_YEAR, MAX_YEAR = 1980, 2999

_ID_FIELDS = ("external_id", "call_id", "topic_id")
_LINE_FIELDS = ("title", "url", "programme", "type_of_action")
_AMOUNT_FIELDS = ("budget", "min_contribution", "max_contribution")


def _nul_in(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 50:
        return False
    if isinstance(value, dict):
        items: Any = (*value, *value.values())
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return False
    for item in items:  # strings here, without a call each: a record's details are mostly strings
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, (dict, list, tuple)) and _nul_in(item, depth + 1):
            return True
    return False


_UNCHECKED = object()


def record_problem(record: CallRecord) -> str | None:
    """Why ``record`` cannot be stored (one short phrase), or None when every value is in range;
    checked once per record (it is immutable): the parser checks each record and the runner each
    source's records again."""
    found = record.__dict__.get("_problem", _UNCHECKED)
    if found is _UNCHECKED:
        found = record.__dict__["_problem"] = _problem(record)  # not a field, like _content_hash
    return found if isinstance(found, str) else None


def _problem(record: CallRecord) -> str | None:
    for name in (*_ID_FIELDS, *_LINE_FIELDS, "text"):
        value = getattr(record, name)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{name} is {type(value).__name__}, not text"
        limit = MAX_ID_CHARS if name in _ID_FIELDS else MAX_TEXT_CHARS if name == "text" else MAX_LINE_CHARS
        if len(value) > limit:
            return f"{name} has {len(value):,} characters, more than {limit:,}"
        size = len(value.encode("utf-8", "surrogatepass")) if name in _ID_FIELDS else 0
        if size > MAX_ID_BYTES:
            return f"{name} has {size:,} bytes, more than {MAX_ID_BYTES:,}"
        if "\x00" in value:
            return f"{name} contains a NUL byte"
    if not record.external_id.strip():
        return "external_id is empty"
    if _nul_in(record.extra):
        return "a detail field contains a NUL byte"
    grants = record.expected_grants
    if grants is not None and (isinstance(grants, bool) or not isinstance(grants, int)
                               or not 0 <= grants <= MAX_INTEGER):
        return f"expectedGrants {str(grants)[:40]} is not a count between 0 and {MAX_INTEGER:,}"
    for name in _AMOUNT_FIELDS:
        amount = getattr(record, name)
        if amount is not None and not (isinstance(amount, (int, float)) and math.isfinite(amount)
                                       and -MAX_AMOUNT <= amount <= MAX_AMOUNT):
            return f"{name} {str(amount)[:40]} is not an amount up to {MAX_AMOUNT:.0e} euros"
    rate = record.funding_rate
    if rate is not None and not (isinstance(rate, (int, float)) and math.isfinite(rate) and 0 <= rate <= 1):
        return f"funding rate {str(rate)[:40]} is not a share"
    moments = [("opening date", record.opening_date), *(("deadline", d.at) for d in record.deadlines)]
    for label, moment in moments:
        if moment is not None and not MIN_YEAR <= moment.year <= MAX_YEAR:
            return f"{label} {moment.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}"
    return None


def split_valid(records: list[CallRecord]) -> tuple[list[CallRecord], list[str]]:
    """(records that can be stored, one "reference: reason" per record that cannot)."""
    kept, bad = [], []
    for record in records:
        problem = record_problem(record)
        if problem is None:
            kept.append(record)
        else:
            bad.append(f"{str(record.external_id)[:80]}: {problem}")
    return kept, bad
