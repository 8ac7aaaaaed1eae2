"""Scoring formulas compared on both benchmarks at once, through fundradar's own evaluation paths.

    .venv/bin/python bench/scoring_variants.py [--variant NAME ...] [--judged FILE ...] [--json]

Each variant is a function with :func:`classifiers.matcher.score_rows`'s signature. For the duration
of a run it stands in for the ``score_rows`` that :func:`per_area_blocks` (installed in place of
:func:`classifiers.score_blocks.score_blocks`, what ``fundradar score`` stores, so what ``calls list
--focus`` and ``eval --judged`` read) and
:func:`classifiers.matcher.score_documents` (the label benchmark) call; everything around it (the
replay of the judged recording into a scratch database, the corpus model, the queries, the marks of the
feedback simulation, the storage floor, the listing) is the code in use. The variant "in use" installs
nothing, so its figures are ``fundradar eval``'s; "in use, recomposed" rebuilds the in-use formula from
the parts the other variants share, as a check of those parts.

Per variant: the judged file's mean nDCG@10, per area, P@10 strict and lenient, and the feedback gain
(nDCG@10 of the remaining calls with the top 10 marked minus without); the label benchmark's MAP / P@10
on all eight areas, the dev half (the first four by name) and the held-out half, and its feedback gain
(MAP). Reads FUNDRADAR_EVAL (default ../shared/eval) and FUNDRADAR_SAMPLES (default ../shared/samples).

``--judged FILE`` (repeatable; default the shared greentech file) measures every variant on each judged
file given: its mean, per area and feedback gain, with the change against "in use" on every file, since
a variant is only worth adopting when it wins on more than the one file it was looked at on (the
development file in tests/fixtures/judged/ is another strategy on another day). The first file's figures
are also the JSON's ``judged`` keys, so the default output is what it was.

A variant sees a whole corpus in one call (the recording has ~611 calls, one scoring block): what it
computes over the rows (ranks, maxima, medians) is over the corpus. A call with ``top`` > 0 on a
subset of the rows only asks for explanations (score_blocks' second pass), which are the in-use
matcher's: the figures here are rankings, not explanations.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import matcher, scoring  # noqa: E402
from classifiers import score_blocks as blocks  # noqa: E402
from classifiers.evaluate import load_benchmark, load_corpus, run_benchmark  # noqa: E402
from classifiers.explanation import excluded_json, terms_json  # noqa: E402
from classifiers.freshness import SCORE_FLOOR as FLOOR  # noqa: E402
from classifiers.gate import GATE_FLOOR, GATE_SCALE, UNIT_BONUS, context_gate, unit_coverage  # noqa: E402
from classifiers.tfidf import (  # noqa: E402
    Document,
    TfidfModel,
    cosine_parts,
    count_known,
    latent_query,
    project,
)
from pipeline.relevance import judged_file_report  # noqa: E402

SHARED = ROOT.parent / "shared"
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SHARED / "eval"))
SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", SHARED / "samples"))
JUDGED = EVAL / "judged" / "greentech_2026-08-22.json"
DEV_AREAS = 4
IN_USE = matcher.score_rows
EXPLAIN = matcher.EXPLAIN_TERMS
RRF_K = 60  # Cormack, Clarke & Büttcher 2009
BM25_K1, BM25_B = 1.2, 0.75  # Robertson & Zaragoza 2009; the title field weight is tfidf.TITLE_WEIGHT
DIRICHLET_MU = 2000.0  # Zhai & Lafferty 2001

ScoreRows = Callable[..., tuple[np.ndarray, list[list[tuple[str, float]]]]]


class Seen:
    """The documents of the corpus being scored (set by the wrappers around score_blocks and
    score_documents), for variants that need the calls' raw counts."""

    documents: Sequence[Document] = ()


