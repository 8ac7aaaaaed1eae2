"""Scoring at scale: up-to-date detection from light columns, verdicts written only when changed, one
corpus model shared by every strategy, scores below the floor not stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers.matcher import focus_area_query, prepare, rank
from classifiers.scoring import SCORE_FLOOR, score_pending, score_strategies
from pipeline.core.config import DEFAULT_STRATEGY, FocusArea, LoadedConfig, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call, CorpusModel, Score, ScoringModel, Verdict
from tests.scoring_data import content_hash, insert_calls

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
TOPICS = [
    ("Offshore wind farms", "Floating offshore wind turbines connected to energy islands and the grid."),
    ("Zero-emission vessels", "Green shipping in ports: alternative fuels for zero-emission vessels."),
    ("Alternative proteins", "Precision fermentation and bio-based products in a biorefinery."),
    ("Robotics in manufacturing", "Digital twins, data spaces and AI for robotics on the factory floor."),
    ("Soil health living labs", "Living labs for soil health, water quality and sustainable farming."),
    ("Hydrogen valleys", "Green hydrogen production, storage and power-to-X in hydrogen valleys."),
]
WORDS = "research innovation pilot demonstration network cooperation regions cities skills market".split()


def add_calls(engine: Any, count: int, extra: list[tuple[str, str]] = ()) -> list[int]:
    """``count`` varied calls (enough for the LSA space from 50 on), then ``extra`` ones, each with the
    content hash a sync gives it."""
    rows = []
    for number in range(count):
        title, text = TOPICS[number % len(TOPICS)]
        words = " ".join(WORDS[(number + k) % len(WORDS)] for k in range(number % 4 + 1))
        rows.append((f"{title} {number}", f"{text} The call supports {words}."))
    rows.extend(extra)
    return insert_calls(engine, rows, hashed=True)


def config_with(name: str, areas: dict[str, FocusArea]) -> LoadedConfig:
    base = load_config(DEFAULT_STRATEGY)
    strategy = base.strategy.model_copy(update={"name": name, "focus_areas": areas})
    return LoadedConfig(strategy, base.funding_rules, base.strategy_path)


@contextmanager
def statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run on ``engine`` meanwhile (observed through SQLAlchemy's event hook)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def reads_text(statement: str) -> bool:
    head = statement.split(" FROM ")[0]
    return head.startswith("SELECT") and "call.text" in head


def test_up_to_date_reads_no_text_and_writes_no_verdict(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60)
    with session_scope(engine) as session:  # one call closes sooner than the others
        soon = session.get(Call, ids[3])
        soon.deadlines = [{"at": "2026-11-01T16:00:00+00:00", "time_assumed": False}]
        session.add(soon)
    assert score_pending(engine, config, NOW).reason == "first fit"

    def verdicts() -> dict[int, tuple[Any, ...]]:
        with Session(engine) as session:
            return {v.call_id: (v.computed_at, v.passed, v.outcomes, v.priority, v.recheck_at)
                    for v in session.exec(select(Verdict))}

    before = verdicts()
    assert before[ids[3]][4] == datetime(2026, 9, 20, 16, 0, 0, 1, tzinfo=UTC)  # 6 weeks before
    for later in (timedelta(minutes=5), timedelta(days=1)):  # nothing is due: nothing read or written
        with statements(engine) as seen:
            result = score_pending(engine, config, NOW + later)
        assert (result.reason, result.scored_calls, result.verdicts, result.total_calls) == \
            ("up to date", 0, 0, 60)
        assert not [s for s, _ in seen if reads_text(s)]
        assert not [s for s, _ in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]
        assert verdicts() == before

    # past the call's recheck time its deadline is less than 6 weeks away: only it is looked at
    later = datetime(2026, 9, 21, 9, 0, tzinfo=UTC)
    with statements(engine) as seen:
        result = score_pending(engine, config, later)
    assert (result.reason, result.scored_calls, result.verdicts) == ("up to date", 0, 1)
    assert not [s for s, _ in seen if reads_text(s)]
    after = verdicts()
    assert {i for i in ids if after[i] != before[i]} == {ids[3]}
    assert after[ids[3]][:3] == (later, False, [
        o if o["rule"] != "deadline" else {**o, "passed": False, "status": "failed",
                                           "reason": "deadline 2026-11-01 is less than 6 weeks away"}
        for o in before[ids[3]][2]])
    assert after[ids[3]][4] == datetime(2026, 11, 1, 16, 0, 0, 1, tzinfo=UTC)  # then: when it passes

    # other rules (8 weeks): every verdict is looked at again, no call rescored
    rules = config.strategy.rules.model_copy(update={"min_weeks_before_deadline": 8})
    stricter = LoadedConfig(config.strategy.model_copy(update={"rules": rules}), config.funding_rules,
                            config.strategy_path)
    result = score_pending(engine, stricter, later)
    assert (result.reason, result.scored_calls, result.verdicts) == ("up to date", 0, 60)
    assert score_pending(engine, stricter, later).verdicts == 0


def test_only_changed_calls_are_read_and_rescored(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60)
    first = score_pending(engine, config, NOW)
    with session_scope(engine) as session:
        call = session.get(Call, ids[7])
        call.text += " Offshore wind and energy islands."
        call.content_hash = content_hash(call.title, call.text)  # as a sync sets it
        moved = session.get(Call, ids[8])
        moved.deadlines = [{"at": "2027-02-20T16:00:00+00:00", "time_assumed": False}]
        moved.content_hash = "a new hash: the deadline moved, title and text did not"
        session.add_all([call, moved])
    with statements(engine) as seen:
        result = score_pending(engine, config, NOW)
    assert (result.reason, result.scored_calls) == ("incremental", 1)
    assert result.model_version == first.model_version
    text_reads = [p for s, p in seen if reads_text(s)]
    assert len(text_reads) == 1 and sorted(text_reads[0]) == sorted([ids[7], ids[8]])
    with Session(engine) as session:
        verdict = session.exec(select(Verdict).where(Verdict.call_id == ids[8])).one()
        assert verdict.content_hash == "a new hash: the deadline moved, title and text did not"
        assert "2027-02-20" in " ".join(o["reason"] for o in verdict.outcomes)
        assert session.exec(select(CorpusModel)).one().drift == 1
    assert score_pending(engine, config, NOW).reason == "up to date"


def test_scores_below_the_floor_are_not_stored_and_the_best_score_is_exact(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, 60, extra=[("Military vessels", "Shipping of weapons on military vessels.")])
    score_pending(engine, config, NOW)
    with Session(engine) as session:
        calls = session.exec(select(Call).order_by(Call.id)).all()
        stored = {(s.call_id, s.focus_area): s for s in session.exec(select(Score))}
        verdicts = {v.call_id: v for v in session.exec(select(Verdict))}
    documents = [prepare(c.id, c.title, c.text) for c in calls]
    best: dict[int, float] = {}
    below = 0
    for area_name, area in config.strategy.focus_areas.items():
        for match in rank(focus_area_query(area_name, area), documents):
            best[match.call_id] = max(best.get(match.call_id, 0.0), match.score)
            row = stored.get((match.call_id, area_name))
            if match.excluded_by is not None:
                assert row is not None and row.explanation[0]["excluded"]
            elif match.score < SCORE_FLOOR:
                below += 1
                assert row is None
            else:
                assert row is not None and row.score == pytest.approx(match.score, abs=1e-6)
    assert below > 0
    assert all(s.score >= SCORE_FLOOR or s.explanation[0].get("excluded") for s in stored.values())
    for call_id, value in best.items():
        assert verdicts[call_id].best_score == pytest.approx(value, abs=1e-6)
    assert ids[-1] in verdicts


def test_strategies_share_one_corpus_model_and_score_as_if_fitted_alone(engine: Any) -> None:
    """Two strategies, one corpus fit; a query phrase found in a single call (dropped by the corpus
    model, which keeps recurring phrases only) becomes the strategy's own column, so its scores are
    those of a vocabulary fitted for it alone (the matcher's rank)."""
    wind = config_with("wind", {"wind": FocusArea(label="Wind", keywords=["offshore wind", "tidal kite"])})
    food = config_with("food", {"food": FocusArea(label="Food", keywords=["precision fermentation", "soil"])})
    add_calls(engine, 60, extra=[("Marine energy", "A tidal kite array for marine energy in the North Sea.")])
    results = score_strategies(engine, [wind, food], NOW)
    assert [r.reason for r in results] == ["first fit", "first fit"]
    with Session(engine) as session:
        corpus = session.exec(select(CorpusModel)).one()
        models = {m.strategy: m for m in session.exec(select(ScoringModel))}
        calls = session.exec(select(Call).order_by(Call.id)).all()
        stored = {(s.strategy, s.call_id): s.score for s in session.exec(select(Score))}
    assert {m.corpus_version for m in models.values()} == {corpus.version}
    assert models["wind"].vocabulary != models["food"].vocabulary  # "tidal kite" is wind's own column
    documents = [prepare(c.id, c.title, c.text) for c in calls]
    for config in (wind, food):
        name, (area_name, area) = config.strategy.name, next(iter(config.strategy.focus_areas.items()))
        for match in rank(focus_area_query(area_name, area), documents):
            assert stored.get((name, match.call_id), 0.0) == pytest.approx(
                match.score if match.score >= SCORE_FLOOR else 0.0, abs=1e-6), (name, match.call_id)
    # a third strategy later: built on the stored corpus model, which is not refitted
    third = config_with("third", {"ships": FocusArea(label="Ships", keywords=["zero-emission vessels"])})
    assert score_pending(engine, third, NOW).reason == "first fit"
    with Session(engine) as session:
        assert session.exec(select(CorpusModel)).one().version == corpus.version
    assert [r.reason for r in score_strategies(engine, [wind, food, third], NOW)] == ["up to date"] * 3


def test_full_rescore_refits_the_corpus_once_per_run(engine: Any) -> None:
    wind = config_with("wind", {"wind": FocusArea(label="Wind", keywords=["offshore wind"])})
    food = config_with("food", {"food": FocusArea(label="Food", keywords=["precision fermentation"])})
    add_calls(engine, 60)
    score_strategies(engine, [wind, food], NOW)
    with statements(engine) as seen:
        results = score_strategies(engine, [wind, food], NOW + timedelta(hours=1), full=True)
    assert [r.reason for r in results] == ["full rescore asked (--all)"] * 2
    assert len([s for s, _ in seen if s.startswith("UPDATE corpus_model")]) == 1
    assert len([s for s, _ in seen if reads_text(s)]) == 1  # the texts are read once for both


@pytest.mark.postgres
def test_up_to_date_on_postgresql_writes_nothing(pg_url: str) -> None:
    """On the PostgreSQL server too: stored outcomes compare equal as JSON text, so an unchanged run
    writes nothing and reads no text; a changed call is rescored."""
    from pipeline.core.db import open_database

    config = load_config(DEFAULT_STRATEGY)
    engine = open_database(pg_url)
    try:
        ids = add_calls(engine, 60)
        assert score_pending(engine, config, NOW).reason == "first fit"
        with statements(engine) as seen:
            assert score_pending(engine, config, NOW + timedelta(minutes=5)).reason == "up to date"
        assert not [s for s, _ in seen if reads_text(s) or s.startswith(("INSERT", "UPDATE", "DELETE"))]
        with session_scope(engine) as session:
            call = session.get(Call, ids[3])
            call.title += " and offshore wind"
            session.add(call)  # an ORM edit without a new content hash: the hash is cleared
        result = score_pending(engine, config, NOW)
        assert (result.reason, result.scored_calls) == ("incremental", 1)
    finally:
        engine.dispose()
