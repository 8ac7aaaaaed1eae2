"""Project ideas: validation, storage and matching calls (library; the CLI is pipeline/cli/ideas_cmd.py).

An idea has a title, a description, an owner, focus areas (keys of the strategy's ``focus_areas``),
target countries (ISO 3166-1 alpha-2 codes) and a status: idea → maturing → ready, or parked (any
status may be set; ideas have no enforced workflow, unlike applications).

Each idea belongs to the strategy (cluster) selected when it was added (``Idea.strategy``; None for
shared ideas, seen by all). With a config folder the per-strategy commands pass the selected
strategy as ``scope`` and see only its own and the shared ideas, and the applications of those; an
idea of another strategy asked for by id is a NotFoundError saying whose it is. ``scope`` None (a
single strategy file) sees every idea.

Whose ideas a command sees is :mod:`pipeline.tenancy`; ids and country codes as typed are
:mod:`pipeline.core.inputs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.funding import FundingRules
from classifiers.text import call_forms, spoken
from pipeline.core.config import LoadedConfig, Strategy
from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.errors import NotFoundError, ValidationError
from pipeline.core.inputs import country_codes, name_line, parse_id, split_list
from pipeline.core.models import Call, Idea
from pipeline.core.text import unknown_focus_area
from pipeline.tenancy import check_scope, visible

IDEA_STATUSES = ("idea", "maturing", "ready", "parked")


# --- ideas ---------------------------------------------------------------------------------------

def _focus_areas(values: Iterable[str], strategy: Strategy) -> list[str]:
    areas = split_list(values)
    for area in areas:
        _known_area(area, strategy.focus_areas)
    return areas


def _known_area(area: str, known: Iterable[str] | Mapping[str, Any]) -> None:
    if area not in list(known):
        raise ValidationError(unknown_focus_area(area, known))


def _status(value: str) -> str:
    status = value.strip().lower()
    if status not in IDEA_STATUSES:
        raise ValidationError(f"unknown idea status {value!r}; use one of {', '.join(IDEA_STATUSES)}")
    return status


def _title(value: str) -> str:
    title = name_line(value, "the title")
    if not title:
        raise ValidationError("an idea needs a title")
    return title


def create_idea(session: Session, *, title: str, strategy: Strategy, now: datetime,
                description: str = "", owner: str | None = None, focus_areas: Sequence[str] = (),
                target_countries: Sequence[str] = (), status: str = "idea") -> Idea:
    idea = Idea(strategy=strategy.name, title=_title(title), description=description.strip(),
                owner=name_line(owner or "", "--owner") or None,
                focus_areas=_focus_areas(focus_areas, strategy),
                target_countries=country_codes(target_countries), status=_status(status),
                created_at=now, updated_at=now)
    session.add(idea)
    session.flush()
    return idea


def get_idea(session: Session, idea_id: str | int, *, scope: str | None = None) -> Idea:
    """The idea by id; NotFoundError when there is none or it belongs to another strategy than
    ``scope``."""
    key = parse_id(idea_id, "idea")
    idea = session.get(Idea, key)
    if idea is None:
        raise NotFoundError(f"no idea with id {key}; see `fundradar ideas list`")
    check_scope(idea, scope, f"idea #{key}")
    return idea


def update_idea(session: Session, idea_id: str | int, *, strategy: Strategy, now: datetime,
                title: str | None = None, description: str | None = None, owner: str | None = None,
                focus_areas: Sequence[str] | None = None, target_countries: Sequence[str] | None = None,
                status: str | None = None, claim: bool = False, scope: str | None = None) -> Idea:
    """Change the given fields (None = keep); the whole change is validated before anything is set.
    ``claim`` makes the idea the strategy's own (``strategy.name``), e.g. a shared one from before."""
    idea = get_idea(session, idea_id, scope=scope)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _title(title)
    if description is not None:
        changes["description"] = description.strip()
    if owner is not None:
        changes["owner"] = name_line(owner, "--owner") or None
    if focus_areas is not None:
        changes["focus_areas"] = _focus_areas(focus_areas, strategy)
    if target_countries is not None:
        changes["target_countries"] = country_codes(target_countries)
    if status is not None:
        changes["status"] = _status(status)
    if claim and idea.strategy != strategy.name:
        changes["strategy"] = strategy.name
    if not changes:
        if claim:
            raise ValidationError(f"idea #{idea.id} already belongs to strategy {strategy.name!r}")
        raise ValidationError("nothing to change; give at least one option such as --status ready")
    for name, value in changes.items():
        setattr(idea, name, value)
    idea.updated_at = now
    session.add(idea)
    return idea


