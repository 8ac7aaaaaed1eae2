"""One answer holding the same reference twice with different content (a result set changing while it
is read, a broken mirror): which one is true cannot be told, so the stored call is kept as it is, the
run says so and closes nothing; before, the first copy won, and a copy order that changed between runs
moved a deadline back and forth, with an alert each time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from pipeline.core.models import Call, CallChange
from tests.test_plausibility import eu_ft, good_sync, portal, run, with_meta  # noqa: F401 (portal: fixture)

LATER = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)


def _twice(order: str):
    """Page 3 with its 7th result sent twice, once with a deadline a week later (``order``: which first)."""
    def mutate(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number != 3:
            return data
        results = list(data["results"])
        original = results[6]
        moved = with_meta(copy.deepcopy(original), deadlineDate=["2027-04-15T15:00:00.000+0000"])
        pair = [original, moved] if order == "original first" else [moved, original]
        return {**data, "results": [*results[:6], *pair, *results[7:]]}
    return mutate


def test_a_reference_sent_twice_with_different_content_keeps_the_stored_call(engine, server, portal) -> None:  # noqa: F811
    good_sync(engine, server)
    with Session(engine) as session:
        before = {c.external_id: (c.deadlines, c.content_hash) for c in session.exec(select(Call))}
    for order in ("original first", "moved first"):
        portal.mutate = _twice(order)
        result = run(engine, eu_ft(server), LATER)
        assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
        assert "1 reference(s) sent more than once with different content" in result.error
        assert "their calls are kept as stored" in result.error
        with Session(engine) as session:
            after = {c.external_id: (c.deadlines, c.content_hash) for c in session.exec(select(Call))}
            assert after == before, order
            assert session.exec(select(CallChange)).all() == []


def test_a_reference_sent_twice_alike_is_one_call(engine, server, portal) -> None:  # noqa: F811
    good_sync(engine, server)

    def same_twice(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number == 3:
            data = {**data, "results": [*data["results"][:7], data["results"][6], *data["results"][7:]]}
        return data

    portal.mutate = same_twice
    result = run(engine, eu_ft(server), LATER)
    assert (result.outcome, result.seen, result.changed) == ("ok", 731, 0)
    assert result.error is None or "different content" not in result.error


def test_any_source_sending_an_id_twice_with_different_content_keeps_the_stored_call(engine) -> None:
    """The store's own rule, for the sources that hand it every record (a listing whose items share
    one link, a calendar repeating a UID): the stored call is kept, the run names it and closes nothing."""
    from pipeline.core.clock import UTC as utc
    from watcher.records import CallRecord, Deadline
    from watcher.store import begin_run, finish_run

    def call(key: str, day: int) -> CallRecord:
        return CallRecord(external_id=key, title=f"Call {key}",
                          deadlines=(Deadline(datetime(2027, 1, day, 12, tzinfo=utc)),))

    first_run = begin_run(engine, "listing", LATER)
    finish_run(engine, first_run, [call("a", 10), call("b", 10), call("c", 10)], LATER, complete=True)
    with Session(engine) as session:
        before = {c.external_id: c.content_hash for c in session.exec(select(Call))}
    second = begin_run(engine, "listing", LATER)
    result = finish_run(engine, second, [call("a", 20), call("a", 10), call("b", 10)], LATER, complete=True)
    assert (result.outcome, result.complete, result.closed, result.changed) == ("ok", False, 0, 0)
    assert result.error == ("1 call(s) sent more than once with different content (first: 'a'); kept as "
                            "stored, nothing closed")
    with Session(engine) as session:
        assert {c.external_id: c.content_hash for c in session.exec(select(Call))} == before
        assert session.exec(select(CallChange)).all() == []