@contextmanager
def installed(variant: ScoreRows | None) -> Iterator[None]:
    if variant is None:
        yield
        return
    original_blocks, original_documents = scoring.score_blocks, matcher.score_documents

    def blocks_seen(model: Any, vectors: Any, queries: Any, documents: Sequence[Document], *args: Any,
                    **kwargs: Any) -> Any:
        Seen.documents = documents
        return per_area_blocks(model, vectors, queries, documents, *args, **kwargs)

    def documents_seen(model: Any, vector: Any, query: Any, documents: Sequence[Document], *args: Any,
                       **kwargs: Any) -> Any:
        Seen.documents = documents
        return original_documents(model, vector, query, documents, *args, **kwargs)

    def guarded(query: Any, matrix: Any, names: np.ndarray, top: int = matcher.EXPLAIN_TERMS,
                evidence: bool = False, **kwargs: Any) -> Any:
        if matrix.shape[0] != len(Seen.documents):  # explanations of the kept rows only
            assert top > 0, "a variant must see the whole corpus when its scores count"
            return IN_USE(query, matrix, names, top, evidence=evidence, **kwargs)
        scores, _, *beyond = variant(query, matrix, names, 0, **kwargs)  # a third: before the caps
        terms = IN_USE(query, matrix, names, top, **kwargs)[1] if top > 0 else []
        return (scores, terms, beyond[0] if beyond else scores) if evidence else (scores, terms)

    saved = matcher.score_rows
    scoring.score_blocks, matcher.score_documents = blocks_seen, documents_seen
    matcher.score_rows = guarded
    try:
        yield
    finally:
        scoring.score_blocks, matcher.score_documents = original_blocks, original_documents
        matcher.score_rows = saved


def per_area_blocks(model: Any, vectors: Sequence[Any], queries: Sequence[Any], documents: Sequence[Document],
                    matrix: Any, names: np.ndarray, excluded: Sequence[dict[int, str]],
                    contexts: Sequence[Any], strategy: str, now: Any, best: dict[int, float],
                    projection: Any = None, block: int = blocks.SCORE_BLOCK, built: Any = None
                    ) -> Iterator[dict[str, Any]]:
    """:func:`classifiers.score_blocks.score_blocks` as the per-area loop it replaced: each area scored
    by ``matcher.score_rows`` (the variant, while installed), the same rows yielded (score_blocks scores
    every area at once through classifiers.score_many, bit for bit what this loop gives with the in-use
    matcher; tests/test_score_many.py checks both)."""
    if built is None:
        built = [(matcher.unit_columns(model, q), matcher.query_latents(model, v, c))
                 for q, v, c in zip(queries, vectors, contexts, strict=True)]
    for start in range(0, len(documents), block):
        rows = matrix[start:start + block]
        part = matcher.project(model, rows) if projection is None else matcher.Projection(
            projection.words[start:start + block], projection.latent[start:start + block],
            projection.norms[start:start + block])
        count = rows.shape[0]
        one_pass = count <= blocks.ONE_PASS_ROWS
        table = np.zeros((count, len(queries)))
        evidence = np.zeros((count, len(queries)))
        terms: list[dict[int, list[tuple[str, float]]]] = []
        for area, (vector, context, (units, latents)) in enumerate(
                zip(vectors, contexts, built, strict=True)):
            scores, found, uncapped = matcher.score_rows(  # uncapped: what orders equal scores
                vector, rows.tocsc(), names, EXPLAIN if one_pass else 0, model=model, projection=part,
                units=units, context=context, latents=latents, evidence=True)
            table[:, area] = np.round(scores.astype(np.float64), 6)
            evidence[:, area] = np.round(np.asarray(uncapped).astype(np.float32).astype(np.float64), 6)
            kept = [i for i in np.flatnonzero(table[:, area] >= FLOOR).tolist()
                    if start + i not in excluded[area]]
            if kept and not one_pass:
                sub = None if part is None else matcher.Projection(part.words[kept], part.latent[kept],
                                                                   part.norms[kept])
                _, found = matcher.score_rows(vector, rows[kept], names, EXPLAIN, model=model, projection=sub,
                                              units=units, context=context, latents=latents)
                terms.append(dict(zip(kept, found, strict=True)))
            else:
                terms.append({i: found[i] for i in kept})
        for offset in range(count):
            index = start + offset
            tops = [0.0 if excluded[a].get(index) is not None else float(table[offset, a])
                    for a in range(len(queries))]
            if queries:
                best[documents[index].call_id] = max(tops)
            for area, query in enumerate(queries):
                phrase = excluded[area].get(index)
                if phrase is None and tops[area] < FLOOR:
                    continue
                explanation = excluded_json(phrase) if phrase is not None else terms_json(terms[area][offset])
                uncapped = 0.0 if phrase is not None else float(evidence[offset, area])
                yield {"call_id": documents[index].call_id, "strategy": strategy, "focus_area": query.name,
                       "score": tops[area], "evidence": uncapped, "explanation": explanation,
                       "computed_at": now}


