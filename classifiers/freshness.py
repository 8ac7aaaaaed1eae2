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
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.feedback import load_marks, marks_signature
from pipeline.core.sql import Database, database

if TYPE_CHECKING:
    from sqlmodel import Session

    from classifiers.query import Query
    from pipeline.core.config import LoadedConfig

SCORE_FLOOR = 0.05  # scores below it are not stored (classifiers.scoring)
# part of the models' identity: a new scoring method refits stored models (renamed with every change of
# what the matcher or the stemming computes: a database scored before it would otherwise count as current)
METHOD = "tfidf+lsa50+units+gate+novel+translated-both-ways+unwritten-phrases+invariant-words+evidence"


def queries_hash(queries: Sequence[Query], marks_sig: str) -> str:
    """The identity of a strategy's queries: its focus areas as analysed (the label and the
    translations too: the gate reads them), its marks, the method."""
    return _identity(_analysed(queries), marks_sig)


def _analysed(queries: Sequence[Query]) -> str:
    data = [[q.name, [list(g) for g in q.units()], q.description, list(q.exclude), q.label,
             [list(t) for t in q.translations]] for q in queries]
    return json.dumps(data, ensure_ascii=False)


def _identity(analysed: str, marks_sig: str) -> str:
    return hashlib.sha1((analysed + marks_sig + METHOD).encode()).hexdigest()[:16]


# what analysing a focus area reads besides the config: this code, and the Snowball stemmers
ANALYSIS_CODE = tuple(Path(__file__).resolve().parent / name for name in ("text.py", "query.py"))


def analysis_fingerprint(code: Sequence[Path] = ANALYSIS_CODE) -> str | None:
    """What the analysis of a focus area depends on besides the config: the source of ``code``, the
    installed snowballstemmer release, Python's version and Unicode data; None when the release
    cannot be told without importing it."""
    import importlib.util
    import sys
    import unicodedata

    spec = importlib.util.find_spec("snowballstemmer")
    if spec is None or spec.origin is None:
        return None
    releases = sorted(p.name for p in Path(spec.origin).parent.parent.glob("snowballstemmer-*.dist-info"))
    if len(releases) != 1:
        return None
    digest = hashlib.sha256()
    for path in code:
        digest.update(path.read_bytes())
    return f"{digest.hexdigest()}\0{releases[0]}\0{sys.version}\0{unicodedata.unidata_version}"


def config_queries_hash(loaded_config: LoadedConfig, marks_sig: str) -> str:
    """:func:`queries_hash` of the strategy's focus areas (:func:`strategy_queries`), the analysis kept
    beside the config cache (:func:`analysed_focus_areas`), so that commands which only compare
    identities (the stored-scores note, whether a call is current) neither stem nor import the
    stemmers again."""
    return identity_of(analysed_focus_areas(loaded_config), marks_sig)


def identity_of(analysed: str, marks_sig: str) -> str:
    """:func:`queries_hash` from the focus areas as :func:`analysed_focus_areas` gives them."""
    return _identity(analysed, marks_sig)


def analysed_focus_areas(loaded_config: LoadedConfig) -> str:
    """The selected strategy's focus areas as analysed (what :func:`queries_hash` hashes), kept in
    ``data/cache/queries`` under the focus areas as configured and :func:`analysis_fingerprint`."""
    from pipeline.core import config_cache

    fingerprint = analysis_fingerprint()
    if fingerprint is None:
        return _analysed(strategy_queries(loaded_config))
    areas = json.dumps([[name, area.model_dump(mode="json")]
                        for name, area in loaded_config.strategy.focus_areas.items()], ensure_ascii=False)
    return config_cache.remembered("queries", f"{fingerprint}\0{areas}",
                                   lambda: _analysed(strategy_queries(loaded_config)))


# focus areas already made into queries by this process, by name and the area as JSON: analysing the
# keywords and their translations (Nordic forms included) costs more than scoring a few new calls, and
# a long-lived process scores the same areas run after run. A Query is frozen, so sharing it is safe.
_QUERIES: dict[tuple[str, str], Query] = {}
_QUERIES_KEPT = 512


def strategy_queries(loaded_config: LoadedConfig) -> list[Query]:
    from classifiers.query import focus_area_query  # the analysis only when it is not remembered

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
    from classifiers.rules import REASONS_VERSION

    strategy = loaded_config.strategy
    data = [strategy.rules.model_dump(mode="json"), strategy.home_country,
            loaded_config.funding_rules.model_dump(mode="json"), REASONS_VERSION]
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def call_is_current(source: Database | Session, loaded_config: LoadedConfig, call_id: int,
                    now: datetime) -> bool:
    """True when :func:`classifiers.scoring.score_pending` would leave this call's scores and verdict as
    stored: the models fitted with this method, the queries and the rules unchanged since, and the
    call's verdict made from its current content by the current model, not due for a recheck and not
    computed for a later moment than ``now``."""
    db = database(source)
    name = loaded_config.strategy.name
    # the identities only: not the models' vocabularies, queries and gates (megabytes to read)
    stored = db.first("SELECT m.version, m.corpus_version, m.rules_hash, m.queries_hash FROM scoring_model m "
                      "WHERE m.strategy = :strategy", {"strategy": name})
    corpus_row = db.first("SELECT c.version, c.method FROM corpus_model c")
    if stored is None or corpus_row is None:
        return False
    version, corpus_version, stored_rules, stored_queries = stored
    if corpus_row[1] != METHOD or corpus_version != corpus_row[0] \
            or stored_rules != rules_hash(loaded_config):
        return False
    if stored_queries != config_queries_hash(loaded_config, marks_signature(load_marks(db, name))):
        return False
    return db.first(
        "SELECT v.id FROM call c JOIN verdict v ON v.call_id = c.id AND v.strategy = :strategy "
        "WHERE c.id = :call_id AND coalesce(c.content_hash, '') != '' AND v.content_hash = c.content_hash "
        "AND v.model_version = :version AND (v.recheck_at IS NULL OR v.recheck_at > :now) "
        "AND v.computed_at <= :now",
        {"strategy": name, "call_id": call_id, "version": version, "now": db.moment(now)}) is not None
