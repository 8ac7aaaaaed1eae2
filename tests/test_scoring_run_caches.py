"""What scoring runs remember: strategies scored in one run share the verdict rules' outcomes when their
rules are the same (classifiers.scoring._run_rules), and only then, so each strategy's verdicts are
those it gets alone; focus areas made into queries are kept by the process until an area is edited
(classifiers.freshness.strategy_queries)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from classifiers.freshness import strategy_queries
from classifiers.query import focus_area_query
from classifiers.scoring import score_pending, score_strategies
from pipeline.core.config import FocusArea, LoadedConfig
from pipeline.core.db import open_database
from pipeline.core.models import Verdict
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