# --- the parts a score is made of -------------------------------------------------------------------

class Parts:
    """Per row: TF-IDF cosine, LSA cosine (0 without a latent space), unit coverage, gate."""

    def __init__(self, query: Any, matrix: Any, *, model: TfidfModel | None = None, projection: Any = None,
                 lexical_weight: float = 0.5, units: Any = None, context: Any = None, latents: Any = None):
        rows = matrix.shape[0]
        query = query.tocsr()
        query.sum_duplicates()
        self.query, self.matrix, self.model = query, matrix, model
        self.tfidf = cosine_parts(query, matrix, matrix.shape[1], False, None, None, 1.0)[0] \
            if query.nnz else np.zeros(rows, dtype=np.float32)
        self.latent = np.zeros(rows, dtype=np.float32)
        self.has_latent = model is not None and model.components is not None
        if self.has_latent and query.nnz:
            projection = project(model, matrix) if projection is None else projection
            given = latents[0] if latents is not None else None
            lq = given if given is not None else latent_query(model, query, False)
            if lq.unit is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    inverse = np.where(projection.norms > 0, 1.0 / projection.norms, 0.0).astype(np.float32)
                self.latent = np.clip(projection.latent @ lq.unit * inverse, 0.0, 1.0).astype(np.float32)
        self.coverage = unit_coverage(matrix, units, matrix.shape[1], False)[0] if units else np.zeros(rows)
        self.context, self.projection = context, projection
        self.context_latents = None if latents is None else latents[1]
        self.gate = context_gate(context, matrix, model, projection, lexical_weight,
                                 None if latents is None else latents[1]).astype(np.float64) \
            if context is not None else np.ones(rows)

    def gated(self, base: np.ndarray) -> np.ndarray:
        return np.clip(np.clip(base, 0.0, 1.0) * self.gate, 0.0, 1.0).astype(np.float32)


