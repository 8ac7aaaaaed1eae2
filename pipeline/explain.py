"""Why a call ranks where it does for one strategy: its score per focus area (with the top terms) and
the strategy rules' outcomes with their reasons (``fundradar calls why``).

When this call's scores or verdict are not current for the config
(:func:`classifiers.freshness.call_is_current`), the scoring is brought up to date first, so the answer
is about the call as stored now, but only when that keeps what the shared database stores
(:func:`pipeline.trial.may_rescore`: the same focus areas, marks and rules, or nothing stored yet).
A config the stored scores were not computed from (a trial file, an edit or marks not scored yet) is
scored in a scratch database instead and the answer says so (``scratch``): a trial never replaces the
scores everyone else reads. For a current call that is a few queries, neither a model nor a look at
the other calls (numpy, scipy and scikit-learn stay unloaded).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from classifiers.text import call_forms, spoken
from pipeline.calls import find_call_id, read_calls
from pipeline.core.config import LoadedConfig
from pipeline.core.deadlines import current_deadline
from pipeline.core.sql import Database, database, flag, json_value

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def explain_call(db: Database, config: LoadedConfig, call_key: str, now: datetime,
                 engine: Callable[[], Engine]) -> dict[str, Any]:
    """The call's scores and verdict for the selected strategy, as a JSON-ready dict, and whether they
    were computed in a scratch database (``scratch``) rather than read from the stored ones.

    ``db`` is a read connection (:mod:`pipeline.core.sql`); a current call is explained from it alone.
    ``engine`` gives the database's engine, asked for only when the call's scoring must be brought up
    to date (or done in a scratch database) first.

    A focus area whose score is below the floor has no stored row: it is shown with ``score`` None and
    ``below_floor`` True. ``weeks_to_deadline`` is to the next deadline (the last one once all passed).
    """
    from classifiers.freshness import call_is_current

    call_id = find_call_id(db, call_key)
    if call_is_current(db, config, call_id, now):
        return _explanation(db, config, call_id, now, scratch=False)
    from sqlmodel import Session

    from pipeline.trial import may_rescore, scratch_scored

    shared = engine()
    if may_rescore(shared, config):
        from classifiers.scoring import score_pending

        score_pending(shared, config, now)  # brings this call's scores and verdict up to date
        with Session(shared) as session:  # a new transaction: it sees what scoring stored
            return _explanation(database(session), config, call_id, now, scratch=False)
    with scratch_scored(shared, config, now) as scratch, Session(scratch) as session:
        return _explanation(database(session), config, call_id, now, scratch=True)


def _explanation(db: Database, config: LoadedConfig, call_id: int, now: datetime, *,
                 scratch: bool) -> dict[str, Any]:
    name = config.strategy.name
    found = read_calls(db, [call_id])[call_id]
    scores = {area: (score, json_value(explanation)) for area, score, explanation in db.rows(
        "SELECT s.focus_area, s.score, s.explanation FROM score s WHERE s.call_id = :call_id "
        "AND s.strategy = :strategy", {"call_id": call_id, "strategy": name})}
    verdict = db.first("SELECT v.passed, v.outcomes, v.success_rate, v.funding_rate, v.expected_value, "
                       "v.priority FROM verdict v WHERE v.call_id = :call_id AND v.strategy = :strategy",
                       {"call_id": call_id, "strategy": name})
    passed, outcomes, success_rate, funding_rate, expected_value, priority = (
        (flag(verdict[0]), json_value(verdict[1]), *verdict[2:]) if verdict
        else (None, [], None, None, None, None))
    said = db.first("SELECT c.title, c.text FROM call c WHERE c.id = :call_id", {"call_id": call_id})
    forms = call_forms(*said) if said else {}
    areas = [{"focus_area": area, "score": scores[area][0] if area in scores else None,
              "below_floor": area not in scores,
              "terms": _in_words(scores[area][1], forms) if area in scores else []}
             for area in config.strategy.focus_areas]
    deadline = current_deadline(found, now)
    weeks = round((deadline - now).total_seconds() / (7 * 86400), 1) if deadline else None
    return {"id": found.id, "title": found.title, "strategy": name, "focus_areas": areas,
            "next_deadline": deadline.isoformat() if deadline else None, "weeks_to_deadline": weeks,
            "passed": passed, "rules": outcomes, "success_rate": success_rate, "funding_rate": funding_rate,
            "expected_value": expected_value, "priority": priority, "scratch": scratch}


def _in_words(terms: list[dict[str, Any]], forms: dict[str, str]) -> list[dict[str, Any]]:
    """The stored explanation with each term also in the call's own words (``words``: "species" for the
    stemmed "specy"); an exclude phrase is shown as written in the strategy already."""
    return [term if term.get("excluded") else {**term, "words": spoken(str(term.get("term", "")), forms)}
            for term in terms]
