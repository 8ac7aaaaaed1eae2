"""Fundraisers' marks (relevant / irrelevant) and how they improve later rankings.

A mark is stored in the Mark table. When the marks of a strategy change, the next ``fundradar score``
rebuilds every focus-area query with Rocchio's formula (:func:`classifiers.matcher.rocchio`): the
TF-IDF vectors of calls marked relevant pull the query towards their vocabulary (beta 0.75), those
marked irrelevant push it away (gamma 0.15). So marking one offshore-wind call relevant lifts the
calls that share its wording ("floating foundations", "array cables") even when they use none of the
strategy's keywords. ``fundradar eval --feedback N`` measures the gain on the benchmark.

A mark names a focus area; a mark without one applies to every focus area of the strategy. The last
mark of a call for an area wins (a call can be re-marked).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from pipeline.core.errors import ValidationError
from pipeline.core.sql import Database, database, utc

if TYPE_CHECKING:
    from sqlmodel import Session

    from pipeline.core.models import Mark

LABELS = ("relevant", "irrelevant")


@dataclass
class AreaMarks:
    relevant: set[int] = field(default_factory=set)
    irrelevant: set[int] = field(default_factory=set)


class MarkRow(NamedTuple):
    """A stored mark, as :func:`load_marks` reads it (the columns of :class:`Mark`)."""

    id: int
    call_id: int
    strategy: str
    focus_area: str | None
    label: str
    marked_by: str | None
    marked_at: datetime


def record_mark(session: Session, call_id: int, strategy: str, label: str, focus_area: str | None,
                now: datetime, marked_by: str | None = None) -> Mark:
    from pipeline.core.models import Mark

    if label not in LABELS:
        raise ValidationError(f"unknown mark {label!r}; use relevant or irrelevant")
    mark = Mark(call_id=call_id, strategy=strategy, focus_area=focus_area, label=label,
                marked_by=marked_by, marked_at=now)
    session.add(mark)
    session.flush()
    return mark


def load_marks(source: Database | Session, strategy: str) -> list[MarkRow]:
    """The strategy's marks in marking order (a read connection or a session, whose pending marks
    count)."""
    rows = database(source).rows(
        "SELECT m.id, m.call_id, m.strategy, m.focus_area, m.label, m.marked_by, m.marked_at FROM mark m "
        "WHERE m.strategy = :strategy ORDER BY m.marked_at, m.id", {"strategy": strategy})
    return [MarkRow(*row[:6], utc(row[6])) for row in rows]


def marks_by_area(marks: Iterable[Mark | MarkRow], areas: Iterable[str]) -> dict[str, AreaMarks]:
    """The relevant and irrelevant call ids per focus area; later marks override earlier ones."""
    names = list(areas)
    latest: dict[tuple[int, str], str] = {}
    for mark in marks:  # in marking order
        for area in ([mark.focus_area] if mark.focus_area else names):
            if area in names:
                latest[(mark.call_id, area)] = mark.label
    result = {area: AreaMarks() for area in names}
    for (call_id, area), label in latest.items():
        (result[area].relevant if label == "relevant" else result[area].irrelevant).add(call_id)
    return result


def marks_signature(marks: Iterable[Mark | MarkRow]) -> str:
    """Changes whenever a mark is added (part of the scoring model's identity)."""
    digest = hashlib.sha1()
    for mark in marks:
        digest.update(f"{mark.id}:{mark.call_id}:{mark.focus_area}:{mark.label};".encode())
    return digest.hexdigest()[:16]
