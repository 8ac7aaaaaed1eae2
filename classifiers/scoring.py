"""Incremental scoring: new and changed calls get Score rows per focus area, every call a Verdict.

``score_pending(engine, loaded_config, now)`` scores one strategy; ``score_strategies(engine, configs,
now)`` several, sharing one read of the texts and one corpus model (:mod:`classifiers.corpus`).

* **Which calls need scoring** is decided from light columns only. A strategy's Verdict row of a call
  records what its scores were computed from: ``call_hash`` (title and text), the call's
  ``content_hash`` at the time and the strategy's ``model_version``. A call whose content hash and the
  model version are unchanged is up to date without reading its text. Title and text are read only for
  calls that are new, whose content hash changed (the watcher sets a new one whenever a tracked field,
  title and text included, changes; an ORM edit of title or text clears it, see :mod:`pipeline.core.models`)
  or whose content hash is empty; of those, a call whose title and text hash is unchanged keeps its
  scores (only its marker is updated).
* **Models.** The TF-IDF vocabulary, idf weights and LSA space form the corpus model, fitted without
  labels once for every strategy (``corpus_model``, ``corpus_vocabulary``); each strategy keeps its
  focus areas' query vectors and its few extra phrase columns (``scoring_model``). New calls are
  scored with the stored weights and queries, on the same scale as the old ones, without refitting.
  Tables rather than pickles: they live in the same database and transaction as the scores, and hold
  data, never code.
* **Refits.** The corpus model is refitted, and every call rescored, when there is none, when ``full``
  is asked (``fundradar score --all``; once per run however many strategies), or when the calls new or
  changed since its fit exceed :data:`REFIT_FRACTION` (10 %) of the calls it was fitted on (idf weights
  and the latent space may have drifted by then). A strategy's queries are rebuilt and every call
  rescored for it, on the stored corpus model, when it has none yet, when its focus areas or marks
  changed, or when the corpus model was refitted since.
* **Scores below the floor are not stored.** A Score row is kept when the score is at least
  :data:`SCORE_FLOOR` or the call is excluded from the area (the row names the exclude phrase); no row
  means "below the floor". The call's exact best score is kept on its Verdict (the priority uses it).
* **Verdicts** (rules and priority) are computed from light columns. Each records ``recheck_at``, the
  first moment the clock alone may change it (:func:`classifiers.rules.recheck_at`: its deadline
  comes closer than the minimum weeks, or passes). With the queries and the rules unchanged since the
  last run (``scoring_model.rules_hash``), a run looks only at the due calls: new, changed, scored
  with another model, or past their ``recheck_at``; otherwise at every call. Only rows whose outcome,
  priority or marker changed are written, in bulk. Each strategy's writes happen in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.corpus import METHOD, Corpus, extend, extras_from_bytes, extras_to_bytes, text_hash
from classifiers.feedback import load_marks, marks_by_area, marks_signature
from classifiers.freshness import SCORE_FLOOR, strategy_queries  # noqa: F401 (part of this module's interface)
from classifiers.freshness import queries_hash as _queries_hash
from classifiers.freshness import rules_hash as _rules_hash
from classifiers.matcher import (
    Query,
    context_vector,
    excluded_rows,
    expanded_query,
    query_features,
)
from classifiers.rules import priority
from classifiers.run_rules import shared_rules
from classifiers.score_blocks import SCORE_BLOCK, score_blocks
from classifiers.stored_queries import keep_gates, prepared_queries, vector_to_json
from pipeline.core.bulk import insert_rows, update_by_id
from pipeline.core.config import LoadedConfig
from pipeline.core.db import session_scope
from pipeline.core.locks import hold_for_transaction
from pipeline.core.models import Call, CorpusModel, Score, ScoringModel, Verdict

log = logging.getLogger("fundradar.scoring")

REFIT_FRACTION = 0.10
READ_CHUNK = 500
# what the rules read (classifiers.rules.evaluate_call) and the up-to-date check: never title or text;
# the table's columns, read through the connection: the same rows without the ORM's per-row loading
# (a third of reading 100,000 of them, once per strategy)
LIGHT_COLUMNS = tuple(Call.__table__.c[name] for name in (
    "id", "content_hash", "programme", "topic_id", "type_of_action", "funding_rate", "max_contribution",
    "deadline", "deadlines"))
MARKER = ("call_hash", "content_hash", "model_version", "best_score")
SERIALIZED = ("explanation",)  # score_blocks yields the explanations as JSON text
VERDICT = ("passed", "success_rate", "funding_rate", "expected_value", "priority", "recheck_at",
           "computed_at", *MARKER)


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
    return text_hash(call.title, call.text)


def score_pending(engine: Engine, loaded_config: LoadedConfig, now: datetime, *, full: bool = False,
                  block: int = SCORE_BLOCK, corpus: Corpus | None = None) -> ScoringResult:
    """Score what needs scoring for one strategy (see the module's doc), apply the rules to every call,
    store both. ``block`` calls are scored together (memory grows with block × focus areas); ``corpus``
    shares texts and the corpus model with other strategies scored in the same run."""
    corpus = Corpus() if corpus is None else corpus
    queries = strategy_queries(loaded_config)  # built once: the up-to-date check and the scoring use them
    result = None if full else _up_to_date(engine, loaded_config, queries, now)
    if result is None:
        with session_scope(engine) as session:
            # one scoring writes at a time (the corpus model is shared by every strategy): on PostgreSQL
            # a second one waits here and then finds the calls scored, where it collided on their keys;
            # SQLite's BEGIN IMMEDIATE already queues writers
            hold_for_transaction(session, "scoring")
            result = _score(session, loaded_config, queries, now, corpus, full, block)
    log.info("scored %d of %d calls for %s (%s)", result.scored_calls, result.total_calls, result.strategy,
             result.reason)
    return result


def _one_blas_thread() -> Any:
    """BLAS limited to one thread while the calls are scored against the areas: the products are many
    and small (a query against a block of calls, 50 latent dimensions), where a thread pool costs more
    to wake and join than it saves, and on a machine whose CPUs are busy the waiting threads spin: a
    50 × 10,000 product took 38 ms with the pool and 0.2 ms without. The corpus model's fit keeps the
    pool (its SVD's results depend on the number of threads)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _up_to_date(engine: Engine, loaded_config: LoadedConfig, queries: list[Query], now: datetime
                ) -> ScoringResult | None:
    """The result :func:`_score` would give when it has nothing to write, found in a read transaction;
    None when something may need writing. Then no write lock is taken: a reader such as ``calls why``
    never waits behind another process's held write lock for a run that changes nothing.

    Nothing to write means: the models fitted with this method and current, the queries, the marks and
    the rules unchanged, the corpus model's drift within :data:`REFIT_FRACTION`, and no call due
    (:func:`_light`)."""
    name = loaded_config.strategy.name
    with Session(engine) as session:
        # the identities only: not the models' vocabularies, queries and gates (megabytes to read)
        stored = session.execute(sa.select(ScoringModel.version, ScoringModel.corpus_version,
                                           ScoringModel.rules_hash, ScoringModel.queries_hash)
                                 .where(ScoringModel.strategy == name)).first()
        corpus_row = session.execute(sa.select(CorpusModel.version, CorpusModel.method, CorpusModel.drift,
                                               CorpusModel.corpus_size)).first()
        if stored is None or corpus_row is None or corpus_row.method != METHOD \
                or stored.corpus_version != corpus_row.version \
                or stored.rules_hash != _rules_hash(loaded_config) \
                or corpus_row.drift > REFIT_FRACTION * max(corpus_row.corpus_size, 1):
            return None
        if stored.queries_hash != _queries_hash(queries, marks_signature(load_marks(session, name))):
            return None
        # whether any call is due, not which: when one is, _score reads them all in its own transaction
        if session.execute(_due(sa.select(Call.id), name, stored.version, now).limit(1)).first():
            return None
        total = _count_calls(session)
    return ScoringResult(name, False, "up to date" if total else "no calls stored", 0, total, len(queries), 0,
                         stored.version)


def score_strategies(engine: Engine, configs: Sequence[LoadedConfig], now: datetime, *, full: bool = False,
                     block: int = SCORE_BLOCK) -> list[ScoringResult]:
    """:func:`score_pending` for each strategy, the texts read and the corpus model fitted once."""
    corpus = Corpus()
    return [score_pending(engine, config, now, full=full, block=block, corpus=corpus) for config in configs]


def _stale(marker: Any, content_hash: str, version: str) -> bool:
    return (marker is None or marker.model_version != version or not content_hash
            or marker.content_hash != content_hash)


def _score(session: Session, loaded_config: LoadedConfig, queries: list[Query], now: datetime,
           corpus: Corpus, full: bool, block: int) -> ScoringResult:
    name = loaded_config.strategy.name
    marks = load_marks(session, name)
    queries_hash = _queries_hash(queries, marks_signature(marks))
    stored = session.exec(select(ScoringModel).where(ScoringModel.strategy == name)).first()
    corpus_row = session.exec(select(CorpusModel)).first()
    version = stored.version if stored else ""
    rules_hash = _rules_hash(loaded_config)

    method_changed = corpus_row is not None and corpus_row.method != METHOD
    reason, refit_corpus = "", corpus_row is None or method_changed or (full and not corpus.refitted)
    if full:
        reason = "full rescore asked (--all)"
    elif method_changed:
        reason = "scoring method changed"
    elif stored is None:
        reason = "first fit"
    elif stored.queries_hash != queries_hash:
        reason = "focus areas or marks changed"
    elif corpus_row is None or stored.corpus_version != corpus_row.version:
        reason = "corpus model refitted"

    # with the queries and the rules as stored, only the due calls are read (new, changed, scored with
    # another model, or whose verdict the clock may have changed); otherwise every call
    due_only = not (reason or refit_corpus) and stored is not None and stored.rules_hash == rules_hash
    light, markers = _light(session, name, version, now, due_only)
    total = _count_calls(session) if due_only else len(light)
    pending: list[int] = []
    checked: list[int] = []  # text read: new marker, scores kept when the text hash is unchanged
    new_drift = 0
    if not refit_corpus and not full:
        checked = [row.id for row in light if _stale(markers.get(row.id), row.content_hash, version)]
        corpus.read(session, checked)
        changed = [i for i in checked
                   if markers.get(i) is None or markers[i].call_hash != corpus.texts[i].call_hash]
        changed_set = set(changed)
        pending = [i for i in checked if i in changed_set or markers[i].model_version != version]
        new_drift = _new_to_corpus(session, corpus, changed)
        assert corpus_row is not None
        if corpus_row.drift + new_drift > REFIT_FRACTION * max(corpus_row.corpus_size, 1):
            reason = reason or (f"more than {REFIT_FRACTION:.0%} of the calls new or changed "
                                "since the last fit")
            refit_corpus = True
    if due_only and refit_corpus:  # a refit rescores every call
        light, markers = _light(session, name, version, now, due_only=False)
    ids = [row.id for row in light]

    best: dict[int, float] = {}
    if (reason or refit_corpus) and ids:
        corpus.read(session, ids)
        if refit_corpus:
            corpus.fit(session, ids, now)
        else:
            assert corpus_row is not None
            corpus.use(session, corpus_row)
            corpus_row.drift += new_drift
            session.add(corpus_row)
        version = _rebuild(session, corpus, stored, ids, queries, queries_hash, marks, name, now, block, best)
        scored, refitted, checked = ids, True, ids
    elif pending:
        assert stored is not None and corpus_row is not None
        corpus.use(session, corpus_row)
        _incremental(session, corpus, stored, pending, queries, name, now, block, best)
        corpus_row.drift += new_drift
        session.add(corpus_row)
        scored, refitted, reason = pending, False, "incremental"
    else:
        scored, refitted, reason = [], False, "up to date" if total else "no calls stored"
    verdicts = _write_verdicts(session, light, markers, best, corpus, set(checked), version, loaded_config,
                               now)
    model_row = stored if stored is not None else session.exec(
        select(ScoringModel).where(ScoringModel.strategy == name)).first()
    if model_row is not None and model_row.rules_hash != rules_hash:
        model_row.rules_hash = rules_hash
        session.add(model_row)
    return ScoringResult(name, refitted, reason, len(scored), total, len(queries), verdicts, version)


def _light(session: Session, name: str, version: str, now: datetime, due_only: bool
           ) -> tuple[Sequence[Any], dict[int, Any]]:
    """The light columns of the calls to look at, in id order, and their stored verdict markers: every
    call, or with ``due_only`` the calls without a verdict, whose content hash changed (or is empty),
    scored with another model version, or whose verdict is due for a recheck (``recheck_at`` passed) or
    was computed for a later moment than ``now`` (a run ``--as-of`` an earlier day: a verdict holds from
    its ``computed_at`` to its ``recheck_at``, and the deadline rule may judge an earlier day otherwise)."""
    verdict, call, connection = Verdict.__table__, Call.__table__, session.connection()
    marker_columns = (verdict.c.id, verdict.c.call_id, *(verdict.c[k] for k in VERDICT),
                      sa.cast(verdict.c.outcomes, sa.Text).label("outcomes_json"))
    if not due_only:
        light = connection.execute(sa.select(*LIGHT_COLUMNS).order_by(call.c.id)).all()
        return light, {row.call_id: row for row in session.execute(
            sa.select(*marker_columns).where(verdict.c.strategy == name))}
    # the due ids first, from call's id and hash alone: SQLite then scans ix_call_content_hash, not the
    # call rows (their text comes first); the light columns are read for the due calls only
    ids = sorted(session.execute(_due(sa.select(Call.id), name, version, now)).scalars())
    light: list[Any] = []
    markers: dict[int, Any] = {}
    for start in range(0, len(ids), READ_CHUNK):
        chunk = ids[start:start + READ_CHUNK]
        light.extend(connection.execute(sa.select(*LIGHT_COLUMNS).where(call.c.id.in_(chunk)).order_by(call.c.id)))
        markers.update((row.call_id, row) for row in session.execute(
            sa.select(*marker_columns).where(verdict.c.strategy == name, verdict.c.call_id.in_(chunk))))
    return light, markers


def _due(query: sa.Select, name: str, version: str, now: datetime) -> sa.Select:
    """``query`` over the calls due for scoring or a verdict (see :func:`_light`)."""
    verdict = Verdict.__table__
    mine = sa.and_(verdict.c.call_id == Call.id, verdict.c.strategy == name)
    joined = sa.join(Call.__table__, verdict, mine, isouter=True)
    return query.select_from(joined).where(sa.or_(
        verdict.c.id.is_(None), sa.func.coalesce(Call.content_hash, "") == "",
        verdict.c.content_hash != Call.content_hash, verdict.c.model_version != version,
        verdict.c.recheck_at <= now, verdict.c.computed_at > now))


def _count_calls(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(Call.__table__)).scalar_one())


