"""The Score rows of a strategy's focus areas for blocks of calls (:func:`score_blocks`), for
:mod:`classifiers.scoring` to store."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from classifiers.explanation import excluded_json, terms_json
from classifiers.freshness import SCORE_FLOOR
from classifiers.matcher import (
    EXPLAIN_TERMS,
    Document,
    Projection,
    Query,
    TfidfModel,
    project,
    query_latents,
    unit_columns,
)
from classifiers.score_many import Areas, explain, kept_factors, prepare_areas, score_areas

SCORE_BLOCK = 2000  # calls scored together against every focus area before their rows are written
# only the kept calls are explained, and each explanation is scaled by its call's gate factor: up to
# this many calls in a block, the factor of the block's own pass; in larger blocks, the factor of the
# area's kept calls scored again apart (score_many.kept_factors), as the explanations were first
# computed: a capped score's factor can differ between the two in the last bit, and the stored
# explanations stay what they were
ONE_PASS_ROWS = 500
# kept (area, call) pairs explained together: each holds the words of its call, so a block's pairs are
# explained in parts of this many to keep memory to a few tens of MB
EXPLAIN_PAIRS = 2000


def _rows_of(projection: Projection, rows: Any) -> Projection:
    return Projection(projection.words[rows], projection.latent[rows], projection.norms[rows])


# the areas last prepared, with what they were prepared from: an incremental run's vectors, gate
# queries and built parts are the same objects run after run while the stored queries stay the same
# (classifiers.stored_queries.prepared_queries), and so are their prepared areas
_LAST_PREPARED: list[tuple[Any, Sequence[Any], Sequence[Any | None], Sequence[Any], Areas]] = []


def _prepared_areas(model: TfidfModel, vectors: Sequence[Any], contexts: Sequence[Any | None],
                    built: Sequence[Any]) -> Areas:
    if _LAST_PREPARED:
        reference, last_vectors, last_contexts, last_built, areas = _LAST_PREPARED[0]
        if reference() is model and last_vectors is vectors and last_contexts is contexts \
                and last_built is built:
            return areas
    areas = prepare_areas(model, vectors, [units for units, _ in built], contexts,
                          [latents for _, latents in built])
    _LAST_PREPARED[:] = [(weakref.ref(model), vectors, contexts, built, areas)]
    return areas


def score_blocks(model: TfidfModel, vectors: Sequence[Any], queries: Sequence[Query],
                documents: Sequence[Document], matrix: Any, names: np.ndarray,
                excluded: Sequence[dict[int, str]], contexts: Sequence[Any | None], strategy: str,
                now: datetime, best: dict[int, float], projection: Projection | None = None,
                block: int = SCORE_BLOCK, built: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
    """The Score rows worth storing of ``documents`` for every focus area, call by call, each
    explanation as its JSON text (:mod:`classifiers.explanation`) and each score's ``evidence`` (the
    score before the caps at 1, :class:`pipeline.core.models.Score`); ``best`` receives each call's best
    score (an excluded area counts 0).

    Blocks of ``block`` calls are scored against each area's vector, then written in call order (each
    call's row looked up once per block for the foreign key; memory holds one block's explanations).
    Explanations are computed only for the scores kept (at least :data:`SCORE_FLOOR`), every area's
    at once (:mod:`classifiers.score_many`; see :data:`ONE_PASS_ROWS`). ``projection``
    is the LSA projection of ``matrix``'s rows when already computed; ``contexts`` the areas' gate
    queries (:func:`classifiers.stored_queries.gate_queries`); ``built`` each area's unit columns and
    latent parts when already built."""
    # each area's unit columns and latent parts depend on the model and the queries only: built once,
    # not once per block
    if built is None:
        built = [(unit_columns(model, query), query_latents(model, vector, context))
                 for query, vector, context in zip(queries, vectors, contexts, strict=True)]
    if not queries:
        return
    areas = _prepared_areas(model, vectors, contexts, built)
    excluded_at = [np.sort(np.fromiter(area, dtype=np.int64, count=len(area))) for area in excluded]
    for start in range(0, len(documents), block):
        rows = matrix[start:start + block]
        window = slice(start, start + block)
        part = project(model, rows) if projection is None else _rows_of(projection, window)
        count = rows.shape[0]
        # every area's scores of the block at once (classifiers.score_many), rounded as stored
        scored = score_areas(areas, model, rows, part)
        table = np.round(scored.scores.T.astype(np.float64), 6)  # calls × areas
        # in float32 as the scores are, so a score no cap touched has evidence equal to it
        evidence = np.round(scored.evidence.T.astype(np.float32).astype(np.float64), 6)
        shut = np.zeros((count, len(queries)), dtype=bool)
        for area, area_excluded in enumerate(excluded_at):
            inside = area_excluded[np.searchsorted(area_excluded, start):
                                   np.searchsorted(area_excluded, start + count)]
            shut[inside - start, area] = True
        kept_at = (table >= SCORE_FLOOR) & ~shut
        terms: list[dict[int, list[tuple[str, float]]]] = [{} for _ in queries]
        # the kept (area, call) pairs explained together, ordered by area then call; a large block's
        # kept calls are scaled by the gate as when scored again apart (score_many.kept_factors)
        kept_areas, kept_rows = np.nonzero(kept_at.T)
        factor = None if count <= ONE_PASS_ROWS else kept_factors(areas, scored, rows, kept_areas, kept_rows)
        for first in range(0, len(kept_areas), EXPLAIN_PAIRS):
            chunk = slice(first, first + EXPLAIN_PAIRS)
            found = explain(areas, scored, names, kept_areas[chunk], kept_rows[chunk], EXPLAIN_TERMS,
                            None if factor is None else factor[chunk])
            for area, row, top in zip(kept_areas[chunk].tolist(), kept_rows[chunk].tolist(), found,
                                      strict=True):
                terms[area][row] = top
        table[shut] = 0.0  # an excluded area counts 0
        evidence[shut] = 0.0
        for document, top in zip(documents[start:start + block], table.max(axis=1).tolist(), strict=True):
            best[document.call_id] = top
        # the rows stored, in call order then area order: the kept scores and the exclusions
        stored = shut | (table >= SCORE_FLOOR)
        at_offsets, at_areas = np.nonzero(stored)
        values = table[at_offsets, at_areas].tolist()
        uncapped = evidence[at_offsets, at_areas].tolist()
        for offset, area, score, beyond in zip(at_offsets.tolist(), at_areas.tolist(), values, uncapped,
                                               strict=True):
            index = start + offset
            phrase = excluded[area].get(index)
            if phrase is not None:
                explanation = excluded_json(phrase)
            else:
                explanation = terms_json(terms[area][offset])
            yield {"call_id": documents[index].call_id, "strategy": strategy,
                   "focus_area": queries[area].name, "score": score, "evidence": beyond,
                   "explanation": explanation, "computed_at": now}