def _in_use_recomposed(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    base = 0.5 * p.tfidf + 0.5 * p.latent if p.has_latent else p.tfidf
    base = base + UNIT_BONUS * p.coverage
    return p.gated(base), [], base.astype(np.float64) * p.gate  # the third: before the caps


# --- 1. reciprocal rank fusion --------------------------------------------------------------------

def _rrf(*rankings: np.ndarray) -> np.ndarray:
    """Σ 1/(k + rank) over the rankings that retrieve the row (score > 0), divided by its largest
    possible value (first in every ranking): a monotone map of the textbook RRF into 0–1."""
    total = np.zeros(len(rankings[0]))
    for values in rankings:
        values = np.asarray(values, dtype=np.float64)
        order = np.argsort(-values, kind="stable")
        rank = np.empty(len(values))
        rank[order] = np.arange(1, len(values) + 1)
        total += np.where(values > 0, 1.0 / (RRF_K + rank), 0.0)
    return total / (len(rankings) / (RRF_K + 1))


def _lexical(p: Parts) -> np.ndarray:
    """The lexical ranking: what the in-use score adds to the latent half (½ TF-IDF + ⅓ coverage)."""
    return 0.5 * p.tfidf + UNIT_BONUS * p.coverage


def rrf_gate_multiplies(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    # the gate divided by its scale: the same order as gate × RRF, without the cap at 1 tying the top
    return (_rrf(_lexical(p), p.latent) * p.gate / GATE_SCALE).astype(np.float32), []


def rrf_gate_third(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    return _rrf(_lexical(p), p.latent, p.gate).astype(np.float32), []


# --- 2. BM25 as the lexical half ------------------------------------------------------------------

def _counts(matrix: Any, model: TfidfModel) -> Any:
    counts = count_known(Seen.documents, model.vocabulary).tocsr()
    assert counts.shape == matrix.shape
    return counts


def _bm25_rows(query: Any, matrix: Any, model: TfidfModel) -> tuple[np.ndarray, float]:
    """Σ_t q_t × idf_BM25(t) × tf (k1 + 1) / (tf + k1 (1 − b + b dl / avgdl)) per row, ``q`` the query
    vector in use (units, spill, specificity); tf counts the title ``TITLE_WEIGHT`` times (BM25F with
    one length normalisation), dl the row's feature count. Also the query's own maximum
    Σ_t q_t idf(t) (k1 + 1) (every term saturated)."""
    counts = _counts(matrix, model)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    length = np.asarray(counts.sum(axis=1)).ravel()
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / max(float(length.mean()), 1.0))
    columns, weights = query.indices, query.data.astype(np.float64)
    picked = counts[:, columns].tocsr()
    tf = picked.data.astype(np.float64)
    row_of = np.repeat(np.arange(n), np.diff(picked.indptr))
    picked.data = (weights[picked.indices] * idf[columns][picked.indices]
                   * tf * (BM25_K1 + 1) / (tf + norm[row_of]))
    return np.asarray(picked.sum(axis=1)).ravel(), float((weights * idf[columns]).sum() * (BM25_K1 + 1))


def _with_lexical(p: Parts, lexical: np.ndarray) -> np.ndarray:
    if p.has_latent:
        return p.gated(0.5 * lexical + 0.5 * p.latent + UNIT_BONUS * p.coverage)
    return p.gated(lexical + UNIT_BONUS * p.coverage)


def bm25_by_best(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    raw, _ = _bm25_rows(p.query, matrix, p.model)
    return _with_lexical(p, raw / raw.max() if raw.max() > 0 else raw), []


def bm25_by_own_max(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    raw, ceiling = _bm25_rows(p.query, matrix, p.model)
    return _with_lexical(p, raw / ceiling if ceiling > 0 else raw), []


# --- 3. lexical evidence required for the latent half ---------------------------------------------

def latent_by_coverage(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    """latent × min(1, coverage / median coverage of the rows with any)."""
    p = Parts(query, matrix, **kw)
    having = p.coverage[p.coverage > 0]
    if not len(having):
        return _latent_scaled(p, np.zeros_like(p.coverage)), []
    scale = np.minimum(1.0, p.coverage / float(np.median(having)))
    return _latent_scaled(p, scale), []


def latent_if_unit(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    """The latent half only for rows matching at least one query unit as a whole term."""
    p = Parts(query, matrix, **kw)
    return _latent_scaled(p, (p.coverage > 0).astype(np.float64)), []


def _latent_scaled(p: Parts, scale: np.ndarray) -> np.ndarray:
    return p.gated(0.5 * p.tfidf + 0.5 * p.latent * scale + UNIT_BONUS * p.coverage)


# --- 4. query likelihood with Dirichlet smoothing -------------------------------------------------

def dirichlet(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    """Σ_t q_t log(1 + tf / (μ p(t|C))) + (Σ q) log(μ / (dl + μ)) (Zhai & Lafferty's rank-equivalent
    form, query weights as in use), min–max normalised over the rows matching any query term; rows
    matching none get 0."""
    p = Parts(query, matrix, **kw)
    return _with_lexical(p, dirichlet_lexical(p, matrix)), []


def dirichlet_lexical(p: Parts, matrix: Any) -> np.ndarray:
    """:func:`dirichlet`'s lexical half, 0–1."""
    counts = _counts(matrix, p.model)
    length = np.asarray(counts.sum(axis=1)).ravel()
    collection = np.asarray(counts.sum(axis=0)).ravel() / max(float(length.sum()), 1.0)
    columns, weights = p.query.indices, p.query.data.astype(np.float64)
    picked = counts[:, columns].tocsr()
    matched = np.diff(picked.indptr) > 0
    picked.data = weights[picked.indices] * np.log1p(
        picked.data / (DIRICHLET_MU * collection[columns][picked.indices]))
    lengths = weights.sum() * np.log(DIRICHLET_MU / (length + DIRICHLET_MU))
    raw = np.asarray(picked.sum(axis=1)).ravel() + lengths
    lexical = np.zeros(len(raw))
    if matched.any():
        low, high = raw[matched].min(), raw[matched].max()
        lexical[matched] = (raw[matched] - low) / (high - low) if high > low else 1.0
    return lexical


# --- 5. lexical agreement: the latent space may reorder what the words find, not replace them -----

def _gate_closeness(p: Parts, lexical_weight: float) -> np.ndarray:
    """The gate's closeness ``c`` (0–1) read back from :func:`context_gate` at ``lexical_weight``."""
    gate = context_gate(p.context, p.matrix, p.model, p.projection, lexical_weight, p.context_latents)
    return np.clip((gate.astype(np.float64) / GATE_SCALE - GATE_FLOOR) / (1 - GATE_FLOOR), 0.0, 1.0)


def gate_geometric(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    """The gate's closeness as the geometric mean of its TF-IDF and LSA cosines instead of their
    average: a call the label's words do not reach cannot pass the gate on latent closeness alone."""
    p = Parts(query, matrix, **kw)
    if p.context is None or not p.has_latent:
        return _in_use_recomposed(query, matrix, names, 0, **kw)
    closeness = np.sqrt(_gate_closeness(p, 1.0) * _gate_closeness(p, 0.0))
    p.gate = GATE_SCALE * (GATE_FLOOR + (1 - GATE_FLOOR) * closeness)
    return p.gated(0.5 * p.tfidf + 0.5 * p.latent + UNIT_BONUS * p.coverage), []


def _latent_by_lexical(power: float) -> ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        """latent × min(1, TF-IDF cosine / the area's 10th best TF-IDF cosine)^power: the latent half
        counts in full for calls whose words match as well as the area's lexical top 10."""
        p = Parts(query, matrix, **kw)
        ranked = np.sort(p.tfidf)[::-1]
        tenth = float(ranked[min(9, len(ranked) - 1)]) if len(ranked) else 0.0
        if tenth <= 0:
            return _latent_scaled(p, np.ones_like(p.latent, dtype=np.float64)), []
        return _latent_scaled(p, np.minimum(1.0, p.tfidf / tenth) ** power), []
    return variant


VARIANTS: dict[str, ScoreRows | None] = {
    "in use": None,
    "in use, recomposed": _in_use_recomposed,
    "RRF(lexical, latent) x gate": rrf_gate_multiplies,
    "RRF(lexical, latent, gate)": rrf_gate_third,
    "BM25 / best call": bm25_by_best,
    "BM25 / query's own maximum": bm25_by_own_max,
    "latent x min(1, coverage / median)": latent_by_coverage,
    "latent only with a whole unit": latent_if_unit,
    "QL Dirichlet mu=2000 (min-max)": dirichlet,
    "gate closeness sqrt(TF-IDF x LSA)": gate_geometric,
    "latent x (TF-IDF / 10th best)^1/2": _latent_by_lexical(0.5),
    "latent x (TF-IDF / 10th best)^1/4": _latent_by_lexical(0.25),
}


# --- the measures ---------------------------------------------------------------------------------

def _cell(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def _gain(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:+6.3f}"


def judged_figures(path: Path) -> dict[str, Any]:
    """One judged file's mean, per-area nDCG@10 and feedback gain with the variant installed."""
    judged = judged_file_report(path, feedback=10, samples=SAMPLES).as_dict()
    feedback = judged["feedback"]["means"]
    return {
        "judged": {k: None if v is None else round(v, 3) for k, v in judged["means"]["matcher"].items()},
        # an area without a call graded 1 or 2 has no nDCG (None, "n/a"), and is left out of the mean
        "judged_areas": {a: None if v["ndcg10"] is None else round(v["ndcg10"], 3)
                         for a, v in judged["per_area"]["matcher"].items()},
        "judged_feedback": None if None in (feedback["with"]["ndcg10"], feedback["without"]["ndcg10"])
        else round(feedback["with"]["ndcg10"] - feedback["without"]["ndcg10"], 3),
    }


def measure(variant: ScoreRows | None, files: Sequence[Path] = (JUDGED,)) -> dict[str, Any]:
    with installed(variant):
        per_file = {str(path): judged_figures(path) for path in files}
        areas = load_benchmark(EVAL / "focus_areas.yaml")
        label = run_benchmark(areas, load_corpus(SAMPLES / "eu_ft" / "calls_2026-08-10.jsonl"),
                              feedback=10).as_dict()
    per_area = label["per_area"]["matcher"]
    dev = sorted(per_area)[:DEV_AREAS]
    halves = {"all": list(per_area), "dev": dev, "held_out": [a for a in per_area if a not in dev]}
    labels = {half: {m: round(float(np.mean([per_area[a][m] for a in names])), 3) for m in ("ap", "p10")}
              for half, names in halves.items()}
    result = {
        **per_file[str(files[0])],
        "label": labels,
        "label_feedback": round(label["feedback"]["means"]["with"]["ap"]
                                - label["feedback"]["means"]["without"]["ap"], 3),
    }
    if list(files) != [JUDGED]:
        result["judged_files"] = per_file
    return result


def print_default(results: dict[str, dict[str, Any]]) -> None:
    print(f"{'variant':36s} {'judged':>6s} {'areas (offshore maritime food digital)':>27s} "
          f"{'P@10 2/1+':>11s} {'fb':>6s} | {'label all':>11s} {'dev':>11s} {'held-out':>11s} {'fb':>6s}")
    for name, r in results.items():
        areas = " ".join(_cell(v) for v in r["judged_areas"].values())
        j, lab = r["judged"], r["label"]
        cells = " ".join(f"{lab[h]['ap']:.3f}/{lab[h]['p10']:.3f}" for h in ("all", "dev", "held_out"))
        print(f"{name:36s} {j['ndcg10']:6.3f} {areas:>27s} {j['p10_strict']:.3f}/{j['p10_lenient']:.3f} "
              f"{_gain(r['judged_feedback'])} | {cells} {r['label_feedback']:+6.3f}")


def print_files(results: dict[str, dict[str, Any]], files: Sequence[Path]) -> None:
    """One table per judged file (areas named above it), then the label benchmark, then the change of
    each variant's judged mean against "in use" on every file."""
    base = results.get("in use")
    for path in files:
        key = str(path)
        names = list(next(iter(results.values()))["judged_files"][key]["judged_areas"])
        print(f"\nJudged: {path.name}; areas: {', '.join(names)}")
        print(f"{'variant':36s} {'nDCG@10':>7s} {'per area':>{7 * len(names) - 1}s} {'P@10 2/1+':>11s} "
              f"{'fb':>6s} {'vs in use':>9s}")
        for name, r in results.items():
            f = r["judged_files"][key]
            areas = " ".join(_cell(v) for v in f["judged_areas"].values())
            delta = f"{f['judged']['ndcg10'] - base['judged_files'][key]['judged']['ndcg10']:+9.3f}" \
                if base else f"{'':>9s}"
            print(f"{name:36s} {f['judged']['ndcg10']:7.3f} {areas} {f['judged']['p10_strict']:.3f}/"
                  f"{f['judged']['p10_lenient']:.3f} {_gain(f['judged_feedback'])} {delta}")
    print(f"\nLabel benchmark\n{'variant':36s} {'all':>11s} {'dev':>11s} {'held-out':>11s} {'fb':>6s}")
    for name, r in results.items():
        lab = r["label"]
        cells = " ".join(f"{lab[h]['ap']:.3f}/{lab[h]['p10']:.3f}" for h in ("all", "dev", "held_out"))
        print(f"{name:36s} {cells} {r['label_feedback']:+6.3f}")
    if base:
        print("\nJudged nDCG@10 against in use on every file (a variant to adopt wins on all of them)")
        for name, r in results.items():
            deltas = [r["judged_files"][str(p)]["judged"]["ndcg10"]
                      - base["judged_files"][str(p)]["judged"]["ndcg10"] for p in files]
            verdict = "wins on all" if all(d > 0 for d in deltas) else ""
            print(f"{name:36s} {' '.join(f'{d:+7.3f}' for d in deltas)}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="only this (repeatable)")
    parser.add_argument("--judged", action="append", type=Path,
                        help=f"a judged file to measure on (repeatable; default {JUDGED})")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files: list[Path] = args.judged or [JUDGED]
    results = {name: measure(VARIANTS[name], files) for name in (args.variant or list(VARIANTS))}
    if args.json:
        print(json.dumps(results, indent=1))
    elif files == [JUDGED]:
        print_default(results)
    else:
        print_files(results, files)


if __name__ == "__main__":
    main()
