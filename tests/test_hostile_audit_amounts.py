"""A negative amount in a SEDIA budget entry is no amount: the call is stored with its budget unknown,
never "€-5000000" in tables, Slack and the budget rules."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlmodel import Session, select

from pipeline.core.models import Call
from tests.test_plausibility import eu_ft, portal, run  # noqa: F401 (portal is a fixture)


def _negative_budget(number: int, data: dict[str, Any]) -> dict[str, Any]:
    if number != 3:
        return data
    results = copy.deepcopy(data["results"])
    meta = results[6]["metadata"]
    entry = {"action": f"{meta['identifier'][0]} - {meta['typesOfAction'][0]}", "expectedGrants": 2,
             "minContribution": -2_000_000, "maxContribution": -5_000_000,
             "budgetYearMap": {"2027": "-10000000"}}
    meta["budgetOverview"] = [json.dumps({"budgetTopicActionMap": {"1": [entry]}})]
    return {**data, "results": results}


def test_negative_amounts_are_stored_as_unknown(engine, server, portal) -> None:  # noqa: F811
    portal.mutate = _negative_budget
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.new) == ("ok", 731)
    with Session(engine) as session:
        amounts = [(c.budget, c.min_contribution, c.max_contribution) for c in session.exec(select(Call))]
    assert all(value is None or value >= 0 for row in amounts for value in row)