def list_ideas(session: Session, *, status: str | None = None, focus_area: str | None = None,
               scope: str | None = None, known_areas: Sequence[str] | None = None) -> list[Idea]:
    """Ideas oldest first; with ``scope`` only that strategy's and the shared ones. A ``focus_area``
    not among ``known_areas`` (the strategy's) is an error rather than an empty list."""
    if focus_area and known_areas is not None:
        _known_area(focus_area, known_areas)
    query = visible(select(Idea), scope).order_by(Idea.id)
    if status:
        query = query.where(Idea.status == _status(status))
    ideas = list(session.exec(query))
    if focus_area:
        ideas = [i for i in ideas if focus_area in (i.focus_areas or [])]
    return ideas


def idea_dict(idea: Idea) -> dict[str, Any]:
    return {"id": idea.id, "title": idea.title, "description": idea.description, "owner": idea.owner,
            "focus_areas": list(idea.focus_areas or []),
            "target_countries": list(idea.target_countries or []), "status": idea.status,
            "strategy": idea.strategy, "created_at": idea.created_at, "updated_at": idea.updated_at}


# --- matching calls ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallSuggestion:
    call_id: int
    title: str
    topic_id: str | None
    programme: str | None
    next_deadline: datetime | None
    score: float
    terms: list[tuple[str, float]]
    passed: bool | None  # the funding rules' verdict; None when the rules could not be evaluated
    failed_rules: list[str]  # "rule: reason" of each failed rule
    unknown_rules: list[str] = field(default_factory=list)  # "rule: reason" of each rule not checkable

    def as_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "title": self.title, "topic_id": self.topic_id,
                "programme": self.programme, "next_deadline": self.next_deadline,
                "score": round(self.score, 4), "terms": [t for t, _ in self.terms],
                "passed": self.passed, "failed_rules": self.failed_rules,
                "unknown_rules": self.unknown_rules}


def idea_query(idea: Idea, strategy: Strategy | None = None) -> str:
    """The idea's title and description, and with ``strategy`` the English terms its synonyms give the
    Danish (Swedish, Norwegian) terms the text says: "Modforanstaltninger mod droner" meets the calls
    on "counter-drone" as the strategy's focus areas do, where its Danish words meet no English call."""
    text = f"{idea.title}\n{idea.description}"
    translated = _translations(text, idea, strategy) if strategy is not None else []
    return "\n".join([text, *translated])


def _translations(text: str, idea: Idea, strategy: Strategy) -> list[str]:
    """The synonyms' terms for each synonym the text says as whole words (in its Nordic word forms too),
    of the idea's focus areas, or of every area for an idea without any."""
    from classifiers.text import nordic_forms, words

    spoken = f" {' '.join(words(text))} "
    areas = [strategy.focus_areas[a] for a in idea.focus_areas or [] if a in strategy.focus_areas] \
        or list(strategy.focus_areas.values())
    found: list[str] = []
    for area in areas:
        for source, targets in area.synonyms.items():
            forms = {" ".join(words(form)) for form in (source, *nordic_forms(source))}
            if any(form and f" {form} " in spoken for form in forms):
                found += [target for target in targets if target not in found]
    return found


# The idea's focus areas decide which calls are candidates and most of their order: the strategy's
# curated query for the area, scored with the fundraisers' marks, as `calls list --focus` ranks it. The
# idea's own words (a title and a line or two: too few to rank the whole corpus on) reorder the calls
# within its areas at a third of the weight.
AREA_WEIGHT, TEXT_WEIGHT = 2 / 3, 1 / 3


@dataclass
class IdeaCalls:
    calls: list[CallSuggestion]
    focus_areas: list[str]  # the idea's areas the ranking used; empty: the idea's text alone
    scratch: bool = False  # scored in a scratch database (the stored scores are of another config)


def suggest_calls(engine: Engine, idea: Idea, config: LoadedConfig, now: datetime, *,
                  top: int = 10) -> IdeaCalls:
    """Active calls for the idea, best first, each with the matching terms and the funding rules'
    verdict.

    With focus areas (of the selected strategy) the candidates are the calls scored for them, ranked
    by their best score among those areas (:func:`pipeline.calls.list_calls`, the listing behind
    ``calls list --focus``) blended with how well they match the idea's own text (:data:`AREA_WEIGHT`,
    :data:`TEXT_WEIGHT`). The scores are the stored ones, brought up to date as ``calls why`` does
    (:mod:`pipeline.trial`: in a scratch database when the stored ones are of another config). An idea
    without focus areas is matched on its text alone, over every active call. The classifiers are
    imported here, lazily, so commands that don't match never load scikit-learn."""
    areas = [a for a in dict.fromkeys(idea.focus_areas or []) if a in config.strategy.focus_areas]
    if not areas:
        with Session(engine) as session:
            return IdeaCalls(_by_text(session, idea, config, now, top), [])
    from pipeline.trial import may_rescore, scratch_scored, stored_scoring

    if stored_scoring(engine, config) == "current":
        with Session(engine) as session:
            return IdeaCalls(_by_areas(session, idea, config, areas, now, top), areas)
    if may_rescore(engine, config):
        from classifiers.scoring import score_pending

        score_pending(engine, config, now)
        with Session(engine) as session:
            return IdeaCalls(_by_areas(session, idea, config, areas, now, top), areas)
    with scratch_scored(engine, config, now) as scratch, Session(scratch) as session:
        return IdeaCalls(_by_areas(session, idea, config, areas, now, top), areas, scratch=True)


