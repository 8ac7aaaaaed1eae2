"""The normalised call record every source produces (pure data; no I/O).

A source parses what it fetched into :class:`CallRecord` objects; :mod:`watcher.store` writes them.
"""

from __future__ import annotations

import copy
import hashlib
import json
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
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["extra"] = copy.deepcopy(self.extra) if self.extra else {}
        data["deadlines"] = [d.to_json() for d in self.deadlines]
        data["opening_date"] = self.opening_date.isoformat() if self.opening_date else None
        return data

    def content_hash(self) -> str:
        """SHA-256 of the tracked fields' canonical JSON; computed once per record (it is immutable)."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            canonical = json.dumps(self.tracked(), sort_keys=True, ensure_ascii=False, default=str)
            cached = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            self.__dict__["_content_hash"] = cached  # not a field: equality and replace() ignore it
        return cached


@dataclass(frozen=True)
class PageState:
    """A watched page's main text and its hash as one fetch read it; the store keeps it (``watched_page``)
    in the run's write transaction, so the fetch itself writes nothing."""

    url: str
    content_hash: str
    text: str = ""
