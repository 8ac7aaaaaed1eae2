"""The secretariat's strategy workbench: what a config change does before it goes live (library).

* :func:`preview` ranks the active calls under the current and a proposed strategy with the same
  matcher (fitted once on the same corpus) and reports, per focus area, the calls that enter or leave
  the top N, rank changes, and calls whose rule verdict flips.
* :func:`suggest` proposes keywords from the fundraisers' marks: terms whose TF-IDF weight is high in
  calls marked relevant and low in the others, not yet among the keywords, with how many marked calls
  each would reach; and lists exclude terms that match no call at all.

Imports scikit-learn (through the matcher); the CLI imports this module only in those commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, select

from classifiers.funding import FundingRules
from classifiers.matcher import (
    Document,
    TfidfModel,
    excluded_by,
    expanded_query,
    focus_area_query,
    prepare,
    query_features,
    score_documents,
)
from classifiers.rules import evaluate_call
from classifiers.text import analyse
from pipeline.core.config import Strategy
from pipeline.core.deadlines import ACTIVE, effective_status
from pipeline.core.errors import ValidationError
from pipeline.core.models import Call, Mark


@dataclass
class Ranked:
    call_id: int
    title: str
    rank: int  # 1-based
    score: float
    terms: list[tuple[str, float]]


@dataclass
class AreaPreview:
    focus_area: str
    before: list[Ranked]
    after: list[Ranked]
    entering: list[int] = field(default_factory=list)
    leaving: list[int] = field(default_factory=list)
    rank_changes: dict[int, tuple[int, int]] = field(default_factory=dict)  # call -> (old, new)
    rules_now_pass: list[int] = field(default_factory=list)
    rules_now_fail: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def rows(items: list[Ranked]) -> list[dict[str, Any]]:
            return [{"call_id": r.call_id, "rank": r.rank, "score": round(r.score, 4), "title": r.title,
                     "terms": [t for t, _ in r.terms]} for r in items]
        return {"focus_area": self.focus_area, "before": rows(self.before), "after": rows(self.after),
                "entering": self.entering, "leaving": self.leaving,
                "rank_changes": {str(k): {"before": a, "after": b}
                                 for k, (a, b) in self.rank_changes.items()},
                "rules_now_pass": self.rules_now_pass, "rules_now_fail": self.rules_now_fail}


def active_calls(session: Session, now: datetime) -> list[Call]:
    calls = session.exec(select(Call).where(Call.status.in_(ACTIVE)).order_by(Call.id)).all()
    return [c for c in calls if effective_status(c, now) in ACTIVE]


def _top(model: TfidfModel, matrix: Any, names: np.ndarray, documents: Sequence[Document],
         strategy: Strategy, area: str, titles: dict[int, str], top: int) -> list[Ranked]:
    if area not in strategy.focus_areas:
        return []
    query = focus_area_query(area, strategy.focus_areas[area])
    vector = expanded_query(model, query, documents, matrix)
    matches = [m for m in score_documents(model, vector, query, documents, matrix, names) if m.score > 0]
    matches.sort(key=lambda m: (-m.score, m.call_id))
    return [Ranked(m.call_id, titles[m.call_id], i + 1, m.score, m.terms)
            for i, m in enumerate(matches[:top])]


def preview(session: Session, current: Strategy, proposed: Strategy, funding: FundingRules, now: datetime,
            *, top: int = 10, focus: str | None = None) -> list[AreaPreview]:
    areas = list(dict.fromkeys([*current.focus_areas, *proposed.focus_areas]))
    if focus is not None:
        if focus not in areas:
            raise ValidationError(f"unknown focus area {focus!r}; the strategies have {', '.join(areas)}")
        areas = [focus]
    calls = active_calls(session, now)
    by_id = {c.id: c for c in calls}
    titles = {c.id: c.title for c in calls}
    documents = [prepare(c.id, c.title, c.text) for c in calls]
    keep: set[str] = set()
    for strategy in (current, proposed):
        for key, area in strategy.focus_areas.items():
            keep |= query_features(focus_area_query(key, area))
    model, matrix = TfidfModel.fit(documents, keep=keep)
    names = model.terms()
    previews = []
    for area in areas:
        before = _top(model, matrix, names, documents, current, area, titles, top)
        after = _top(model, matrix, names, documents, proposed, area, titles, top)
        old = {r.call_id: r.rank for r in before}
        new = {r.call_id: r.rank for r in after}
        result = AreaPreview(area, before, after,
                             entering=[c for c in new if c not in old],
                             leaving=[c for c in old if c not in new],
                             rank_changes={c: (old[c], new[c]) for c in new if c in old and old[c] != new[c]})
        for call_id in dict.fromkeys([*old, *new]):
            was = evaluate_call(by_id[call_id], current, funding, now).passed
            now_passes = evaluate_call(by_id[call_id], proposed, funding, now).passed
            if now_passes and not was:
                result.rules_now_pass.append(call_id)
            elif was and not now_passes:
                result.rules_now_fail.append(call_id)
        previews.append(result)
    return previews


@dataclass
class Suggestion:
    term: str
    weight: float  # mean TF-IDF weight in relevant-marked calls minus in the others
    reach: int  # how many relevant-marked calls contain the term


@dataclass
class Suggestions:
    focus_area: str
    relevant: int
    irrelevant: int
    terms: list[Suggestion]
    idle_excludes: list[str]  # exclude terms that match no active call

    def to_json(self) -> dict[str, Any]:
        return {"focus_area": self.focus_area, "marked_relevant": self.relevant,
                "marked_irrelevant": self.irrelevant,
                "terms": [{"term": s.term, "weight": round(s.weight, 4), "reach": s.reach}
                          for s in self.terms],
                "idle_excludes": self.idle_excludes}


def suggest(session: Session, strategy: Strategy, now: datetime, *, focus: str | None = None,
            limit: int = 10, min_reach: int = 2) -> list[Suggestions]:
    areas = list(strategy.focus_areas)
    if focus is not None:
        if focus not in strategy.focus_areas:
            raise ValidationError(f"unknown focus area {focus!r}; the strategy has {', '.join(areas)}")
        areas = [focus]
    calls = active_calls(session, now)
    marks = session.exec(select(Mark).where(Mark.strategy == strategy.name).order_by(Mark.marked_at, Mark.id))
    latest: dict[tuple[int, str | None], str] = {}
    for mark in marks:  # the newest mark of a call wins
        latest[(mark.call_id, mark.focus_area)] = mark.label
    marked_ids = {call_id for call_id, _ in latest}
    calls += [c for c in session.exec(select(Call).where(Call.id.in_(marked_ids)))
              if c.id not in {x.id for x in calls}]
    documents = [prepare(c.id, c.title, c.text) for c in calls]
    model, matrix = TfidfModel.fit(documents)
    names = model.terms()
    row_of = {c.id: i for i, c in enumerate(calls)}
    out = []
    for area in areas:
        config = strategy.focus_areas[area]
        labels = {cid: label for (cid, fa), label in latest.items() if fa in (area, None)}
        relevant = [row_of[c] for c, label in labels.items() if label == "relevant" and c in row_of]
        irrelevant = [row_of[c] for c, label in labels.items() if label == "irrelevant" and c in row_of]
        known = set().union(*(analyse(k) for k in [*config.keywords, *sum(config.synonyms.values(), [])]))
        terms: list[Suggestion] = []
        if relevant and matrix.shape[1]:
            others = [i for i in range(len(calls)) if i not in set(relevant)]
            mean_rel = np.asarray(matrix[relevant].mean(axis=0)).ravel()
            mean_other = np.asarray(matrix[others].mean(axis=0)).ravel() if others else 0 * mean_rel
            reach = np.asarray((matrix[relevant] > 0).sum(axis=0)).ravel()
            weight = mean_rel - mean_other
            for index in np.argsort(-weight, kind="stable"):
                if weight[index] <= 0 or len(terms) >= limit:
                    break
                term = str(names[index])
                if term in known or reach[index] < min(min_reach, len(relevant)):
                    continue
                terms.append(Suggestion(term, float(weight[index]), int(reach[index])))
        idle = [phrase for phrase in config.exclude
                if not any(excluded_by(d, [phrase]) for d in documents)]
        out.append(Suggestions(area, len(relevant), len(irrelevant), terms, idle))
    return out
