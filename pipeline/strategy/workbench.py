"""The secretariat's strategy workbench: what a config change does before it goes live (library).

* :func:`preview` shows each focus area's current top N as ``calls list --focus`` ranks it (stored
  scores, marks included); with a proposed strategy, the top N ``fundradar score`` would give it
  (scored in a scratch database, with the same marks) and the calls that enter or leave, rank changes
  and calls whose rule verdict flips.
* :func:`suggest` proposes keywords from the fundraisers' marks: terms whose TF-IDF weight is high in
  calls marked relevant and low in the others, not yet among the keywords, with how many marked calls
  each would reach; never a term common to much of the stored corpus or made of the EU topic
  template's words ("expected outcome", "project results"); and lists exclude terms that match no
  active call.

Imports scikit-learn (through the matcher); the CLI imports this module only in those commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.matcher import TfidfModel, excluded_by, prepare
from classifiers.query import with_closed_forms
from classifiers.text import analyse, words
from pipeline.calls import CallFilter, list_calls
from pipeline.core.config import LoadedConfig, Strategy
from pipeline.core.deadlines import ACTIVE, effective_status
from pipeline.core.errors import ValidationError
from pipeline.core.models import Call, Mark, Verdict
from pipeline.core.text import unknown_focus_area


@dataclass
class Ranked:
    call_id: int
    title: str
    rank: int  # 1-based
    score: float
    terms: list[tuple[str, float]]
    rules: str | None = None  # passed, failed, unknown (pipeline.calls.rules_status), None: not judged


@dataclass
class AreaPreview:
    """One focus area's current top list (``before``: what ``calls list --focus`` shows) and, for a
    proposed config, its top list under it (``after``) and what differs."""

    focus_area: str
    before: list[Ranked]
    after: list[Ranked] | None = None  # None: no proposed config, only the current list
    entering: list[int] = field(default_factory=list)
    leaving: list[int] = field(default_factory=list)
    rank_changes: dict[int, tuple[int, int]] = field(default_factory=dict)  # call -> (old, new)
    rules_now_pass: list[int] = field(default_factory=list)
    rules_now_fail: list[int] = field(default_factory=list)
    # the strategy's calls are scored: an empty ``before`` then means no call reaches the score floor
    scored: bool = False
    removed: bool = False  # the proposed strategy has no such focus area

    @property
    def changed(self) -> bool:
        return bool(self.entering or self.leaving or self.rank_changes or self.rules_now_pass
                    or self.rules_now_fail)

    def to_json(self) -> dict[str, Any]:
        def rows(items: list[Ranked]) -> list[dict[str, Any]]:
            return [{"call_id": r.call_id, "rank": r.rank, "score": round(r.score, 4), "title": r.title,
                     "terms": [t for t, _ in r.terms], "rules": r.rules} for r in items]
        if self.after is None:
            return {"focus_area": self.focus_area, "current": rows(self.before)}
        return {"focus_area": self.focus_area, "removed": self.removed,
                "before": rows(self.before), "after": rows(self.after),
                "entering": self.entering, "leaving": self.leaving,
                "rank_changes": {str(k): {"before": a, "after": b}
                                 for k, (a, b) in self.rank_changes.items()},
                "rules_now_pass": self.rules_now_pass, "rules_now_fail": self.rules_now_fail}


def active_calls(session: Session, now: datetime) -> list[Call]:
    # another source's copy of a call (pipeline.core.duplicates) counts as that call
    calls = session.exec(select(Call).where(Call.status.in_(ACTIVE), Call.duplicate_of.is_(None))
                         .order_by(Call.id)).all()
    return [c for c in calls if effective_status(c, now) in ACTIVE]


def top_list(engine: Engine, strategy: str, area: str, now: datetime, top: int) -> list[Ranked]:
    """The first ``top`` calls of ``fundradar calls list --focus AREA`` for ``strategy``: the stored
    scores, which carry the fundraisers' marks once scored."""
    with Session(engine) as session:
        rows = list_calls(session, CallFilter(focus_area=area, strategy=strategy, limit=top), now)
    return [Ranked(row["id"], row["title"], rank, row["score"] or 0.0,
                   [(e["term"], e["weight"]) for e in row["explanation"] if not e.get("excluded")],
                   row["rules"]) for rank, row in enumerate(rows, 1)]


