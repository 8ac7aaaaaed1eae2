"""Six more families of scoring, measured through bench/scoring_variants.py's harness on every judged
file given and the label benchmark.

    .venv/bin/python bench/matcher_families.py [--variant NAME ...] --judged FILE [--judged FILE ...]

Each variant changes one thing of the matcher in use (everything else, the gate included, is the
code in use, and the figures are ``scoring_variants.measure``'s, as ``fundradar eval`` reads them):

1. **per-unit saturation**: each keyword unit's evidence passed through ``x (1 + k) / (x + k)`` (1 at
   a full match, steeper for a small one) before the units are summed, in the coverage and/or the
   TF-IDF cosine (the query's columns shared out among the units holding them, so with k → ∞ the sum
   is the cosine in use): one frequent generic unit weighs less against several distinct ones;
2. **centred latent half**: the area's latent cosines minus their corpus mean (rescaled to 0–1), or
   both legs z-scored per area and mixed, then put back on the in-use cosines' mean and spread;
3. **proximity**: + w × (the most distinct keyword units in any window of 20 words − 1) / √units, or
   + w × the share of the label's and description's words within 10 words of a keyword;
4. **field-aware latent**: the latent cosine of the title and the first 300 words of the text,
   instead of / mixed with / the larger of the full text's;
5. **passage max**: the lexical leg as ½ the document's TF-IDF cosine + ½ the best passage's
   (windows of 50 words, stride 25, each with the title), or the larger of the two;
6. **LSA size and what it is fitted on**: rank 100 / 150 / 200 instead of 50, or rank 50 fitted on
   passages of 25 words (with the title) instead of whole calls. Stored texts keep no sentence
   marks (:attr:`classifiers.tfidf.Document.plain` is words only), so a window of words stands in
   for a sentence here and in 3 and 5.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoring_variants as sv  # noqa: E402
from scoring_variants import UNIT_BONUS, Parts  # noqa: E402

from classifiers import tfidf  # noqa: E402
from classifiers.tfidf import Document, count_known, latent_query, project  # noqa: E402

LEAD_WORDS = 300
PASSAGE, STRIDE = 50, 25
WINDOW = 20
LSA_SENTENCE = 25


def _mix(
    p: Parts,
    lexical: np.ndarray,
    latent: np.ndarray,
    coverage: np.ndarray | None = None,
    bonus: np.ndarray | float = 0.0,
) -> np.ndarray:
    coverage = p.coverage if coverage is None else coverage
    if p.has_latent:
        return p.gated(0.5 * lexical + 0.5 * latent + UNIT_BONUS * coverage + bonus)
    return p.gated(lexical + UNIT_BONUS * coverage + bonus)


def _saturate(x: np.ndarray, k: float) -> np.ndarray:
    return x * (1 + k) / (x + k)


# --- 1. per-unit saturation -----------------------------------------------------------------------


def _unit_evidence(matrix: Any, units: Sequence[Any]) -> np.ndarray:
    """rows × units: each unit's evidence as :func:`classifiers.gate.unit_coverage` sums it (its best
    term's weakest column), before the division by √units."""
    needed = sorted({c for unit in units for term in unit for c in term})
    values = np.zeros((matrix.shape[0], len(units)))
    if not needed:
        return values
    position = {c: i for i, c in enumerate(needed)}
    dense = np.asarray(matrix[:, needed].toarray(), dtype=np.float64)
    for u, unit in enumerate(units):
        if unit:
            values[:, u] = np.stack(
                [dense[:, [position[c] for c in term]].min(axis=1) for term in unit], axis=1
            ).max(axis=1)
    return values


def _unit_cosines(p: Parts, units: Sequence[Any], names: np.ndarray, k: float) -> np.ndarray:
    """Σ over units of |q_u| × sat(q_u·d / |q_u|), q_u the query's weights on the unit's columns (its
    terms and their words; a column in m units gives each 1/m; the rest of the query, the description's
    words, is one more unit)."""
    weights = dict(zip(p.query.indices.tolist(), p.query.data.tolist(), strict=True))
    vocabulary = p.model.vocabulary if p.model is not None else {}
    owned: list[set[int]] = []
    for unit in units:
        columns = {c for term in unit for c in term}
        columns |= {vocabulary[w] for c in list(columns) for w in str(names[c]).split() if w in vocabulary}
        owned.append({c for c in columns if c in weights})
    rest = set(weights) - set().union(*owned) if owned else set(weights)
    owned.append(rest)
    share = {c: sum(c in o for o in owned) for c in weights}
    total = np.zeros(p.matrix.shape[0])
    for columns in owned:
        if not columns:
            continue
        kept = sorted(columns)
        q = np.array([weights[c] / share[c] for c in kept])
        length = float(np.linalg.norm(q))
        dot = np.asarray(p.matrix[:, kept] @ q).ravel()
        total += length * _saturate(np.clip(dot / length, 0.0, 1.0), k)
    return total


