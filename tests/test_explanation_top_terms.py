"""The explanation's top terms: an exact top-k, equal to sorting every contribution of a row."""

from __future__ import annotations

import json

import numpy as np
from scipy import sparse

from classifiers.freshness import strategy_queries
from classifiers.matcher import (
    TfidfModel,
    _top_terms,
    context_vector,
    expanded_query,
    prepare,
    project,
    query_features,
    score_rows,
    unit_columns,
)
from pipeline.core.config import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    LoadedConfig,
    load_funding_rules,
    load_strategy,
)

EVERY_TERM = 10**9  # a top larger than any row: the whole row, sorted


def brute_force(part: sparse.csr_matrix, names: np.ndarray, top: int) -> list[list[tuple[str, float]]]:
    """Each row's entries sorted by (-value, column), the first ``top`` kept: the definition."""
    found = []
    for row in range(part.shape[0]):
        start, end = part.indptr[row], part.indptr[row + 1]
        entries = [(int(c), v) for c, v in zip(part.indices[start:end], part.data[start:end], strict=True)
                   if v != 0]
        entries.sort(key=lambda e: (-e[1], e[0]))
        found.append([(str(names[c]), round(float(v), 4)) for c, v in entries[:top]])
    return found


def test_top_terms_equal_a_full_sort_with_ties_empty_rows_and_short_rows() -> None:
    rng = np.random.default_rng(7)
    names = np.asarray([f"t{i}" for i in range(40)], dtype=object)
    for _ in range(30):
        rows = int(rng.integers(1, 25))
        dense = rng.choice([0.0, 0.0, 0.0, 0.1, 0.2, 0.25, 0.5, -0.1], size=(rows, 40)).astype(np.float32)
        dense[rng.integers(0, rows)] = 0  # an empty row
        dense[rng.integers(0, rows), 3:] = 0  # a row shorter than top
        part = sparse.csr_matrix(dense)
        part.data[:: 7] = 0  # explicit zeros are no terms
        for top in (1, 3, 5, 8):
            assert _top_terms(part.copy(), np.arange(40), names, top) == brute_force(part, names, top)


def test_explanations_of_the_recorded_calls_are_the_head_of_every_term_sorted(samples) -> None:
    """The example strategy's areas on the recorded EU topics (LSA, unit coverage and gate all on): each
    call's five terms are exactly the first five of all its terms sorted by contribution."""
    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    documents = [prepare(i, r["title"], r["description"]) for i, r in enumerate(records)]
    config = LoadedConfig(load_strategy(DEFAULT_STRATEGY), load_funding_rules(DEFAULT_FUNDING_RULES),
                          DEFAULT_STRATEGY)
    queries = strategy_queries(config)
    model, matrix = TfidfModel.fit(documents, keep=set().union(*(query_features(q) for q in queries)))
    assert model.components is not None
    names, projection = model.terms(), project(model, matrix)
    explained = 0
    for query in queries:
        vector = expanded_query(model, query, documents, matrix)
        options = {"model": model, "projection": projection, "units": unit_columns(model, query),
                   "context": context_vector(model, query)}
        scores, five = score_rows(vector, matrix, names, 5, **options)
        same_scores, every = score_rows(vector, matrix, names, EVERY_TERM, **options)
        assert np.array_equal(scores, same_scores)
        assert five == [terms[:5] for terms in every]
        explained += sum(1 for terms in five if terms)
    assert explained > len(documents)
