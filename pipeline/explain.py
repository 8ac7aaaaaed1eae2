"""Why a call ranks where it does for one strategy: its score per focus area (with the top terms) and
the strategy rules' outcomes with their reasons (``fundradar calls why``).

The scoring is brought up to date first when this call's scores or verdict are not current
(:func:`classifiers.freshness.call_is_current`), so the answer is about the call as stored now; for a
current call that is a few queries, neither a model nor a look at the other calls (numpy, scipy and
scikit-learn stay unloaded).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.calls import find_call
from pipeline.core.config import LoadedConfig
from pipeline.core.deadlines import current_deadline
from pipeline.core.models import Score, Verdict


def explain_call(engine: Engine, config: LoadedConfig, call_key: str, now: datetime) -> dict[str, Any]:
    """The call's scores and verdict for the selected strategy, as a JSON-ready dict.

    A focus area whose score is below the floor has no stored row: it is shown with ``score`` None and
    ``below_floor`` True. ``weeks_to_deadline`` is to the next deadline (the last one once all passed).
    """
    from classifiers.freshness import call_is_current

    name = config.strategy.name
    with Session(engine) as session:
        found = find_call(session, call_key)
        current = call_is_current(session, config, found.id, now)
    if not current:
        from classifiers.scoring import score_pending

        score_pending(engine, config, now)  # brings this call's scores and verdict up to date
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
            "priority": verdict.priority if verdict else None}
