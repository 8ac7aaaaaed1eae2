"""What a strategy's scores and verdicts were computed from, and whether one call's are current — without
numpy, scipy or scikit-learn, so that explaining an up-to-date call is a few queries.

:mod:`classifiers.scoring` stores these identities (``scoring_model.queries_hash`` and ``rules_hash``,
a verdict's ``content_hash`` and ``model_version``) and decides from them what to rescore; the same
functions answer here whether it would rescore a given call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from classifiers.feedback import load_marks, marks_signature
from classifiers.query import Query, focus_area_query
from classifiers.rules import REASONS_VERSION
from pipeline.core.config import LoadedConfig
from pipeline.core.models import Call, CorpusModel, ScoringModel, Verdict

SCORE_FLOOR = 0.05  # scores below it are not stored (classifiers.scoring)
# part of the models' identity: a new scoring method refits stored models
METHOD = "tfidf+lsa50+units+gate+novel+translated"


def queries_hash(queries: Sequence[Query], marks_sig: str) -> str:
    """The identity of a strategy's queries: its focus areas as analysed (the label and the
    translations too: the gate reads them), its marks, the method."""
    data = [[q.name, [list(g) for g in q.units()], q.description, list(q.exclude), q.label,
             [list(t) for t in q.translations]] for q in queries]
    text = json.dumps(data, ensure_ascii=False) + marks_sig + METHOD
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# focus areas already made into queries by this process, by name and the area as JSON: analysing the
# keywords and their translations (Nordic forms included) costs more than scoring a few new calls, and
# a long-lived process scores the same areas run after run. A Query is frozen, so sharing it is safe.
_QUERIES: dict[tuple[str, str], Query] = {}
_QUERIES_KEPT = 512


def strategy_queries(loaded_config: LoadedConfig) -> list[Query]:
    queries = []
    for name, area in loaded_config.strategy.focus_areas.items():
        key = (name, area.model_dump_json())
        query = _QUERIES.get(key)
        if query is None:
            if len(_QUERIES) >= _QUERIES_KEPT:
                _QUERIES.clear()
            query = _QUERIES[key] = focus_area_query(name, area)
        queries.append(query)
    return queries


def rules_hash(loaded_config: LoadedConfig) -> str:
    """What the verdicts depend on besides the calls and the clock: the strategy's rules and home
    country, the funding rules, and the wording of the reasons."""
    strategy = loaded_config.strategy
    data = [strategy.rules.model_dump(mode="json"), strategy.home_country,
            loaded_config.funding_rules.model_dump(mode="json"), REASONS_VERSION]
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def call_is_current(session: Session, loaded_config: LoadedConfig, call_id: int, now: datetime) -> bool:
    """True when :func:`classifiers.scoring.score_pending` would leave this call's scores and verdict as
    stored: the models fitted with this method, the queries and the rules unchanged since, and the
    call's verdict made from its current content by the current model and not due for a recheck."""
    name = loaded_config.strategy.name
    # the identities only: not the models' vocabularies, queries and gates (megabytes to read)
    identity = (ScoringModel.version, ScoringModel.corpus_version, ScoringModel.rules_hash,
                ScoringModel.queries_hash)
    stored = session.execute(sa.select(*identity).where(ScoringModel.strategy == name)).first()
    corpus_row = session.execute(sa.select(CorpusModel.version, CorpusModel.method)).first()
    if stored is None or corpus_row is None or corpus_row.method != METHOD \
            or stored.corpus_version != corpus_row.version or stored.rules_hash != rules_hash(loaded_config):
        return False
    if stored.queries_hash != queries_hash(strategy_queries(loaded_config),
                                           marks_signature(load_marks(session, name))):
        return False
    verdict, call = Verdict.__table__, Call.__table__
    current = sa.select(verdict.c.id).select_from(
        sa.join(call, verdict, sa.and_(verdict.c.call_id == call.c.id, verdict.c.strategy == name))
    ).where(call.c.id == call_id, sa.func.coalesce(call.c.content_hash, "") != "",
            verdict.c.content_hash == call.c.content_hash, verdict.c.model_version == stored.version,
            sa.or_(verdict.c.recheck_at.is_(None), verdict.c.recheck_at > now))
    return session.execute(current).first() is not None