def _new_to_corpus(session: Session, corpus: Corpus, changed: list[int]) -> int:
    """How many of ``changed`` (new or changed calls, texts read) no strategy has scored in their current
    form yet: those are new to the corpus model (counted once, by the first strategy that scores them)."""
    seen: set[tuple[int, str]] = set()
    for start in range(0, len(changed), READ_CHUNK):
        chunk = changed[start:start + READ_CHUNK]
        seen.update((i, h) for i, h in session.execute(
            sa.select(Verdict.call_id, Verdict.call_hash).distinct().where(Verdict.call_id.in_(chunk))))
    return sum(1 for i in changed if (i, corpus.texts[i].call_hash) not in seen)


def _rebuild(session: Session, corpus: Corpus, stored: ScoringModel | None, ids: list[int],
             queries: list[Query], queries_hash: str, marks: list[Any], name: str, now: datetime,
             block: int, best: dict[int, float]) -> str:
    """Build the strategy's queries on the corpus model and rescore every call for it."""
    keep: set[str] = set().union(*(query_features(q) for q in queries)) if queries else set()
    extras = corpus.extra_phrases(keep, ids, corpus.size)
    model, matrix = corpus.extended(extras, ids)
    names = model.terms() if extras else corpus.names()
    documents = corpus.documents(ids)
    row_of = {call_id: i for i, call_id in enumerate(ids)}
    by_area = marks_by_area(marks, [q.name for q in queries])
    version = hashlib.sha1(f"{queries_hash}|{corpus.version}".encode()).hexdigest()[:12]
    query_json: dict[str, Any] = {}
    vectors, excluded = [], []
    for query in queries:
        area_marks = by_area[query.name]
        excluded.append(corpus.excluded_rows(ids, query.exclude))
        vectors.append(expanded_query(
            model, query, documents, matrix, excluded=excluded[-1],
            relevant=[row_of[c] for c in sorted(area_marks.relevant) if c in row_of],
            irrelevant=[row_of[c] for c in sorted(area_marks.irrelevant) if c in row_of]))
        query_json[query.name] = vector_to_json(vectors[-1], names)
    session.execute(sa.delete(Score).where(Score.strategy == name))
    # the LSA score and explanation of a call do not depend on its row's length, so the corpus rows'
    # projection serves every strategy, extra phrase columns or not
    projection = corpus.projection(ids)
    with _one_blas_thread():
        contexts = [context_vector(model, query) for query in queries]
        # kept as an incremental run would build them, on the model read back from the database
        loaded = model.as_stored()
        kept = contexts if loaded is model else [context_vector(loaded, query) for query in queries]
        rows = score_blocks(model, vectors, queries, documents, matrix, names, excluded, contexts, name, now,
                           best, projection, block)
        insert_rows(session, Score.__table__, rows, serialized=SERIALIZED)
    if stored is None:
        stored = ScoringModel(strategy=name, version=version, vocabulary=b"")
    stored.version, stored.corpus_size, stored.drift = version, corpus.size, 0
    stored.queries_hash, stored.queries, stored.fitted_at = queries_hash, query_json, now
    stored.vocabulary, stored.corpus_version = extras_to_bytes(extras), corpus.version
    keep_gates(stored, queries, kept, names)
    session.add(stored)
    return version


