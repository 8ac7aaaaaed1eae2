"""Incremental scoring: new and changed calls get Score rows per focus area, every call a Verdict.

``score_pending(engine, loaded_config, now)``:

* A call needs scoring when it has no scores yet, when its title or text changed (``Score.call_hash``)
  or when the scores come from an older model (``Score.model_version``).
* The TF-IDF vocabulary and the focus areas' query vectors are kept in the ``scoring_model`` table
  (one row per strategy): new calls are scored with the stored idf weights and queries, so their scores
  are on the same scale as the old ones without refitting. A table rather than a pickle under data/:
  it lives in the same database (SQLite or PostgreSQL) and transaction as the scores, and it holds data
  (terms, idf, query weights), never code.
* The model is refitted, and every call rescored, when there is none yet, when ``full`` is asked
  (``fundradar score --all``), when the focus areas or the marks changed, or when the calls scored
  since the last fit exceed :data:`REFIT_FRACTION` (10 %) of the corpus the model was fitted on; by then
  idf weights and pseudo-relevance feedback may have drifted noticeably.
* Verdicts (rules and priority) are recomputed for every call on each run: the weeks to a deadline
  depend on ``now``. All writes happen in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.feedback import load_marks, marks_by_area, marks_signature
from classifiers.funding import FundingRules
from classifiers.matcher import (
    EXPLAIN_TERMS,
    Document,
    Query,
    TfidfModel,
    excluded_rows,
    expanded_query,
    focus_area_query,
    prepare,
    project,
    query_features,
    score_rows,
)
from classifiers.rules import evaluate_call
from pipeline.config import LoadedConfig
from pipeline.db import session_scope
from pipeline.models import Call, Score, ScoringModel, Verdict

log = logging.getLogger("fundradar.scoring")

REFIT_FRACTION = 0.10


@dataclass
class ScoringResult:
    strategy: str
    refitted: bool
    reason: str  # why the model was refitted, or "incremental" / "up to date"
    scored_calls: int
    total_calls: int
    focus_areas: int
    verdicts: int
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def call_hash(call: Call) -> str:
    """What the scores depend on: the title and the text."""
    return hashlib.sha1(f"{call.title}\x00{call.text}".encode()).hexdigest()[:16]


METHOD = "tfidf+lsa100"  # part of the model's identity: a new scoring method refits stored models


def _queries_hash(queries: Sequence[Query], marks_sig: str) -> str:
    data = [[q.name, list(q.terms), q.description, list(q.exclude)] for q in queries]
    text = json.dumps(data, ensure_ascii=False) + marks_sig + METHOD
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _vector_to_json(vector: Any, names: np.ndarray) -> dict[str, float]:
    coo = vector.tocoo()
    return {str(names[c]): float(v) for c, v in zip(coo.col, coo.data, strict=True) if v > 0}


def _vector_from_json(weights: dict[str, float], model: TfidfModel) -> Any:
    cols = [model.vocabulary[t] for t in weights if t in model.vocabulary]
    vals = [weights[t] for t in weights if t in model.vocabulary]
    return sparse.csr_matrix((np.array(vals, dtype=np.float32), ([0] * len(cols), cols)),
                             shape=(1, len(model.vocabulary)))


SCORE_BLOCK = 2000  # calls scored together against every focus area before their rows are written


def _score_rows(model: TfidfModel, vectors: Sequence[Any], queries: Sequence[Query],
                documents: Sequence[Document], matrix: Any, names: np.ndarray,
                excluded: Sequence[dict[int, str]], strategy: str, hashes: dict[int, str],
                version: str, now: datetime, block: int = SCORE_BLOCK) -> Iterator[dict[str, Any]]:
    """The Score rows of ``documents`` for every focus area, generated call by call.

    Blocks of ``block`` calls are scored against each area's vector, then written in call
    order: each call's row in the call table is then looked up (foreign key) once per block instead of
    once per area pass over the whole table, and memory holds one block's explanations only."""
    for start in range(0, len(documents), block):
        rows = matrix[start:start + block]
        projection = project(model, rows)
        results = []
        for vector in vectors:
            scores, terms = score_rows(vector, rows, names, EXPLAIN_TERMS, model=model, projection=projection)
            results.append((np.round(scores.astype(np.float64), 6).tolist(), terms))
        for offset, document in enumerate(documents[start:start + block]):
            index = start + offset
            call_hash = hashes[document.call_id]
            for query, area_excluded, (scores, terms) in zip(queries, excluded, results, strict=True):
                phrase = area_excluded.get(index)
                if phrase is not None:
                    score, explanation = 0.0, [{"term": phrase, "weight": 0.0, "excluded": True}]
                else:
                    score = scores[offset]
                    explanation = [{"term": t, "weight": w} for t, w in terms[offset]] if score > 0 else []
                yield {"call_id": document.call_id, "strategy": strategy, "focus_area": query.name,
                       "score": score, "explanation": explanation, "call_hash": call_hash,
                       "model_version": version, "computed_at": now}


