"""Short answers of the SEDIA search API close nothing: hostile variants of the real recordings.

Every answer is the recorded day ``../shared/samples/eu_ft/search_2026-08-21`` (the real page format:
envelope, ``totalResults``, ``pageSize`` 100, results as recorded) changed at serve time by the local
server, and read through the real client into a real SQLite file. A day with fewer pages than
``totalResults`` says, a short page in the middle, a page sent twice, ``totalResults`` shrinking
between pages and an HTTP 200 whose body is an error each leave
every stored call as it was and the run incomplete, with its reason in one line; pages sent in another
order are still the whole answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.models import Call
from tests.test_plausibility import SEARCH, Portal, eu_ft, portal, run, statuses  # noqa: F401

D21 = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)


def missing_marks(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Call.external_id).where(Call.missing_since.is_not(None))))


def _fewer_pages(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "results": []} if number >= 7 else data


def _short_middle(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "results": data["results"][:50]} if number == 4 else data


class _Repeat:
    """Page 4 is answered with page 3's results (a page sent twice)."""

    def __init__(self) -> None:
        self.third: list[Any] = []

    def __call__(self, number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number == 3:
            self.third = data["results"]
        return {**data, "results": self.third} if number == 4 else data


def _shrinking(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "totalResults": 700} if number >= 5 else data


def _error_body(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"status": 500, "message": "Internal Server Error"} if number == 6 else data


def _error_with_results(number: int, data: dict[str, Any]) -> dict[str, Any]:
    if number != 6:
        return data
    return {**data, "results": [], "totalResults": 0, "warnings": ["search timed out"]}


HOSTILE = [
    ("fewer pages than totalResults", _fewer_pages, "ok",
     "page 7 of 8 (all programmes) was empty although totalResults is 731; the result set changed while "
     "reading, the next run completes it; all programmes: read 600 results of the 731 declared by "
     "totalResults"),
    ("a short page in the middle", _short_middle, "ok",
     "page 4 of 8 (all programmes) has 50 results, fewer than the page size 100; the answer was cut short; "
     "all programmes: read 681 results of the 731 declared by totalResults"),
    ("a page sent twice", _Repeat(), "ok",
     "page 4 of 8 (all programmes) repeats 100 of its 100 references from earlier pages (first: "),
    ("totalResults shrinking", _shrinking, "ok",
     "page 5 of 8 (all programmes) declares totalResults 700, page 1 declared 731; the result set changed "
     "while it was read, the next run completes it"),
    ("an error body with HTTP 200", _error_body, "failed",
     "page 6 of 8 (all programmes) has no 'results' list; the search API changed its answer"),
    ("an empty page declaring no results", _error_with_results, "ok",
     "page 6 of 8 (all programmes) was empty although totalResults is 731; the result set changed while "
     "reading, the next run completes it; all programmes: read 500 results of the 731 declared by "
     "totalResults"),
]


@pytest.mark.parametrize(("name", "mutate", "outcome", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_short_answer_closes_nothing(engine, server, portal, name, mutate, outcome, reason) -> None:  # noqa: F811
    first = run(engine, eu_ft(server), D21)
    assert (first.complete, first.new) == (True, 731)
    before = statuses(engine)
    portal.mutate = mutate
    result = run(engine, eu_ft(server), D21 + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == (outcome, False, 0, 0)
    assert result.error.startswith(reason) and "\n" not in result.error
    assert statuses(engine) == before and missing_marks(engine) == []


def test_pages_sent_in_another_order_are_the_whole_answer(engine, server, portal) -> None:  # noqa: F811
    """Pages 2 and 3 swapped: every result was read once, so the run is complete and closes nothing."""
    run(engine, eu_ft(server), D21)
    before = statuses(engine)
    pages: dict[int, list[Any]] = {}
    recording = portal.recording

    def swapped(number: int, data: dict[str, Any]) -> dict[str, Any]:
        other = {2: 3, 3: 2}.get(number)
        if other is None:
            return data
        if other not in pages:
            pages[other] = recording.results[(other - 1) * 100:other * 100]
        return {**data, "results": pages[other]}

    portal.mutate = swapped
    result = run(engine, eu_ft(server), D21 + timedelta(days=1))
    assert (result.outcome, result.complete, result.seen, result.closed, result.missing) == \
        ("ok", True, 731, 0, 0)
    assert statuses(engine) == before
