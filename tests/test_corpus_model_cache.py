"""The decoded corpus model kept by the process (classifiers.corpus.decoded): reused while the stored
bytes are the same, decoded again when the corpus model is refitted or another database holds another
one, and scores stay those of a fresh decode."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers.corpus import decoded, extend
from classifiers.matcher import TfidfModel
from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.db import open_database, session_scope
from pipeline.core.models import Call, CorpusModel, CorpusVocabulary, Score
from tests.scoring_data import content_hash
from tests.test_scoring_scale import NOW, add_calls


def _decoded(engine: Any) -> TfidfModel:
    with Session(engine) as session:
        return decoded(session, session.exec(select(CorpusModel)).one().version)


def _stored(engine: Any) -> TfidfModel:
    with Session(engine) as session:
        return TfidfModel.from_bytes(session.exec(select(CorpusVocabulary.vocabulary)).one())


def _same_model(a: TfidfModel, b: TfidfModel) -> bool:
    return (a.vocabulary == b.vocabulary and np.array_equal(a.idf, b.idf)
            and np.array_equal(a.components, b.components))


def _scores(engine: Any) -> dict[tuple[int, str], float]:
    with Session(engine) as session:
        return {(s.call_id, s.focus_area): s.score for s in session.exec(select(Score))}


def _change(engine: Any, call_id: int, words: str) -> None:
    with session_scope(engine) as session:
        call = session.get(Call, call_id)
        call.text += words
        call.content_hash = content_hash(call.title, call.text)  # as a sync sets it
        session.add(call)


def test_the_decoded_model_is_reused_until_the_corpus_model_is_refitted(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60)
    score_pending(engine, config, NOW)
    first = _decoded(engine)
    assert _decoded(engine) is first and _same_model(first, _stored(engine))
    _change(engine, ids[5], " Offshore wind and energy islands.")
    assert score_pending(engine, config, NOW).reason == "incremental"
    assert _decoded(engine) is first  # the same stored bytes: not decoded again

    _change(engine, ids[6], " Green hydrogen valleys.")
    assert score_pending(engine, config, NOW + timedelta(hours=1), full=True).refitted
    refitted = _decoded(engine)
    assert refitted is not first and _same_model(refitted, _stored(engine))


def test_another_database_gets_its_own_model(engine: Any, tmp_path: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine, 60)
    score_pending(engine, config, NOW)
    mine = _decoded(engine)
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        add_calls(other, 70)
        score_pending(other, config, NOW)
        theirs = _decoded(other)
        assert theirs is not mine and _same_model(theirs, _stored(other))
        assert _same_model(_decoded(engine), _stored(engine))
    finally:
        other.dispose()


def test_incremental_scores_with_the_kept_model_are_those_of_a_fresh_decode(engine: Any,
                                                                             tmp_path: Any) -> None:
    """The same incremental run on two copies of one database, the second after the process dropped its
    decoded model (a new process): the same scores."""
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60)
    score_pending(engine, config, NOW)
    target = tmp_path / "copy.db"
    with sqlite3.connect(engine.url.database) as source, sqlite3.connect(target) as copied:
        source.backup(copied)
    copy = open_database(f"sqlite:///{target}")
    try:
        with session_scope(copy) as session:  # another digest: the copy's model is decoded anew
            session.execute(sa.update(CorpusVocabulary).values(digest="copied"))
        _change(engine, ids[9], " Floating offshore wind turbines.")
        _change(copy, ids[9], " Floating offshore wind turbines.")
        _decoded(engine)  # kept by the process
        assert score_pending(engine, config, NOW).reason == "incremental"
        assert score_pending(copy, config, NOW).reason == "incremental"
        assert _scores(engine) == _scores(copy)
    finally:
        copy.dispose()


def test_a_strategy_s_extended_model_is_reused_for_the_same_model_and_extras(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60)
    score_pending(engine, config, NOW)
    base = _decoded(engine)
    extended = extend(base, {"tidal kite": 5.0})
    assert extend(base, {"tidal kite": 5.0}) is extended
    assert extended.vocabulary["tidal kite"] == len(base.vocabulary) and "tidal kite" not in base.vocabulary
    other = extend(base, {"tidal kite": 6.0})
    assert other is not extended and float(other.idf[-1]) == 6.0
    _change(engine, ids[6], " Green hydrogen valleys.")
    score_pending(engine, config, NOW + timedelta(hours=1), full=True)  # a refit: the models are new
    refitted = extend(_decoded(engine), {"tidal kite": 6.0})
    assert refitted is not other and refitted.vocabulary["tidal kite"] == len(_decoded(engine).vocabulary)