def saturation(k: float, *, coverage: bool = True, cosine: bool = False) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        units = [u for u in kw.get("units") or [] if u]
        if not units:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        cov = (
            _saturate(_unit_evidence(matrix, units), k).sum(axis=1) / np.sqrt(len(kw["units"]))
            if coverage
            else p.coverage
        )
        lexical = _unit_cosines(p, units, names, k) if cosine else p.tfidf
        return _mix(p, lexical, p.latent, cov), []

    return variant


# --- 2. centring the latent half per area ---------------------------------------------------------


def centred_latent(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    mean = float(p.latent.mean())
    return _mix(p, p.tfidf, np.clip((p.latent - mean) / max(1 - mean, 1e-9), 0.0, 1.0)), []


def z_legs(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    p = Parts(query, matrix, **kw)
    if not p.has_latent:
        return sv._in_use_recomposed(query, matrix, names, 0, **kw)

    def z(x: np.ndarray) -> np.ndarray:
        spread = float(x.std())
        return (x - x.mean()) / spread if spread > 0 else np.zeros_like(x, dtype=np.float64)

    original = 0.5 * p.tfidf + 0.5 * p.latent
    mixed = z(0.5 * z(p.tfidf) + 0.5 * z(p.latent))
    cosines = np.clip(original.mean() + original.std() * mixed, 0.0, 1.0)
    return p.gated(cosines + UNIT_BONUS * p.coverage), []


# --- 3. proximity ---------------------------------------------------------------------------------

_TOKENS: dict[str, tuple[list[str], dict[str, list[int]]]] = {}


def _tokens(document: Document) -> tuple[list[str], dict[str, list[int]]]:
    found = _TOKENS.get(document.plain)
    if found is None:
        tokens = document.plain.split()
        where: dict[str, list[int]] = {}
        for i, t in enumerate(tokens):
            where.setdefault(t, []).append(i)
        found = _TOKENS[document.plain] = (tokens, where)
    return found


def _term_words(term: list[int], names: np.ndarray) -> list[str]:
    first = str(names[term[0]]).split()
    return first + [str(names[c]).split()[-1] for c in term[1:]]


def _unit_positions(document: Document, units: Sequence[Any], names: np.ndarray) -> list[tuple[int, int]]:
    tokens, where = _tokens(document)
    hits = []
    for u, unit in enumerate(units):
        for term in unit:
            spoken = _term_words(term, names)
            for i in where.get(spoken[0], ()):
                if tokens[i : i + len(spoken)] == spoken:
                    hits.append((i, u))
    return sorted(hits)


def _most_units_in_window(hits: list[tuple[int, int]]) -> int:
    best, start = 0, 0
    for end in range(len(hits)):
        while hits[end][0] - hits[start][0] >= WINDOW:
            start += 1
        best = max(best, len({u for _, u in hits[start : end + 1]}))
    return best


def proximity(weight: float, *, context_words: bool = False) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        units = [u for u in kw.get("units") or [] if u]
        documents = sv.Seen.documents
        if not units or len(documents) != matrix.shape[0]:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        bonus = np.zeros(matrix.shape[0])
        said: set[str] = set()
        if context_words and p.context is not None:
            row = p.context.tocsr()[0]
            said = {str(names[c]) for c in row.indices if " " not in str(names[c])}
        for r, document in enumerate(documents):
            hits = _unit_positions(document, units, names)
            if not hits:
                continue
            if context_words:
                if said:
                    tokens = _tokens(document)[0]
                    near = {t for i, _ in hits for t in tokens[max(0, i - WINDOW // 2) : i + WINDOW // 2 + 1]}
                    bonus[r] = len(near & said) / len(said)
            else:
                bonus[r] = max(0, _most_units_in_window(hits) - 1) / np.sqrt(len(kw["units"]))
        return _mix(p, p.tfidf, p.latent, bonus=weight * bonus), []

    return variant


# --- 4 and 5: other texts of the same call, on the model in use -----------------------------------

_DERIVED: dict[tuple[Any, ...], Any] = {}


def _derived(kind: str, model: Any, documents: Sequence[Document], make: Callable[[], Any]) -> Any:
    key = (kind, id(model), len(model.vocabulary), tuple(d.call_id for d in documents))
    if key not in _DERIVED:
        _DERIVED[key] = make()
    return _DERIVED[key]


def _lead(documents: Sequence[Document]) -> list[Document]:
    out = []
    for d in documents:
        title, _, text = d.plain.partition(" | ")
        out.append(Document(d.call_id, f"{title} | {' '.join(text.split()[:LEAD_WORDS])} "))
    return out


def _passages(documents: Sequence[Document], size: int, stride: int) -> tuple[list[Document], np.ndarray]:
    """Windows of ``size`` words of each text (with its title); the row each came from."""
    out, owner = [], []
    for row, d in enumerate(documents):
        title, _, text = d.plain.partition(" | ")
        tokens = text.split()
        for start in range(0, max(len(tokens) - size + stride, 1), stride):
            out.append(Document(d.call_id, f"{title} | {' '.join(tokens[start : start + size])} "))
            owner.append(row)
    return out, np.asarray(owner)


def field_latent(how: str) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        documents = sv.Seen.documents
        if not p.has_latent or not p.query.nnz or len(documents) != matrix.shape[0]:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        lead = _derived(
            "lead",
            p.model,
            documents,
            lambda: project(p.model, p.model.transform_documents(_lead(documents))),
        )
        unit = latent_query(p.model, p.query, False).unit
        if unit is None:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.where(lead.norms > 0, 1.0 / lead.norms, 0.0)
        near = np.clip(lead.latent @ unit * inverse, 0.0, 1.0)
        latent = {"lead": near, "half": 0.5 * p.latent + 0.5 * near, "max": np.maximum(p.latent, near)}[how]
        return _mix(p, p.tfidf, latent), []

    return variant


def passage_max(how: str) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        p = Parts(query, matrix, **kw)
        documents = sv.Seen.documents
        if not p.query.nnz or len(documents) != matrix.shape[0]:
            return sv._in_use_recomposed(query, matrix, names, 0, **kw)

        def make() -> tuple[Any, np.ndarray]:
            passages, owner = _passages(documents, PASSAGE, STRIDE)
            return p.model.transform_documents(passages), owner

        rows, owner = _derived("passages", p.model, documents, make)
        cosines = np.asarray(rows @ p.query.T.toarray()).ravel()
        best = np.zeros(matrix.shape[0])
        np.maximum.at(best, owner, cosines)
        lexical = 0.5 * p.tfidf + 0.5 * best if how == "half" else np.maximum(p.tfidf, best)
        return _mix(p, lexical, p.latent), []

    return variant


# --- 6. the LSA space: its size, and fitted on passages -------------------------------------------


class _Fitting:
    documents: Sequence[Document] = ()


@contextmanager
def lsa(dimensions: int = tfidf.LSA_DIMENSIONS, *, passages: bool = False) -> Iterator[None]:
    original_fit, original_lsa = tfidf.TfidfModel.__dict__["fit"], tfidf.fit_lsa

    def fit(cls: Any, documents: Sequence[Document], keep: Any = frozenset()) -> Any:
        _Fitting.documents = documents
        return original_fit.__func__(cls, documents, keep)

    def fit_lsa(model: Any, matrix: Any, dims: int = dimensions) -> Any:
        if not passages or len(_Fitting.documents) != matrix.shape[0]:
            return original_lsa(model, matrix, dimensions)
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize

        if matrix.shape[0] < tfidf.LSA_MIN_CORPUS:
            return None
        windows, _ = _passages(_Fitting.documents, LSA_SENTENCE, LSA_SENTENCE)
        rows = model.tfidf().transform(count_known(windows, model.vocabulary), copy=False).tocsr()
        svd = TruncatedSVD(dimensions, n_iter=tfidf.LSA_POWER_ITERATIONS, random_state=tfidf.LSA_SEED)
        svd.fit(normalize(rows[:, model.word_columns()]))
        return svd.components_.astype(np.float32)

    tfidf.TfidfModel.fit, tfidf.fit_lsa = classmethod(fit), fit_lsa
    try:
        yield
    finally:
        tfidf.TfidfModel.fit, tfidf.fit_lsa = original_fit, original_lsa


VARIANTS: dict[str, Callable[..., Any] | None] = {
    "in use": None,
    "1 saturated coverage k=0.1": saturation(0.1),
    "1 saturated coverage k=0.3": saturation(0.3),
    "1 saturated unit cosines k=0.3": saturation(0.3, coverage=False, cosine=True),
    "1 saturated both k=0.3": saturation(0.3, cosine=True),
    "2 latent - corpus mean": centred_latent,
    "2 z-scored legs": z_legs,
    "3 + 0.1 x units in 20 words": proximity(0.1),
    "3 + 0.2 x units in 20 words": proximity(0.2),
    "3 + 0.2 x label words near keyword": proximity(0.2, context_words=True),
    "4 latent of title+300 words": field_latent("lead"),
    "4 latent 1/2 full + 1/2 lead": field_latent("half"),
    "4 latent max(full, lead)": field_latent("max"),
    "5 lexical 1/2 doc + 1/2 best passage": passage_max("half"),
    "5 lexical max(doc, best passage)": passage_max("max"),
}
SPACES: dict[str, Callable[[], Any]] = {
    "6 LSA k=100": lambda: lsa(100),
    "6 LSA k=150": lambda: lsa(150),
    "6 LSA k=200": lambda: lsa(200),
    "6 LSA k=50 on 25-word passages": lambda: lsa(50, passages=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--variant", action="append", choices=[*VARIANTS, *SPACES], help="only this (repeatable)"
    )
    parser.add_argument(
        "--judged", action="append", type=Path, required=True, help="a judged file to measure on (repeatable)"
    )
    args = parser.parse_args()
    names = args.variant or [*VARIANTS, *SPACES]
    if "in use" not in names:
        names = ["in use", *names]
    results = {}
    for name in names:
        if name in SPACES:
            with SPACES[name]():
                results[name] = sv.measure(None, args.judged)
        else:
            results[name] = sv.measure(VARIANTS[name], args.judged)
        print(f"measured {name}", file=sys.stderr, flush=True)
    sv.print_files(results, args.judged)


if __name__ == "__main__":
    main()