def _passed(engine: Engine, strategy: str, ids: Sequence[int]) -> dict[int, bool]:
    with Session(engine) as session:
        return dict(session.exec(select(Verdict.call_id, Verdict.passed).where(
            Verdict.strategy == strategy, Verdict.call_id.in_(list(ids)))).all())


def preview(engine: Engine, current: LoadedConfig, proposed: Strategy | None, now: datetime, *,
            top: int = 10, focus: str | None = None) -> list[AreaPreview]:
    """Per focus area the current top list, exactly as ``calls list --focus`` ranks it; with
    ``proposed`` also its top list under the proposed strategy and the differences.

    The proposed strategy is scored as ``fundradar score`` would score it, with the current strategy's
    marks and stored corpus model, in a scratch database (:func:`pipeline.trial.scratch_scored`):
    nothing stored changes. Its rules verdicts are compared with the stored ones."""
    from pipeline.trial import as_strategy, scratch_scored

    name = current.strategy.name
    areas = list(dict.fromkeys([*current.strategy.focus_areas, *(proposed.focus_areas if proposed else ())]))
    if focus is not None:
        if focus not in areas:
            which = "the current and the proposed strategy have" if proposed else "the strategy has"
            raise ValidationError(unknown_focus_area(focus, areas, which))
        areas = [focus]
    befores = {area: top_list(engine, name, area, now, top) for area in areas}
    with Session(engine) as session:
        scored = session.exec(select(Verdict.call_id).where(Verdict.strategy == name).limit(1)).first() \
            is not None
    if proposed is None:
        return [AreaPreview(area, befores[area], scored=scored) for area in areas]
    trial = as_strategy(replace(current, strategy=proposed), name)
    previews = []
    with scratch_scored(engine, trial, now) as scratch:
        for area in areas:
            before = befores[area]
            after = top_list(scratch, name, area, now, top) if area in proposed.focus_areas else []
            old = {r.call_id: r.rank for r in before}
            new = {r.call_id: r.rank for r in after}
            result = AreaPreview(area, before, after,
                                 entering=[c for c in new if c not in old],
                                 leaving=[c for c in old if c not in new],
                                 rank_changes={c: (old[c], new[c]) for c in new
                                               if c in old and old[c] != new[c]},
                                 removed=area not in proposed.focus_areas)
            ids = list(dict.fromkeys([*old, *new]))
            was, now_passes = _passed(engine, name, ids), _passed(scratch, name, ids)
            for call_id in ids:
                if now_passes.get(call_id) and not was.get(call_id):
                    result.rules_now_pass.append(call_id)
                elif was.get(call_id) and not now_passes.get(call_id):
                    result.rules_now_fail.append(call_id)
            previews.append(result)
    return previews


# A proposed keyword has to single out the marked calls: a term found in more than this share of all
# stored calls would match a large part of the corpus whatever the focus area (with four to eight areas,
# one area's calls are a minority), and one at least MIN_LIFT times as common among the calls marked
# relevant as among all stored calls is what marks them out.
MAX_CORPUS_SHARE = 0.25
MIN_LIFT = 2.0

# The language of the EU work programme's topic template, which every Horizon Europe and Digital
# Europe topic repeats under its headings ("Expected Outcome:", "Scope:", "Expected Impact:") and in its
# fixed sentences ("Project results are expected to contribute to some of the following outcomes",
# "Proposals should ...", "legal and financial set-up of the grant agreements", "Technology Readiness
# Level"). In a corpus mixing EU topics with national calls the template is not frequent in every call,
# so the share above need not catch it: a term with one of these words is never proposed (a phrase
# joining a heading to the words around it, "testing expected", is an artefact of the template too).
TEMPLATE_LANGUAGE = (
    "expected outcome", "expected impact", "scope", "project results", "expected to contribute",
    "contribute to", "contribution", "following outcomes", "proposals should address",
    "proposals are expected", "activities", "applicants", "beneficiaries", "consortium", "topic",
    "call", "destination", "type of action", "eligibility conditions", "specific conditions",
    "legal and financial set-up", "grant agreement", "indicative budget", "estimated", "lump sum",
    "technology readiness level", "trl", "in line with", "work programme",
)


