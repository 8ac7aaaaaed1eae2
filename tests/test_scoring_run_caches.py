"""What scoring runs remember: strategies scored in one run share the verdict rules' outcomes when their
rules are the same (classifiers.run_rules.shared_rules), and only then, so each strategy's verdicts are
those it gets alone; focus areas made into queries are kept by the process until an area is edited
(classifiers.freshness.strategy_queries); a strategy's stored query vectors and gates are decoded once
per process while the model and the stored rows stay the same (classifiers.stored_queries)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import Session, select

from classifiers.corpus import decoded, extend, extras_from_bytes
from classifiers.freshness import strategy_queries
from classifiers.gate import unit_columns
from classifiers.matcher import TfidfModel, query_latents
from classifiers.query import focus_area_query
from classifiers.scoring import score_pending, score_strategies
from classifiers.stored_queries import gate_queries, prepared_queries, vector_from_json
from pipeline.core.config import DEFAULT_STRATEGY, FocusArea, LoadedConfig, load_config
from pipeline.core.db import open_database
from pipeline.core.models import CorpusModel, CorpusVocabulary, ScoringModel, Verdict
from tests.test_scoring_scale import NOW, add_calls, config_with


def _with_weeks(config: LoadedConfig, weeks: float) -> LoadedConfig:
    rules = config.strategy.rules.model_copy(update={"min_weeks_before_deadline": weeks})
    return LoadedConfig(config.strategy.model_copy(update={"rules": rules}), config.funding_rules,
                        config.strategy_path)


def _verdicts(engine: Any, strategy: str) -> dict[int, tuple[Any, ...]]:
    with Session(engine) as session:
        return {v.call_id: (v.passed, v.outcomes, v.priority, v.recheck_at)
                for v in session.exec(select(Verdict).where(Verdict.strategy == strategy))}


def test_strategies_with_the_same_or_other_rules_get_the_verdicts_they_get_alone(engine: Any,
                                                                                 tmp_path: Any) -> None:
    area = {"wind": FocusArea(label="Wind", keywords=["offshore wind"])}
    near = _with_weeks(config_with("near", area), 2)
    same = _with_weeks(config_with("same", area), 2)
    far = _with_weeks(config_with("far", area), 60)  # most deadlines are closer than 60 weeks
    add_calls(engine, 60)
    score_strategies(engine, [near, same, far], NOW)
    assert _verdicts(engine, "near") == _verdicts(engine, "same")
    assert _verdicts(engine, "near") != _verdicts(engine, "far")
    for config in (near, far):
        alone = open_database(f"sqlite:///{tmp_path / f'{config.strategy.name}.db'}")
        try:
            add_calls(alone, 60)
            score_pending(alone, config, NOW)
            assert _verdicts(alone, config.strategy.name) == _verdicts(engine, config.strategy.name)
        finally:
            alone.dispose()


def test_an_edited_focus_area_is_made_into_a_new_query() -> None:
    config = config_with("wind", {"wind": FocusArea(label="Wind", keywords=["offshore wind"],
                                                    synonyms={"offshore wind": ["vindkraft"]})})
    first = strategy_queries(config)
    assert strategy_queries(config)[0] is first[0]
    edits = ({"keywords": ["offshore wind", "tidal kite"]}, {"synonyms": {"offshore wind": ["havvind"]}},
             {"label": "Offshore wind"}, {"description": "Turbines at sea."}, {"exclude": ["nuclear"]})
    for edit in edits:
        area = config.strategy.focus_areas["wind"].model_copy(update=edit)
        edited = config_with("wind", {"wind": area})
        assert strategy_queries(edited) == [focus_area_query("wind", area)] != first, edit


def _dense(matrices: list[Any]) -> list[Any]:
    return [None if m is None else m.toarray().tolist() for m in matrices]


def test_stored_queries_are_decoded_once_while_the_model_and_the_rows_stay_the_same(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine, 60)
    score_pending(engine, config, NOW)
    queries = strategy_queries(config)
    with Session(engine) as session:
        stored = session.exec(select(ScoringModel)).one()
        model = extend(decoded(session, session.exec(select(CorpusModel)).one().version),
                       extras_from_bytes(stored.vocabulary))
        blob = session.exec(select(CorpusVocabulary.vocabulary)).one()
    names = model.terms()
    first = prepared_queries(stored, model, queries, names)
    assert prepared_queries(stored, model, queries, names) is first
    vectors, contexts, built = first
    assert _dense(vectors) == _dense([vector_from_json(stored.queries[q.name], model) for q in queries])
    assert _dense(contexts) == _dense(gate_queries(stored, model, queries, names))
    assert [units for units, _ in built] == [unit_columns(model, q) for q in queries]
    for (_, (latent, gates)), vector, context in zip(built, vectors, contexts, strict=True):
        fresh, fresh_gates = query_latents(model, vector, context)
        assert np.array_equal(latent.unit, fresh.unit) and np.array_equal(latent.expanded, fresh.expanded)
        assert [g.unit.tolist() for g in gates or []] == [g.unit.tolist() for g in fresh_gates or []]

    area = queries[0].name
    stored.queries = {**stored.queries, area: {t: 2 * w for t, w in stored.queries[area].items()}}
    edited = prepared_queries(stored, model, queries, names)
    assert edited is not first
    assert np.allclose(edited[0][0].toarray(), 2 * vectors[0].toarray())
    other = extend(TfidfModel.from_bytes(blob), extras_from_bytes(stored.vocabulary))  # another process's
    assert prepared_queries(stored, other, queries, other.terms()) is not edited


def test_a_call_changed_between_two_strategies_of_one_run_gets_its_new_verdict(engine: Any) -> None:
    # the run remembers each call's rule outcomes for the next strategy with the same rules; a call
    # whose light columns changed meanwhile (a sync between them) is judged again, not remembered
    from datetime import timedelta

    import sqlalchemy as sa

    from classifiers.corpus import Corpus
    from pipeline.core.models import Call

    area = {"wind": FocusArea(label="Wind", keywords=["offshore wind"])}
    first, second = (_with_weeks(config_with(name, area), 4) for name in ("first", "second"))
    ids = add_calls(engine, 60)
    corpus = Corpus()
    score_pending(engine, first, NOW, corpus=corpus)
    soon = NOW + timedelta(days=3)  # closer than the 4 weeks the rules ask for
    with engine.begin() as conn:
        conn.execute(sa.update(Call).where(Call.id == ids[0]).values(
            deadline=soon, deadlines=[{"at": soon.isoformat(), "assumed": False}],
            content_hash="moved-deadline"))
    score_pending(engine, second, NOW, corpus=corpus)
    moved = _verdicts(engine, "second")[ids[0]]
    assert moved[0] is False and moved != _verdicts(engine, "first")[ids[0]]
    assert {k: v for k, v in _verdicts(engine, "second").items() if k != ids[0]} == \
        {k: v for k, v in _verdicts(engine, "first").items() if k != ids[0]}
