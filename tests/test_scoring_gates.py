"""The areas' gate queries kept with the strategy's query vectors (scoring_model.gates): an incremental
run loads them instead of building them, and scores exactly as when it builds them; they are rebuilt
when what they were built from changes. Calls are real recorded EU topics (enough for the LSA space)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers.corpus import Corpus
from classifiers.freshness import strategy_queries
from classifiers.gate import context_from_rows, context_to_rows, context_vector
from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, LoadedConfig, load_config
from pipeline.core.db import open_database, session_scope
from pipeline.core.models import Call, CorpusModel, Score, ScoringModel
from tests.scoring_data import content_hash, insert_calls

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def recorded_texts(samples: Path, count: int) -> list[tuple[str, str]]:
    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:count]]
    return [(r["title"], r["description"]) for r in records]


def scored_database(tmp_path: Path, samples: Path) -> tuple[str, list[int]]:
    url = f"sqlite:///{tmp_path / 'scored.db'}"
    engine = open_database(url)
    ids = insert_calls(engine, recorded_texts(samples, 120), hashed=True)
    score_pending(engine, load_config(DEFAULT_STRATEGY), NOW)
    with session_scope(engine) as session:  # three calls changed, as a sync changes them
        for call_id in ids[5:8]:
            call = session.get(Call, call_id)
            call.text += " Offshore wind, green shipping and robotics for the food industry."
            call.content_hash = content_hash(call.title, call.text)
            session.add(call)
    engine.dispose()
    return url, ids


def score_rows(engine: Any) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        return [(s.call_id, s.focus_area, s.score, json.dumps(s.explanation)) for s in
                session.exec(select(Score).order_by(Score.call_id, Score.focus_area))]


def gates_of(engine: Any) -> tuple[str, dict[str, Any]]:
    with Session(engine) as session:
        stored = session.exec(select(ScoringModel)).one()
        return stored.gates_hash, stored.gates


def test_incremental_run_scores_with_the_stored_gates_as_with_gates_built_anew(tmp_path, samples) -> None:
    url, _ = scored_database(tmp_path, samples)
    rebuilt_path = tmp_path / "rebuilt.db"
    shutil.copyfile(tmp_path / "scored.db", rebuilt_path)
    config = load_config(DEFAULT_STRATEGY)

    stored_engine = open_database(url)
    stored_hash, stored_gates = gates_of(stored_engine)
    assert stored_hash and set(stored_gates) == set(config.strategy.focus_areas)
    result = score_pending(stored_engine, config, LATER)
    assert (result.reason, result.scored_calls) == ("incremental", 3)

    rebuilt_engine = open_database(f"sqlite:///{rebuilt_path}")
    with rebuilt_engine.begin() as conn:  # as a database from before the gates were kept
        conn.execute(sa.update(ScoringModel.__table__).values(gates_hash="", gates={}))
    result = score_pending(rebuilt_engine, config, LATER)
    assert (result.reason, result.scored_calls) == ("incremental", 3)

    assert score_rows(stored_engine) == score_rows(rebuilt_engine)
    assert gates_of(rebuilt_engine) == (stored_hash, stored_gates)  # built once, then kept
    stored_engine.dispose()
    rebuilt_engine.dispose()


def test_an_edited_label_rebuilds_the_gates(tmp_path, samples) -> None:
    url, _ = scored_database(tmp_path, samples)
    config = load_config(DEFAULT_STRATEGY)
    areas = dict(config.strategy.focus_areas)
    name = next(iter(areas))
    areas[name] = areas[name].model_copy(update={"label": "Robotics and artificial intelligence"})
    strategy = config.strategy.model_copy(update={"focus_areas": areas})
    edited = LoadedConfig(strategy, config.funding_rules, config.strategy_path)
    engine = open_database(url)
    before_hash, before = gates_of(engine)
    result = score_pending(engine, edited, LATER)
    # the label is part of the queries' identity (the gate reads it): every call is rescored, and the
    # strategy's model is rebuilt on the corpus as it now is (three calls changed since), so every
    # area's gate is built anew, the edited one from its new label
    assert (result.reason, result.scored_calls) == ("focus areas or marks changed", 120)
    after_hash, after = gates_of(engine)
    assert after_hash != before_hash and after[name] != before[name] and set(after) == set(before)
    engine.dispose()


def test_a_gate_query_is_stored_and_loaded_exactly(tmp_path, samples) -> None:
    url, _ = scored_database(tmp_path, samples)
    engine = open_database(url)
    with Session(engine) as session:
        corpus = Corpus()
        model = corpus.use(session, session.exec(select(CorpusModel)).one())
    engine.dispose()
    assert model.components is not None  # the LSA space takes part in the gate
    names = model.terms()
    for query in strategy_queries(load_config(DEFAULT_STRATEGY)):
        built = context_vector(model, query)
        loaded = context_from_rows(json.loads(json.dumps(context_to_rows(built, names))), model)
        assert built is not None and loaded is not None
        assert loaded.dtype == built.dtype and loaded.shape == built.shape
        assert np.array_equal(loaded.indptr, built.indptr) and np.array_equal(loaded.indices, built.indices)
        assert np.array_equal(loaded.data, built.data)
