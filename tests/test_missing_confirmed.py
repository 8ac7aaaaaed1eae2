"""A call missing from one complete answer is only marked missing; the next complete answer lacking it
too removes it, and an answer listing it again clears the mark (watcher.store, "confirmation").

One short but well-formed answer, even a single call short (which the mass-closure guard lets
through), so removes nothing and alerts nobody."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from pipeline.core.clock import UTC
from pipeline.core.models import Call, CallChange
from watcher.records import CallRecord, Deadline
from watcher.store import begin_run, finish_run

NOW = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
AHEAD = datetime(2027, 4, 8, 15, 0, tzinfo=UTC)


def _record(ref: str, deadline: datetime = AHEAD) -> CallRecord:
    return CallRecord(external_id=ref, title=f"Call {ref}",
                      deadlines=(Deadline(deadline, time_assumed=True),))


def _answer(engine, refs: list[str], day: int, *, complete: bool = True, deadline: datetime = AHEAD):
    when = NOW + timedelta(days=day)
    run = begin_run(engine, "feed", when)
    return finish_run(engine, run, [_record(ref, deadline) for ref in refs], when, complete=complete)


def _state(engine, ref: str) -> tuple[str, datetime | None]:
    with Session(engine) as session:
        call = session.exec(select(Call).where(Call.external_id == ref)).one()
        return call.status, call.missing_since


def _status_changes(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(c.old, c.new) for c in session.exec(select(CallChange).where(CallChange.field == "status"))]


def test_one_short_answer_of_a_two_call_source_removes_nothing(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    result = _answer(engine, ["A"], 1)
    assert (result.outcome, result.closed, result.missing) == ("ok", 0, 1)
    assert _state(engine, "B") == ("open", NOW + timedelta(days=1))
    assert _status_changes(engine) == []  # no change row, so no alert


def test_the_next_complete_answer_lacking_it_removes_it(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    _answer(engine, ["A"], 1)
    result = _answer(engine, ["A"], 2)
    assert (result.closed, result.missing) == (1, 0)
    assert _state(engine, "B") == ("removed", None)
    assert _status_changes(engine) == [("open", "removed")]


def test_an_answer_listing_it_again_clears_the_mark(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    _answer(engine, ["A"], 1)
    _answer(engine, ["A", "B"], 2)
    assert _state(engine, "B") == ("open", None)
    result = _answer(engine, ["A"], 3)  # missing once more: a first miss again, not a second
    assert (result.closed, result.missing) == (0, 1)
    assert _state(engine, "B")[0] == "open"


def test_an_incomplete_answer_neither_confirms_nor_clears(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    _answer(engine, ["A"], 1)
    partial = _answer(engine, ["A"], 2, complete=False)
    assert (partial.closed, partial.missing) == (0, 0)
    assert _state(engine, "B") == ("open", NOW + timedelta(days=1))
    assert _answer(engine, ["A"], 3).closed == 1
    assert _state(engine, "B")[0] == "removed"


def test_an_incomplete_answer_listing_it_clears_the_mark(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    _answer(engine, ["A"], 1)
    _answer(engine, ["B"], 2, complete=False)
    assert _state(engine, "B") == ("open", None)


def test_a_call_whose_deadline_passed_closes_at_once(engine) -> None:
    past = NOW - timedelta(days=1)
    _answer(engine, ["A", "B"], 0, deadline=past)
    result = _answer(engine, ["A"], 1, deadline=past)
    assert (result.closed, result.missing) == (1, 0)
    assert _state(engine, "B") == ("closed", None)


def test_a_call_coming_back_after_removal_is_active_without_a_mark(engine) -> None:
    _answer(engine, ["A", "B"], 0)
    _answer(engine, ["A"], 1)
    _answer(engine, ["A"], 2)
    _answer(engine, ["A", "B"], 3)
    assert _state(engine, "B") == ("open", None)
