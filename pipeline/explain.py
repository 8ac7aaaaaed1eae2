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

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.calls import find_call
from pipeline.core.config import LoadedConfig
from pipeline.core.deadlines import current_deadline
from pipeline.core.models import Call, Score, Verdict


def explain_call(engine: Engine, config: LoadedConfig, call_key: str, now: datetime) -> dict[str, Any]:
    """The call's scores and verdict for the selected strategy, as a JSON-ready dict, and whether they
    were computed in a scratch database (``scratch``) rather than read from the stored ones.

    A focus area whose score is below the floor has no stored row: it is shown with ``score`` None and
    ``below_floor`` True. ``weeks_to_deadline`` is to the next deadline (the last one once all passed).
    """
    from classifiers.freshness import call_is_current

    with Session(engine) as session:
        found = find_call(session, call_key)
        current = call_is_current(session, config, found.id, now)
    if current:
        return _explanation(engine, config, found, now, scratch=False)
    from pipeline.trial import may_rescore, scratch_scored

    if may_rescore(engine, config):
        from classifiers.scoring import score_pending

        score_pending(engine, config, now)  # brings this call's scores and verdict up to date
        return _explanation(engine, config, found, now, scratch=False)
    with scratch_scored(engine, config, now) as scratch:
        return _explanation(scratch, config, found, now, scratch=True)


def _explanation(engine: Engine, config: LoadedConfig, found: Call, now: datetime, *,
                 scratch: bool) -> dict[str, Any]:
    name = config.strategy.name
    with Session(engine) as session:
        scores = {s.focus_area: s for s in session.exec(
            select(Score).where(Score.call_id == found.id, Score.strategy == name))}
        verdict = session.exec(select(Verdict).where(Verdict.call_id == found.id,
                                                     Verdict.strategy == name)).first()
    areas = [{"focus_area": area, "score": scores[area].score if area in scores else None,
              "below_floor": area not in scores,
              "terms": scores[area].explanation if area in scores else []}
             for area in config.strategy.focus_areas]
    deadline = current_deadline(found, now)
    weeks = round((deadline - now).total_seconds() / (7 * 86400), 1) if deadline else None
    return {"id": found.id, "title": found.title, "strategy": name, "focus_areas": areas,
            "next_deadline": deadline.isoformat() if deadline else None, "weeks_to_deadline": weeks,
            "passed": verdict.passed if verdict else None,
            "rules": verdict.outcomes if verdict else [],
            "success_rate": verdict.success_rate if verdict else None,
            "funding_rate": verdict.funding_rate if verdict else None,
            "expected_value": verdict.expected_value if verdict else None,
            "priority": verdict.priority if verdict else None, "scratch": scratch}
