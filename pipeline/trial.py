"""Scoring under a config without changing what is stored (library).

A strategy's stored scores and verdicts are the ones ``score``, ``sync`` and ``serve`` computed from
the config they ran with. A reading command may be given another config under the same strategy name:
a trial file (``fundradar --config other.yaml calls why 411``), an edit not scored yet, or marks not
scored yet. Rescoring the shared database for it would replace the scores every fundraiser and digest
reads, and the next command with the production config would rescore them back.

So :func:`may_rescore` says when a reader may bring the stored scoring up to date itself: the strategy
has none yet, or it was computed from the same focus areas, marks and rules (only calls are behind, as
the next sync would find them). Otherwise :func:`scratch_scored` scores in a scratch SQLite database:
the calls, the corpus model and the strategy's marks and stored scoring are copied into it and
:func:`classifiers.scoring.score_pending` runs there exactly as it would on the shared database, so
the scratch ranking is the one ``fundradar score`` would store, and nothing shared is written.

Copying reads every call's text once (as a refit does): on the 611 calls of the 2026-08-22 recording
`calls why` with a trial file takes about 2.6 s more CPU than reading the stored scores.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.feedback import load_marks, marks_signature
from classifiers.freshness import SCORE_FLOOR, config_queries_hash, identity_of, rules_hash
from pipeline.core.sql import Database, database

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pipeline.config_view import StrategyView
    from pipeline.core.config import LoadedConfig

COPY_CHUNK = 1000


def stored_scoring(source: Engine | Database, config: LoadedConfig) -> str:
    """What the selected strategy's stored scores were computed from: ``none`` (nothing stored yet),
    ``current`` (``config``'s focus areas, marks and rules as they are now) or ``other`` (another
    config: a trial file, or an edit or marks not scored yet). ``source``: an engine, or a read
    connection (:mod:`pipeline.core.sql`)."""
    if isinstance(source, Database):
        return _stored_scoring(source, config)
    from sqlmodel import Session

    with Session(source) as session:
        return _stored_scoring(database(session), config)


def _stored_scoring(db: Database, config: LoadedConfig) -> str:
    return _compared(db, config.strategy.name, lambda marks: config_queries_hash(config, marks),
                     lambda: rules_hash(config))


def _compared(db: Database, name: str, queries_hash: Callable[[str], str], rules: Callable[[], str]) -> str:
    stored = db.first("SELECT m.queries_hash, m.rules_hash FROM scoring_model m WHERE m.strategy = :strategy",
                      {"strategy": name})
    if stored is None:
        return "none"
    marks = marks_signature(load_marks(db, name))
    same = stored[0] == queries_hash(marks) and stored[1] == rules()
    return "current" if same else "other"


def may_rescore(engine: Engine | Database, config: LoadedConfig) -> bool:
    """Whether scoring the shared database for ``config`` keeps what it stores: nothing is stored for
    the selected strategy yet, or it was computed from ``config`` (then only new, changed or due calls
    are rescored, as the next sync would)."""
    return stored_scoring(engine, config) != "other"


def config_name(config: LoadedConfig) -> str:
    """The file the selected strategy was read from, as messages name it."""
    return _shown(config.strategy_path)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def as_strategy(config: LoadedConfig, name: str) -> LoadedConfig:
    """``config`` with its selected strategy under ``name``: a trial file scored with the marks and
    stored scoring of the strategy it is a trial of, whatever name the file gives."""
    if config.strategy.name == name:
        return config
    return replace(config, strategy=config.strategy.model_copy(update={"name": name}))


@contextmanager
def scratch_scored(engine: Engine, config: LoadedConfig, now: datetime) -> Iterator[Engine]:
    """A scratch SQLite database holding what scoring reads of ``engine`` (any database), scored for
    ``config``'s selected strategy by :func:`classifiers.scoring.score_pending`; deleted on exit.
    Read it with the usual functions (:func:`pipeline.calls.list_calls`, Score and Verdict rows)."""
    from classifiers.scoring import score_pending
    from pipeline.core.db import open_database

    with tempfile.TemporaryDirectory(prefix="fundradar-trial-") as folder:
        scratch = open_database(f"sqlite:///{Path(folder) / 'trial.db'}")
        try:
            copy_for_scoring(engine, scratch, config.strategy.name)
            score_pending(scratch, config, now)
            yield scratch
        finally:
            scratch.dispose()


def copy_for_scoring(source: Engine, target: Engine, strategy: str) -> None:
    """Copy every call, the corpus model, and ``strategy``'s marks, scoring model, scores and verdicts
    from ``source`` to ``target`` (an empty database at the same schema), ids kept, in one read
    transaction so the copy is one consistent state."""
    import sqlalchemy as sa

    from pipeline.core.models import Call, CorpusModel, CorpusVocabulary, Mark, Score, ScoringModel, Verdict

    # what scoring reads: every call and the corpus model, and one strategy's marks and stored scoring
    shared, per_strategy = (Call, CorpusModel, CorpusVocabulary), (Mark, ScoringModel, Score, Verdict)
    with source.connect() as reading, reading.begin(), target.begin() as writing:
        for model in (*shared, *per_strategy):
            table: Any = model.__table__
            query = sa.select(table).order_by(*table.primary_key.columns)
            if model in per_strategy:
                query = query.where(table.c.strategy == strategy)
            result = reading.execution_options(yield_per=COPY_CHUNK).execute(query)
            for rows in result.partitions(COPY_CHUNK):
                writing.execute(table.insert(), [dict(row._mapping) for row in rows])


def stored_scores_note(engine: Engine | Database, config: LoadedConfig) -> str | None:
    """One line for stderr when what a command reads (the stored scores of ``config``'s strategies)
    was computed from other focus areas, rules or marks than ``config`` has now; None when it was."""
    stale = [each for each in config.each() if stored_scoring(engine, each) == "other"]
    return _note([(each.strategy.name, each.strategy_path) for each in stale])


def view_scores_note(db: Database, view: StrategyView, by_score: bool = False) -> str | None:
    """:func:`stored_scores_note` of the selected strategy alone, from its view
    (:mod:`pipeline.config_view`): the same line, without loading the config. ``by_score``: the listing
    keeps only calls with a score (a focus area, a minimum score), which a strategy not scored yet has
    none of."""
    scoring = view_scoring(db, view)
    if scoring == "none" and by_score:  # "No calls match." would say its focus areas match none
        stored = db.first("SELECT count(*) FROM call")[0]
        return (f"note: nothing is scored for {view.name} yet ({stored} call{'' if stored == 1 else 's'} "
                "stored); `fundradar score` scores them, and until then a focus area lists no call") \
            if stored else None
    return _note([(view.name, view.path)] if scoring == "other" else [])


def view_scoring(db: Database, view: StrategyView) -> str:
    """:func:`stored_scoring` of the selected strategy, from its view."""
    return _compared(db, view.name, lambda marks: identity_of(view.analysed, marks), lambda: view.rules_hash)


def empty_area_note(db: Database, strategy: str, area: str, scoring: str = "current") -> str | None:
    """The line for a focus area with no stored score while its strategy has some: every call scored
    below the floor (its one keyword in no call), which "No calls match." alone would hide. Not when
    the stored scores are from another config (``scoring`` "other"): an area added since has no score
    because nothing scored it yet."""
    if scoring != "current":
        return None
    params = {"strategy": strategy, "area": area}
    if db.first("SELECT 1 FROM score WHERE strategy = :strategy AND focus_area = :area LIMIT 1", params) \
            or not db.first("SELECT 1 FROM score WHERE strategy = :strategy LIMIT 1", params):
        return None
    return (f"note: focus area {area}: no stored call scores {SCORE_FLOOR:.2f} or more (its keywords, label "
            "and description are far from every call; `fundradar config check` names the keywords no call "
            "has)")


def _note(stale: list[tuple[str, Path]]) -> str | None:
    if not stale:
        return None
    names = ", ".join(f"{name} ({_shown(path)})" for name, path in stale)
    return (f"note: the stored scores of {names} were computed from other focus areas, rules or marks "
            "than the config has now; `fundradar score` stores new ones, `fundradar strategy preview "
            "--config FILE` compares a file without storing")
