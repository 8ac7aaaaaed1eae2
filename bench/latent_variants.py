"""Where the latent half's query comes from, measured through bench/scoring_variants.py's harness.

    .venv/bin/python bench/latent_variants.py [--variant NAME ...] --judged FILE [--judged FILE ...]

The latent half (the LSA cosine) is what carries a focus area's broad domain into its top 10 ("energy"
calls about buildings in an offshore area, the day's Cancer Mission calls in medical devices). These
variants change only the direction the calls are compared with in the LSA space, or how it is
combined with the lexical half; everything else is the matcher in use, and the figures are those of
``scoring_variants.measure`` (judged files and label benchmark, as ``fundradar eval`` reads them):

- **latent pseudo-relevance feedback**: the latent query moved towards (``+ centroid``) or replaced by
  the centroid of the unit-length LSA vectors of the area's top ``k`` calls by lexical evidence
  (½ TF-IDF + ⅓ coverage, times the gate or not): the area's own calls, not the query's projection,
  say which latent direction it means (Rocchio-style PRF in the latent space);
- **per-unit latent cosines**: one latent direction per keyword unit (the query's weights on that
  unit's words and phrases), combined by mean or maximum instead of projecting the summed query
  (a broad shared direction then weighs less than closeness to one specific keyword);
- **query likelihood with the latent half scaled by the call's lexical standing**: the two lexical
  ideas of scoring_variants combined;
- **a title field bonus**: the share of the area's keyword units found as whole terms in the title
  (or whether any is) added to the sum before the gate, a field weight on the coverage alone (the
  title already counts twice in every vector);
- **lexical pseudo-relevance feedback**: Rocchio on the area's top ``k`` calls by gated lexical
  evidence (``matcher.rocchio``, its 50 strongest new terms, weighted by specificity as marks are),
  the latent query following the moved query.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoring_variants as sv  # noqa: E402
from scoring_variants import UNIT_BONUS, Parts  # noqa: E402

from classifiers import matcher  # noqa: E402
from classifiers.tfidf import analyse_words, latent_query  # noqa: E402


def _latent_cosines(p: Parts, direction: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(p.projection.norms > 0, 1.0 / p.projection.norms, 0.0)
    return np.clip(p.projection.latent @ direction * inverse, 0.0, 1.0)


def _score(p: Parts, latent: np.ndarray, lexical: np.ndarray | None = None) -> np.ndarray:
    lexical = p.tfidf if lexical is None else lexical
    return p.gated(0.5 * lexical + 0.5 * latent + UNIT_BONUS * p.coverage)


def latent_feedback(k: int, *, gated: bool = True, replace: bool = False) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        if not p.has_latent or not p.query.nnz:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        lexical = 0.5 * p.tfidf + UNIT_BONUS * p.coverage
        if gated:
            lexical = lexical * p.gate
        chosen = np.argsort(-lexical, kind="stable")[:k]
        chosen = chosen[lexical[chosen] > 0]
        own = latent_query(p.model, p.query, False).unit
        if own is None or not len(chosen):
            return _score(p, p.latent), []
        vectors = p.projection.latent[chosen]
        lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
        centroid = (vectors / np.where(lengths > 0, lengths, 1.0)).mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        direction = centroid if replace else own + centroid
        return _score(p, _latent_cosines(p, direction / np.linalg.norm(direction))), []
    return variant


def per_unit(combine: str) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        units = kw.get("units")
        if not p.has_latent or not units:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        weights = dict(zip(p.query.indices.tolist(), p.query.data.tolist(), strict=True))
        vocabulary = p.model.vocabulary
        cosines = []
        for unit in units:
            columns = {c for term in unit for c in term}
            spoken = {w for c in columns for w in str(names[c]).split()}  # a phrase's words too
            columns |= {vocabulary[w] for w in spoken if w in vocabulary}
            kept = sorted(c for c in columns if c in weights)
            if not kept:
                continue
            values = np.array([weights[c] for c in kept], dtype=np.float32)
            vector = sparse.csr_matrix((values, (np.zeros(len(kept), dtype=int), np.array(kept))),
                                       shape=p.query.shape)
            direction = latent_query(p.model, vector, False).unit
            if direction is not None:
                cosines.append(_latent_cosines(p, direction))
        if not cosines:
            return _score(p, p.latent), []
        stacked = np.stack(cosines, axis=1)
        best = stacked.max(axis=1)
        combined = {"mean": stacked.mean(axis=1), "max": best, "half max": 0.5 * p.latent + 0.5 * best,
                    "geometric": np.sqrt(p.latent * best), "min": np.minimum(p.latent, best)}[combine]
        return _score(p, combined), []
    return variant


def likelihood_and_standing(power: float) -> sv.ScoreRows:
    """Query likelihood (scoring_variants.dirichlet's lexical half) with the latent half × min(1,
    TF-IDF cosine / the area's 10th best)^power."""
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        lexical = sv.dirichlet_lexical(p, matrix)
        ranked = np.sort(p.tfidf)[::-1]
        tenth = float(ranked[min(9, len(ranked) - 1)]) if len(ranked) else 0.0
        scale = np.minimum(1.0, p.tfidf / tenth) ** power if tenth > 0 else np.ones(len(lexical))
        if not p.has_latent:
            return p.gated(lexical + UNIT_BONUS * p.coverage), []
        return _score(p, p.latent * scale, lexical), []
    return variant


def units_in_titles(p: Parts, documents: Any, units: list[Any]) -> np.ndarray:
    """Per call, how many of the area's keyword units occur whole in its title."""
    vocabulary = p.model.vocabulary
    found = np.zeros(len(documents))
    for row, document in enumerate(documents):
        title = document.plain.partition(" | ")[0].split()
        columns = {vocabulary[f] for f in analyse_words(title) if f in vocabulary}
        found[row] = sum(any(all(c in columns for c in term) for term in unit) for unit in units)
    return found


def title_units(weight: float, *, any_unit: bool = False) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        units = [unit for unit in kw.get("units") or [] if unit]
        documents = sv.Seen.documents
        if len(documents) != matrix.shape[0] or not units:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        found = units_in_titles(p, documents, units)
        bonus = (found > 0).astype(float) if any_unit else found / len(units)
        return p.gated(0.5 * p.tfidf + 0.5 * p.latent + UNIT_BONUS * p.coverage + weight * bonus), []
    return variant


def lexical_feedback(k: int, beta: float) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        from sklearn.preprocessing import normalize

        p = Parts(query, matrix, **kw)
        first = (0.5 * p.tfidf + UNIT_BONUS * p.coverage) * p.gate
        chosen = np.argsort(-first, kind="stable")[:k]
        chosen = chosen[first[chosen] > 0].tolist()
        if not p.query.nnz or not chosen:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        moved = normalize(matcher.specificity(p.model, matcher.rocchio(p.query, matrix, chosen, beta=beta)))
        latents = kw.get("latents")
        if latents is not None:
            kw = {**kw, "latents": (latent_query(p.model, moved.tocsr(), False), latents[1])}
        return sv._in_use_recomposed(moved, matrix, names, 0, **kw)
    return variant


VARIANTS: dict[str, Callable[..., Any] | None] = {
    "in use": None,
    "latent PRF: + centroid of top 10 (gated)": latent_feedback(10),
    "latent PRF: + centroid of top 20 (gated)": latent_feedback(20),
    "latent PRF: + centroid of top 10": latent_feedback(10, gated=False),
    "latent PRF: centroid of top 10 only": latent_feedback(10, replace=True),
    "per-unit latent: mean": per_unit("mean"),
    "per-unit latent: max": per_unit("max"),
    "per-unit latent: ½ in use + ½ max": per_unit("half max"),
    "per-unit latent: √(in use × max)": per_unit("geometric"),
    "per-unit latent: min(in use, max)": per_unit("min"),
    "QL + latent x (TF-IDF/10th)^1/4": likelihood_and_standing(0.25),
    "QL + latent x (TF-IDF/10th)^1/8": likelihood_and_standing(0.125),
    "title: + 0.1 x share of units in it": title_units(0.1),
    "title: + 0.2 x share of units in it": title_units(0.2),
    "title: + 0.05 if any unit is in it": title_units(0.05, any_unit=True),
    "title: + 0.1 if any unit is in it": title_units(0.1, any_unit=True),
    "lexical PRF: top 10, beta 0.75": lexical_feedback(10, 0.75),
    "lexical PRF: top 10, beta 0.4": lexical_feedback(10, 0.4),
    "lexical PRF: top 5, beta 0.4": lexical_feedback(5, 0.4),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="only this (repeatable)")
    parser.add_argument("--judged", action="append", type=Path, required=True,
                        help="a judged file to measure on (repeatable)")
    args = parser.parse_args()
    names = args.variant or list(VARIANTS)
    if "in use" not in names:
        names = ["in use", *names]
    results = {name: sv.measure(VARIANTS[name], args.judged) for name in names}
    sv.print_files(results, args.judged)


if __name__ == "__main__":
    main()