def _template_words() -> frozenset[str]:
    return frozenset(w for phrase in TEMPLATE_LANGUAGE for w in words(phrase))


def is_template_language(term: str, template: frozenset[str]) -> bool:
    """Whether an analysed term (a word or two-word phrase) has a word of the topic template."""
    return any(part in template for part in term.split())


def _has_a_letter_alone(term: str) -> bool:
    """A word of one letter is a possessive's or an abbreviation's rest ("plan s" from "Plan's",
    "o m" from "O&M"): no keyword a secretariat would write."""
    return any(len(part) == 1 and part.isalpha() for part in term.split())


@dataclass
class Suggestion:
    term: str
    weight: float  # mean TF-IDF weight in relevant-marked calls minus in the others
    reach: int  # how many relevant-marked calls contain the term
    corpus_share: float = 0.0  # share of all stored calls that contain it


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
                "terms": [{"term": s.term, "weight": round(s.weight, 4), "reach": s.reach,
                           "corpus_share": round(s.corpus_share, 4)} for s in self.terms],
                "idle_excludes": self.idle_excludes}


def suggest(session: Session, strategy: Strategy, now: datetime, *, focus: str | None = None,
            limit: int = 10, min_reach: int = 2) -> list[Suggestions]:
    """Per focus area, the terms of the calls marked relevant worth adding as keywords, best first.

    The TF-IDF model is fitted on every stored call. A term's weight is its mean TF-IDF weight in the
    calls marked relevant minus its mean in all the other calls; it is proposed when it is not yet a
    keyword or synonym, reaches ``min_reach`` marked calls, is in at most :data:`MAX_CORPUS_SHARE` of
    all stored calls and :data:`MIN_LIFT` times as common among the marked calls as among all, and has
    no word of the topic template (:data:`TEMPLATE_LANGUAGE`) nor a word of one letter."""
    areas = list(strategy.focus_areas)
    if focus is not None:
        if focus not in strategy.focus_areas:
            raise ValidationError(unknown_focus_area(focus, strategy.focus_areas))
        areas = [focus]
    active = {c.id for c in active_calls(session, now)}
    marks = session.exec(select(Mark).where(Mark.strategy == strategy.name).order_by(Mark.marked_at, Mark.id))
    latest: dict[tuple[int, str | None], str] = {}
    for mark in marks:  # the newest mark of a call wins
        latest[(mark.call_id, mark.focus_area)] = mark.label
    calls = list(session.exec(select(Call).order_by(Call.id)))
    documents = [prepare(c.id, c.title, c.text) for c in calls]
    model, matrix = TfidfModel.fit(documents)
    names = model.terms()
    row_of = {c.id: i for i, c in enumerate(calls)}
    share = np.asarray((matrix > 0).sum(axis=0)).ravel() / max(len(calls), 1)
    template = _template_words()
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
            lift = (reach / len(relevant)) / np.maximum(share, 1e-12)
            for index in np.argsort(-weight, kind="stable"):
                if weight[index] <= 0 or len(terms) >= limit:
                    break
                term = str(names[index])
                if term in known or reach[index] < min(min_reach, len(relevant)) \
                        or share[index] > MAX_CORPUS_SHARE or lift[index] < MIN_LIFT \
                        or is_template_language(term, template) or _has_a_letter_alone(term):
                    continue
                terms.append(Suggestion(term, float(weight[index]), int(reach[index]), float(share[index])))
        # as the scoring reads it: 'bio-economy' also written closed ('bioeconomy')
        idle = [phrase for phrase in config.exclude if not any(
            excluded_by(documents[row_of[c]], with_closed_forms((phrase,))) for c in active)]
        out.append(Suggestions(area, len(relevant), len(irrelevant), terms, idle))
    return out