INSERT_CHUNK = 5000


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(session: Session, table: Any, rows: Iterable[dict[str, Any]], chunk: int = INSERT_CHUNK) -> None:
    """Insert ``rows`` (dicts with the same keys) in chunks of ``chunk``: memory stays bounded however
    many rows are generated.

    On SQLite the rows go to the driver's ``executemany`` as tuples, each value converted by its
    column type's own bind processor (JSON, UTC time), a converted value reused while the same object
    repeats (the run's time): SQLAlchemy's per-row statement bookkeeping was most of the time of a
    full rescore. Other databases get SQLAlchemy's executemany (on PostgreSQL already batched as
    multi-row VALUES)."""
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        for batch in _batches(rows, chunk):
            connection.execute(sa.insert(table), batch)
        return
    statement, keys, convert = "", [], []
    for batch in _batches(rows, chunk):
        if not statement:
            compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(batch[0]))
            statement, keys = str(compiled), list(compiled.positiontup or [])
            convert = [_cached(table.c[key].type.bind_processor(dialect)) for key in keys]
        connection.exec_driver_sql(statement, [tuple([f(row[k]) for k, f in zip(keys, convert, strict=True)])
                                               for row in batch])


def _cached(processor: Any) -> Any:
    if processor is None:
        return _same
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]

    return convert


def _same(value: Any) -> Any:
    return value


def score_pending(engine: Engine, loaded_config: LoadedConfig, now: datetime, *,
                  full: bool = False, block: int = SCORE_BLOCK) -> ScoringResult:
    """Score what needs scoring (see the module's doc), apply the rules to every call, store both.
    ``block`` calls are scored together (memory grows with block × focus areas)."""
    strategy = loaded_config.strategy
    name = strategy.name
    queries = [focus_area_query(area_name, area) for area_name, area in strategy.focus_areas.items()]
    with session_scope(engine) as session:
        calls = list(session.exec(select(Call).order_by(Call.id)))
        hashes = {c.id: call_hash(c) for c in calls}
        marks = load_marks(session, name)
        queries_hash = _queries_hash(queries, marks_signature(marks))
        stored = session.exec(select(ScoringModel).where(ScoringModel.strategy == name)).first()
        existing: dict[int, tuple[str, str, int]] = {
            cid: (h, v, n) for cid, h, v, n in session.execute(
                sa.select(Score.call_id, sa.func.min(Score.call_hash), sa.func.min(Score.model_version),
                          sa.func.count()).where(Score.strategy == name).group_by(Score.call_id))}
        version = stored.version if stored else ""
        pending = [c for c in calls if existing.get(c.id) != (hashes[c.id], version, len(queries))]

        reason = ""
        if full:
            reason = "full rescore asked (--all)"
        elif stored is None:
            reason = "first fit"
        elif stored.queries_hash != queries_hash:
            reason = "focus areas or marks changed"
        elif stored.drift + len(pending) > REFIT_FRACTION * max(stored.corpus_size, 1):
            reason = f"more than {REFIT_FRACTION:.0%} of the calls new or changed since the last fit"

        if reason and calls:
            version = _refit(session, stored, calls, hashes, queries, queries_hash, marks, name, now, block)
            scored, refitted = len(calls), True
        elif pending and stored is not None:
            _incremental(session, stored, pending, hashes, queries, name, now, block)
            scored, refitted, reason = len(pending), False, "incremental"
        else:
            scored, refitted, reason = 0, False, "up to date" if calls else "no calls stored"
        verdicts = _write_verdicts(session, calls, loaded_config, name, now)
    log.info("scored %d of %d calls for %s (%s)", scored, len(calls), name, reason)
    return ScoringResult(name, refitted, reason, scored, len(calls), len(queries), verdicts, version)


