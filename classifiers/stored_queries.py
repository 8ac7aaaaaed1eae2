"""A strategy's queries as stored with it (``scoring_model``): each focus area's query vector, and each
area's gate query (:func:`classifiers.gate.context_vector`), so that an incremental scoring run loads
both instead of building them. Vectors are kept as ``{term: weight}`` on the strategy's model (the
corpus model with the strategy's extra columns)."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.gate import (
    Unit,
    context_from_rows,
    context_to_rows,
    context_vector,
    gates_hash,
    unit_columns,
)
from classifiers.matcher import Latents, Query, TfidfModel, query_latents
from pipeline.core.models import ScoringModel


def vector_to_json(vector: Any, names: np.ndarray) -> dict[str, float]:
    coo = vector.tocoo()
    return {str(names[c]): float(v) for c, v in zip(coo.col, coo.data, strict=True) if v > 0}


def vector_from_json(weights: dict[str, float], model: TfidfModel) -> Any:
    cols = [model.vocabulary[t] for t in weights if t in model.vocabulary]
    vals = [weights[t] for t in weights if t in model.vocabulary]
    return sparse.csr_matrix((np.array(vals, dtype=np.float32), ([0] * len(cols), cols)),
                             shape=(1, len(model.vocabulary)))


def gates_key(stored: ScoringModel, queries: Sequence[Query]) -> str:
    """What the stored gate queries must have been built from to be used: the areas, the corpus model's
    version and the strategy's extra columns."""
    extras = hashlib.sha1(stored.vocabulary or b"").hexdigest()
    return gates_hash(queries, f"{stored.corpus_version}|{extras}")


def keep_gates(stored: ScoringModel, queries: Sequence[Query], contexts: Sequence[Any | None],
               names: np.ndarray) -> None:
    """Store the areas' gate queries ``contexts`` (built on the model ``stored`` now names)."""
    stored.gates = {query.name: context_to_rows(context, names)
                    for query, context in zip(queries, contexts, strict=True)}
    stored.gates_hash = gates_key(stored, queries)


def gate_queries(stored: ScoringModel, model: TfidfModel, queries: Sequence[Query], names: np.ndarray
                 ) -> list[Any | None]:
    """The areas' gate queries as stored, or built and kept when what they were built from changed
    (a database from before they were stored, a label or description edited)."""
    if stored.gates_hash == gates_key(stored, queries):
        return [context_from_rows(stored.gates.get(query.name, []), model) for query in queries]
    contexts = [context_vector(model, query) for query in queries]
    keep_gates(stored, queries, contexts, names)
    return contexts


# what an incremental run builds from a strategy's stored queries, kept by the process per strategy:
# (the model, the areas, the stored data's digest) -> (query vectors, gate queries, unit columns and
# latent parts). Decoding them costs more than scoring a few new calls; the digest covers the stored
# vectors and gates, and the model is compared by identity (the process keeps one decoded corpus
# model, see classifiers.corpus.decoded), so a refit, an edit or another database's rows build them
# anew. The model is held weakly: an entry does not keep a replaced model's vocabulary in memory.
_PREPARED: dict[str, tuple[Any, tuple[Query, ...], str, Any]] = {}
_PREPARED_KEPT = 64


def prepared_queries(stored: ScoringModel, model: TfidfModel, queries: Sequence[Query], names: np.ndarray
                     ) -> tuple[list[Any], list[Any | None], list[tuple[list[Unit], Latents]]]:
    """The areas' query vectors and gate queries as stored (:func:`gate_queries`), and per area its
    unit columns and latent parts (:func:`classifiers.matcher.query_latents`), on ``model``: built
    once per process while they stay the same."""
    current = stored.gates_hash == gates_key(stored, queries)
    digest = hashlib.sha1(json.dumps([stored.queries, stored.gates, stored.gates_hash], sort_keys=True)
                          .encode()).hexdigest()
    found = _PREPARED.get(stored.strategy)
    if current and found is not None and found[0]() is model and found[1] == tuple(queries) \
            and found[2] == digest:
        return found[3]
    vectors = [vector_from_json(stored.queries.get(query.name, {}), model) for query in queries]
    contexts = gate_queries(stored, model, queries, names)
    built = [(unit_columns(model, query), query_latents(model, vector, context))
             for query, vector, context in zip(queries, vectors, contexts, strict=True)]
    prepared = vectors, contexts, built
    if current:
        if len(_PREPARED) >= _PREPARED_KEPT:
            _PREPARED.clear()
        _PREPARED[stored.strategy] = (weakref.ref(model), tuple(queries), digest, prepared)
    return prepared
