"""Every focus area scored against a block at once (classifiers.score_many) gives what scoring the areas
one by one with score_rows gives, bit for bit: the scores and every explanation, and so the Score rows
score_blocks yields. Calls are the recorded EU topics; the areas are the example strategy's, with
variants for the cases the paths treat apart (no gate, a query without terms, a query with no latent
direction, a gate row without terms, scores the gate lifts above 1, no LSA space, an empty call,
exclude phrases)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from classifiers.freshness import strategy_queries
from classifiers.matcher import (
    EXPLAIN_TERMS,
    Query,
    TfidfModel,
    context_vector,
    excluded_rows,
    expanded_query,
    prepare,
    project,
    query_features,
    query_latents,
    score_rows,
    unit_columns,
)
from classifiers.score_blocks import score_blocks
from classifiers.score_many import explain, prepare_areas, score_areas
from pipeline.core.config import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    LoadedConfig,
    load_funding_rules,
    load_strategy,
)

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)


def recorded(samples: Path, count: int | None = None) -> list[Any]:
    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:count]]
    documents = [prepare(i, r["title"], r["description"]) for i, r in enumerate(records)]
    # a call with no term (an empty row) and one with words no other call has
    return documents[:30] + [prepare(900, "", ""), prepare(901, "zzqx", "qqqv xyzzy")] + documents[30:]


def setup(samples: Path, count: int | None = None) -> dict[str, Any]:
    """The example strategy's areas and their variants on the recorded calls."""
    config = LoadedConfig(load_strategy(DEFAULT_STRATEGY), load_funding_rules(DEFAULT_FUNDING_RULES),
                          DEFAULT_STRATEGY)
    documents = recorded(samples, count)
    # areas named and worded as a call's own title: the gate lifts that call above 1, and it is capped
    titles = [documents[i].plain.partition(" | ")[0].strip() for i in (0, 6, 12)]
    queries = list(strategy_queries(config)) + [
        Query(f"own-{i}", tuple(w for w in title.split() if len(w) > 4)[:6], label=title)
        for i, title in enumerate(titles)]
    model, matrix = TfidfModel.fit(documents, keep=set().union(*(query_features(q) for q in queries)))
    names = model.terms()
    vectors = [expanded_query(model, q, documents, matrix) for q in queries]
    contexts = [context_vector(model, q) for q in queries]
    units = [unit_columns(model, q) for q in queries]
    width = len(names)
    phrase = next(i for i, t in enumerate(names.tolist()) if " " in t)
    variants = [
        # no gate
        (queries[0], vectors[0], None, units[0]),
        # a query without terms, scored by its units alone
        (queries[1], sparse.csr_matrix((1, width), dtype=np.float32), contexts[1], units[1]),
        # a query without terms or units: scores 0
        (queries[2], sparse.csr_matrix((1, width), dtype=np.float32), contexts[2], []),
        # one phrase column: no latent direction
        (queries[3], sparse.csr_matrix(([np.float32(1.0)], ([0], [phrase])), shape=(1, width)), contexts[3],
         units[3]),
        # a gate with a row without terms, and units whose terms are unknown
        (queries[0], vectors[0], None if contexts[0] is None else
         sparse.vstack([contexts[0], sparse.csr_matrix((1, width), dtype=np.float32)]).tocsr(),
         [[], *units[0]]),
    ]
    queries += [replace(q, name=f"{q.name}-{i}") for i, (q, *_) in enumerate(variants)]
    vectors += [v for _, v, _, _ in variants]
    contexts += [c for _, _, c, _ in variants]
    units += [u for *_, u in variants]
    return {"model": model, "matrix": matrix, "names": names, "queries": queries, "vectors": vectors,
            "contexts": contexts, "units": units, "documents": documents}