def _refit(session: Session, stored: ScoringModel | None, calls: list[Call], hashes: dict[int, str],
           queries: list[Query], queries_hash: str, marks: list[Any], name: str, now: datetime,
           block: int = SCORE_BLOCK) -> str:
    documents = [prepare(c.id, c.title, c.text) for c in calls]  # type: ignore[arg-type]
    keep: set[str] = set().union(*(query_features(q) for q in queries)) if queries else set()
    model, matrix = TfidfModel.fit(documents, keep=keep)
    names = model.terms()
    row_of = {d.call_id: i for i, d in enumerate(documents)}
    by_area = marks_by_area(marks, [q.name for q in queries])
    corpus = ",".join(f"{c.id}:{hashes[c.id]}" for c in calls)
    version = hashlib.sha1(f"{queries_hash}|{corpus}".encode()).hexdigest()[:12]
    query_json: dict[str, Any] = {}
    vectors, excluded = [], []
    for query in queries:
        area_marks = by_area[query.name]
        excluded.append(excluded_rows(documents, query.exclude))
        vectors.append(expanded_query(
            model, query, documents, matrix, excluded=excluded[-1],
            relevant=[row_of[c] for c in sorted(area_marks.relevant) if c in row_of],
            irrelevant=[row_of[c] for c in sorted(area_marks.irrelevant) if c in row_of]))
        query_json[query.name] = _vector_to_json(vectors[-1], names)
    session.execute(sa.delete(Score).where(Score.strategy == name))
    _insert(session, Score.__table__, _score_rows(model, vectors, queries, documents, matrix, names, excluded,
                                                  name, hashes, version, now, block))
    if stored is None:
        stored = ScoringModel(strategy=name, version=version, vocabulary=b"")
    stored.version, stored.corpus_size, stored.drift = version, len(calls), 0
    stored.queries_hash, stored.queries, stored.fitted_at = queries_hash, query_json, now
    stored.vocabulary = model.to_bytes()
    session.add(stored)
    return version


def _incremental(session: Session, stored: ScoringModel, pending: list[Call], hashes: dict[int, str],
                 queries: list[Query], name: str, now: datetime, block: int = SCORE_BLOCK) -> None:
    model = TfidfModel.from_bytes(stored.vocabulary)
    names = model.terms()
    documents = [prepare(c.id, c.title, c.text) for c in pending]  # type: ignore[arg-type]
    matrix = model.transform_documents(documents)
    ids = [c.id for c in pending]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        session.execute(sa.delete(Score).where(Score.strategy == name, Score.call_id.in_(chunk)))
    vectors = [_vector_from_json(stored.queries.get(query.name, {}), model) for query in queries]
    excluded = [excluded_rows(documents, query.exclude) for query in queries]
    _insert(session, Score.__table__, _score_rows(model, vectors, queries, documents, matrix, names, excluded,
                                                  name, hashes, stored.version, now, block))
    stored.drift += len(pending)
    session.add(stored)


def _write_verdicts(session: Session, calls: list[Call], loaded_config: LoadedConfig, name: str,
                    now: datetime) -> int:
    best = dict(session.execute(sa.select(Score.call_id, sa.func.max(Score.score))
                                .where(Score.strategy == name).group_by(Score.call_id)).all())
    funding = FundingRules(loaded_config.funding_rules)
    rows = []
    for call in calls:
        verdict = evaluate_call(call, loaded_config.strategy, funding, now, best_score=best.get(call.id))
        rows.append({"call_id": call.id, "strategy": name, "passed": verdict.passed,
                     "outcomes": [o.as_dict() for o in verdict.outcomes],
                     "success_rate": verdict.success_rate, "funding_rate": verdict.funding_rate,
                     "expected_value": verdict.expected_value, "priority": verdict.priority,
                     "computed_at": now})
    session.execute(sa.delete(Verdict).where(Verdict.strategy == name))
    _insert(session, Verdict.__table__, rows)
    return len(rows)