def _active_calls(session: Session, now: datetime, ids: Iterable[int] | None = None) -> dict[int, Call]:
    query = select(Call).where(Call.status.in_(ACTIVE))
    if ids is not None:
        query = query.where(Call.id.in_(list(ids)))
    else:  # another source's copy of a call (pipeline.core.duplicates) is suggested as that call
        query = query.where(Call.duplicate_of.is_(None))
    return {c.id: c for c in session.exec(query) if effective_status(c, now) in ACTIVE}


def _exclude(idea: Idea, config: LoadedConfig) -> list[str]:
    areas = config.strategy.focus_areas
    return [term for area in idea.focus_areas or [] if area in areas for term in areas[area].exclude]


def _text_matches(idea: Idea, calls: dict[int, Call], config: LoadedConfig, top: int) -> list[Any]:
    from classifiers.matcher import match_query

    documents = [(cid, c.title, c.text or "") for cid, c in sorted(calls.items())]
    return match_query(idea_query(idea, config.strategy), documents, exclude=_exclude(idea, config), top=top)


def _idea_words(idea: Idea, terms: Sequence[tuple[str, float]],
                config: LoadedConfig) -> list[tuple[str, float]]:
    """The match's terms that are the idea's own words. The latent half of a match spreads its score
    over the call's words, so the largest contributions also hold words the idea never says ("1",
    "increased" for "Floating wind O&M robots"), which read as nonsense in the Why column."""
    from classifiers.text import analyse

    # the terms are features already: "system" is one, no stop word; the translations are the idea's words
    said = set(analyse(idea_query(idea, config.strategy)))
    return [(term, weight) for term, weight in terms if term in said]


def _by_text(session: Session, idea: Idea, config: LoadedConfig, now: datetime,
             top: int) -> list[CallSuggestion]:
    calls = _active_calls(session, now)
    if not calls:
        return []
    matches = _text_matches(idea, calls, config, top)
    return [_suggestion(calls[m.call_id], m.score, (_idea_words(idea, m.terms, config) or list(m.terms))[:5],
                        config, now) for m in matches]


def _by_areas(session: Session, idea: Idea, config: LoadedConfig, areas: list[str], now: datetime,
              top: int) -> list[CallSuggestion]:
    from pipeline.calls import CallFilter, list_calls

    best: dict[int, tuple[float, list[tuple[str, float]]]] = {}
    for area in areas:
        for row in list_calls(session, CallFilter(focus_area=area, strategy=config.strategy.name), now):
            terms = [(e["term"], e["weight"]) for e in row["explanation"] if not e.get("excluded")]
            if row["score"] and row["score"] > best.get(row["id"], (0.0, []))[0]:
                best[row["id"]] = (row["score"], terms)
    if not best:
        return []
    calls = _active_calls(session, now, best)
    text = {m.call_id: m for m in _text_matches(idea, calls, config, len(calls))}
    ranked = []
    for call_id, (area_score, area_terms) in best.items():
        match = text.get(call_id)
        score = AREA_WEIGHT * area_score + TEXT_WEIGHT * (match.score if match else 0.0)
        terms: dict[str, float] = {}
        for term, weight in [*(_idea_words(idea, match.terms, config) if match else []), *area_terms]:
            terms.setdefault(term, weight)
        ranked.append((score, call_id, list(terms.items())[:5]))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [_suggestion(calls[call_id], score, terms, config, now) for score, call_id, terms in ranked[:top]]


def _in_words(terms: list[tuple[str, float]], call: Call) -> list[tuple[str, float]]:
    """The terms in the call's own words ("species", not the stemmed "specy")."""
    forms = call_forms(call.title, call.text)
    return [(spoken(term, forms), weight) for term, weight in terms]


def _suggestion(call: Call, score: float, terms: list[tuple[str, float]], config: LoadedConfig,
                now: datetime) -> CallSuggestion:
    from classifiers.rules import evaluate_call

    verdict = evaluate_call(call, config.strategy, FundingRules(config.funding_rules), now)
    return CallSuggestion(
        call_id=call.id, title=call.title, topic_id=call.topic_id, programme=call.programme,
        next_deadline=next_deadline(call, now), score=score, terms=_in_words(terms, call),
        passed=verdict.passed,
        # an unknown outcome (passed None: the value it needs is missing) is not a failure
        failed_rules=[f"{o.rule}: {o.reason}" for o in verdict.outcomes if o.passed is False],
        unknown_rules=[f"{o.rule}: {o.reason}" for o in verdict.outcomes if o.passed is None])
