"""A source writing a call's reference in another case is still that call.

The answers are the recorded day ``../shared/samples/eu_ft/search_2026-08-21`` served by the local
server, one result's ``reference`` upper-cased ("51348893TOPICSEN" for "51348893TOPICSen"), read
through the real client into a real SQLite file. Taken as a new id, the call came back as a new call
(a second new-call alert, its applications left behind) and the stored one was removed two answers
later (a "removed" alert for a call still open)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from pipeline.core.models import Call, CallChange
from tests.test_plausibility import Portal, eu_ft, portal, run  # noqa: F401

D21 = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)


def _upper_first_of_page_2(number: int, data: dict[str, Any]) -> dict[str, Any]:
    if number != 2:
        return data
    data = copy.deepcopy(data)
    result = data["results"][0]
    result["reference"] = result["reference"].upper()
    result["metadata"]["deadlineDate"] = ["2027-03-03T00:00:00.000+0000"]
    return data


def test_a_reference_in_another_case_is_the_stored_call(engine, server, portal) -> None:  # noqa: F811
    first = run(engine, eu_ft(server), D21)
    assert (first.complete, first.new) == (True, 731)
    with Session(engine) as session:
        ids = {c.external_id: c.id for c in session.exec(select(Call))}
    portal.mutate = _upper_first_of_page_2
    for day in (1, 2):
        result = run(engine, eu_ft(server), D21 + timedelta(days=day))
        assert (result.complete, result.new, result.missing, result.closed) == (True, 0, 0, 0)
    with Session(engine) as session:
        calls = session.exec(select(Call)).all()
        assert {c.external_id: c.id for c in calls} == ids  # no call added, none renamed
        assert {c.status for c in calls} <= {"open", "forthcoming"}
        changes = session.exec(select(CallChange)).all()
        assert [c.field for c in changes] == ["deadlines"]  # the move, on the stored call, once
        assert '"2027-03-03T16:00:00+00:00"' in changes[0].new