def _incremental(session: Session, corpus: Corpus, stored: ScoringModel, pending: list[int],
                 queries: list[Query], name: str, now: datetime, block: int, best: dict[int, float]) -> None:
    extras = extras_from_bytes(stored.vocabulary)
    model = extend(corpus.model, extras)
    names = model.terms() if extras else corpus.names()
    documents = corpus.documents(pending)
    matrix = model.transform_documents(documents)
    for start in range(0, len(pending), READ_CHUNK):
        chunk = pending[start:start + READ_CHUNK]
        session.execute(sa.delete(Score).where(Score.strategy == name, Score.call_id.in_(chunk)))
    excluded = [excluded_rows(documents, query.exclude) for query in queries]
    with _one_blas_thread():
        vectors, contexts, built = prepared_queries(stored, model, queries, names)
        insert_rows(session, Score.__table__, score_blocks(model, vectors, queries, documents, matrix, names,
                                                          excluded, contexts, name, now, best, None, block,
                                                          built), serialized=SERIALIZED)
    stored.drift += len(pending)
    session.add(stored)


def _write_verdicts(session: Session, light: Sequence[Any], markers: dict[int, Any], best: dict[int, float],
                    corpus: Corpus, checked: set[int], version: str, loaded_config: LoadedConfig,
                    now: datetime) -> int:
    """The rules and priority of the calls in ``light`` from their light columns; only new and changed
    rows are written.

    The rules' outcome depends on the call only through what :func:`classifiers.run_rules.rules_key` and
    :func:`classifiers.rules.deadline_key` collect, and many calls share each (a programme, a type of
    action; a deadline's date and which side of the minimum it is on), so each part is computed once per
    run (:class:`classifiers.run_rules.RunRules`, which also remembers each call's answer for the next
    strategy with the same rules); the priority (best score × value factor) is then computed per call
    and strategy, as :func:`evaluate_call` does.
    Stored outcomes are compared as their JSON text, without decoding them."""
    name = loaded_config.strategy.name
    rules = shared_rules(corpus.shared_rules, loaded_config, now)
    inserts, updates = [], []
    for row in light:
        old = markers.get(row.id)
        if row.id in checked:
            text = corpus.texts[row.id]
            top = best[row.id] if row.id in best else (old.best_score if old is not None else None)
            marker = {"call_hash": text.call_hash, "content_hash": text.content_hash,
                      "model_version": version, "best_score": top}
        elif old is not None:
            marker = {key: getattr(old, key) for key in MARKER}
        else:  # not scored (no focus areas or no model yet)
            marker = {"call_hash": "", "content_hash": "", "model_version": version, "best_score": None}
        passed, outcomes, outcomes_json, success, rate, expected, recheck = rules.of_call(row)
        value = priority(marker["best_score"], expected)
        if old is not None and old.outcomes_json == outcomes_json and old.priority == value \
                and old.passed == passed and old.expected_value == expected and old.success_rate == success \
                and old.funding_rate == rate and old.recheck_at == recheck and old.computed_at <= now \
                and (row.id not in checked or all(
                    getattr(old, k) == marker[k] for k in MARKER)):
            continue  # unchanged
        values = {"passed": passed, "outcomes": outcomes, "success_rate": success, "funding_rate": rate,
                  "expected_value": expected, "priority": value, "recheck_at": recheck, **marker,
                  "computed_at": now}
        if old is None:  # the outcomes as their JSON text: the same bytes, written without a json.dumps
            inserts.append({"call_id": row.id, "strategy": name, **values, "outcomes": outcomes_json})
        else:
            updates.append({"id": old.id, **values})
    insert_rows(session, Verdict.__table__, inserts, serialized=("outcomes",))
    update_by_id(session, Verdict.__table__, updates)
    return len(light)