def test_every_area_at_once_equals_each_area_alone(samples) -> None:
    for count in (None, 40):  # the LSA space, and a corpus too small for one
        data = setup(samples, count)
        model, matrix, names = data["model"], data["matrix"], data["names"]
        assert (model.components is None) == (count == 40)
        latents = [query_latents(model, v, c) for v, c in zip(data["vectors"], data["contexts"], strict=True)]
        areas = prepare_areas(model, data["vectors"], data["units"], data["contexts"], latents)
        projection = project(model, matrix)
        scored = score_areas(areas, model, matrix, projection)
        rows, count_areas = matrix.shape[0], len(data["queries"])
        assert matrix.indptr[31] == matrix.indptr[30]  # an empty row
        found = explain(areas, scored, names, np.repeat(np.arange(count_areas), rows),
                        np.tile(np.arange(rows), count_areas), EXPLAIN_TERMS)
        by_column = matrix.tocsc()
        for area in range(count_areas):
            scores, terms, uncapped = score_rows(data["vectors"][area], by_column, names, EXPLAIN_TERMS,
                                                 model=model, projection=projection,
                                                 units=data["units"][area], context=data["contexts"][area],
                                                 latents=latents[area], evidence=True)
            assert scores.dtype == scored.scores[area].dtype
            assert np.array_equal(scores, scored.scores[area]), area
            assert np.array_equal(uncapped, scored.evidence[area]), area
            assert found[area * rows:(area + 1) * rows] == terms, area
        assert scored.scores[count_areas - 3].max() == 0  # the area without terms or units
        if count is None:
            assert 0 < np.count_nonzero(scored.scores[count_areas - 4]) < rows  # units alone
            assert (scored.scores == 1).sum() >= 2  # capped


def per_area_blocks() -> Any:
    """The area-by-area loop score_blocks replaced, as bench/scoring_variants.py keeps it to run its
    variants through: here the reference score_blocks must equal (and so the harness reproduces the
    scoring in use)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "scoring_variants.py"
    spec = importlib.util.spec_from_file_location("scoring_variants", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.per_area_blocks


@pytest.mark.parametrize("block", [100, 633])  # a block explained in one pass, and one scored twice
def test_score_blocks_yields_the_rows_of_each_area_alone(samples, block: int) -> None:
    data = setup(samples)
    model, matrix, names, documents = data["model"], data["matrix"], data["names"], data["documents"]
    queries, vectors, contexts = data["queries"], data["vectors"], data["contexts"]
    assert not matrix.has_sorted_indices  # as a fitted corpus's rows: each row's entries out of order
    exclude = [("hydrogen",), (), ("robotics", "artificial intelligence"), ()]
    excluded = [excluded_rows(documents, exclude[i % len(exclude)]) for i in range(len(queries))]
    assert sum(map(len, excluded)) > 0
    built = [(unit_columns(model, q), query_latents(model, v, c))
             for q, v, c in zip(queries, vectors, contexts, strict=True)]
    reference = per_area_blocks()
    for projection in (None, project(model, matrix)):
        best_alone: dict[int, float] = {}
        expected = list(reference(model, vectors, queries, documents, matrix, names, excluded, contexts, "s",
                                  NOW, best_alone, projection, block))
        best: dict[int, float] = {}
        found = list(score_blocks(model, vectors, queries, documents, matrix, names, excluded, contexts, "s",
                                  NOW, best, projection, block, built))
        assert found == expected
        assert best == best_alone and len(best) == len(documents)


def test_units_none_of_whose_terms_are_known_cover_nothing(samples) -> None:
    """Every area has units but no unit term is in the vocabulary (a strategy of Danish keywords over an
    English corpus, say): no column is needed for the coverage, which is then 0 for every area."""
    data = setup(samples, None)
    model, matrix, names = data["model"], data["matrix"], data["names"]
    units = [[[]] for _ in data["queries"]]  # one unit each, of no known term
    latents = [query_latents(model, v, c) for v, c in zip(data["vectors"], data["contexts"], strict=True)]
    areas = prepare_areas(model, data["vectors"], units, data["contexts"], latents)
    projection = project(model, matrix)
    scored = score_areas(areas, model, matrix, projection)
    rows, count_areas = matrix.shape[0], len(data["queries"])
    found = explain(areas, scored, names, np.repeat(np.arange(count_areas), rows),
                    np.tile(np.arange(rows), count_areas), EXPLAIN_TERMS)
    by_column = matrix.tocsc()
    for area in range(count_areas):
        scores, terms = score_rows(data["vectors"][area], by_column, names, EXPLAIN_TERMS, model=model,
                                   projection=projection, units=units[area], context=data["contexts"][area],
                                   latents=latents[area])
        assert np.array_equal(scores, scored.scores[area]), area
        assert found[area * rows:(area + 1) * rows] == terms, area
