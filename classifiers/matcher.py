"""The matcher: texts in, scores and explanations out (pure; scikit-learn is imported when a model is
fitted or a text vectorised, so that a run with nothing to score does not load it).

**What a score is.** For a call ``d`` and a focus area::

    score = min(1, gate(d) × min(1, cosines(d) + UNIT_BONUS × coverage(d)))
    cosines(d) = ½ TF-IDF cosine(q, d) + ½ LSA cosine(q, d)       (q: the keywords' query, marks in)
    gate(d)    = 3 × (0.1 + 0.9 × closeness(d, the area's label and description))

so 0 means the call shares nothing with the area, and the score rises with how much of the call's
own wording is the area's keywords (cosines), how many of the keywords it has as whole terms
(coverage), and how close it is to what the area says it is about (gate). A call containing an
exclude phrase scores 0. The parts live in three modules: the vector space (documents, TF-IDF model,
LSA, cosines) in :mod:`classifiers.tfidf`, coverage and gate in :mod:`classifiers.gate`, the query,
the marks and the scoring with its explanation here.

How a call is scored against a focus area (every choice below is fixed; the LSA size and its
combination with TF-IDF were chosen on the relevance benchmark's dev half, the rest on principle):

1. **Features.** Title and text are tokenised by :mod:`classifiers.text` into words and two-word
   phrases (stop words removed, plural endings stripped). The title counts twice: it is the call's
   own summary (a BM25F-style field weight of 2, the customary default).
2. **Vocabulary.** A scikit-learn ``TfidfVectorizer`` with sublinear tf (1 + log tf, so a word repeated
   thirty times in a long call text does not drown everything else) and smoothed idf, fitted on the
   stored calls. Phrases that occur in only one call are dropped from the vocabulary (a phrase must
   recur to carry corpus statistics) unless a query asks for them.
3. **Query.** Each keyword of a focus area with its translations (Danish keywords through the
   config's synonyms, both ways, with their Nordic word forms) and the optional description is one
   unit vector; the query is their normalised sum, so every keyword counts equally however many words
   or translations it has (a unit repeating an earlier one once analysed is left out). A keyword
   phrase's single words weigh :data:`SPILL_WEIGHT` of its bigrams ("offshore wind" asks for the
   phrase, not for any "wind"; a keyword phrase no call writes keeps its place in its unit's norm, so
   its words keep that share instead of asking for any "economy" as a whole keyword), and every
   weight is multiplied by idf / max idf (:func:`specificity`: words most calls share, EU template
   language included, say little).
4. **Latent space (LSA).** A rank-50 truncated SVD (Deerwester et al. 1990; randomized, 10 power
   iterations, seed fixed) of the calls' single-word TF-IDF vectors, fitted without any labels on the
   stored calls; query and calls are compared in that space too, so a call about "wind farm
   maintenance" can meet an "offshore wind" query without the phrase. The cosine part is the TF-IDF
   cosine and the latent cosine in equal parts: the latent half finds calls by meaning, the TF-IDF
   half keeps phrases counting as phrases and a rare new keyword ("quantum") moving the ranking, which
   a 50-dimensional space alone smooths away. The size and the combination were chosen on the
   relevance benchmark's dev half only (``bench/relevance_variants.py``; README, "Relevance
   benchmark"). Corpora under 50 calls use plain TF-IDF cosine. Pseudo-relevance feedback (Rocchio on
   the first ranking) lost to LSA on the dev half and is off by default
   (``expanded_query(pseudo_feedback=True)``).
5. **Unit coverage.** To the cosine part is added a third of the coverage of the query's units by
   whole terms (:func:`classifiers.gate.unit_coverage`): a phrase counts only where all of it occurs
   ("energy storage" gains nothing from "energy" alone), and a call matching several of the area's
   keywords beats one matching one generic keyword often ("AI" in any domain). A third added is a
   quarter of the ranking, the larger of 1/4 and 1/2 that keeps the label benchmark's targets
   (README, "Judged benchmark"). Marks do not move it (it reads the area's keywords, not the query).
6. **Context gate.** The sum is multiplied by the gate (:func:`classifiers.gate.context_gate`): the
   call's closeness to the area's label and description, as written and as the synonyms translate
   them (the closer counts, so a Danish call is not gated for its language), with the keywords the
   label does not speak of joining them (new scope). Marks do not move it.
7. **Marks.** Calls marked by fundraisers (:mod:`classifiers.feedback`) move the query with Rocchio's
   textbook weights (beta 0.75 relevant, gamma 0.15 irrelevant; Manning, Raghavan & Schütze,
   *Introduction to IR*, §9.1) before the projection.
8. **Explanation.** The cosines and the coverage are exact sums of per-term contributions of the
   call's own words and phrases; the gate (and the cap at 1) scales every contribution alike, so the
   explanation's terms add up to the score; the largest are stored. A call whose text contains an
   exclude phrase (as whole words, plurals included) scores 0 for that area, and the match says which
   phrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.gate import (
    GATE_FLOOR,
    GATE_NOVEL_POWER,
    GATE_NOVEL_WEIGHT,
    GATE_SCALE,
    UNIT_BONUS,
    UNIT_WEIGHT,
    Unit,
    context_gate,
    context_latents,
    context_vector,
    novel_units,
    unit_columns,
    unit_coverage,
)
from classifiers.query import Query, focus_area_query, query_features
from classifiers.text import analyse, split_terms, words
from classifiers.tfidf import (
    LEXICAL_WEIGHT,
    LSA_DIMENSIONS,
    TITLE_WEIGHT,
    Document,
    LatentQuery,
    Projection,
    TfidfModel,
    cosine_parts,
    count_features,
    excluded_by,
    excluded_rows,
    fit_lsa,
    latent_query,
    prepare,
    project,
)

PRF_DOCS = 10
PRF_MIN_CORPUS = 50
PRF_TERMS = 50
ROCCHIO_ALPHA, ROCCHIO_BETA, ROCCHIO_GAMMA = 1.0, 0.75, 0.15
EXPLAIN_TERMS = 5
# the single words of a keyword phrase weigh half of its bigrams in the query (phrase over spill-over)
SPILL_WEIGHT = 0.5


@dataclass
class Match:
    call_id: int
    score: float  # 0..1
    terms: list[tuple[str, float]]  # top contributing terms, largest first
    excluded_by: str | None = None  # the exclude phrase that set the score to 0



def query_vector(model: TfidfModel, query: Query) -> Any:
    """The normalised sum of one unit vector per keyword with its translations (and one for the
    description); a unit is the normalised sum of its terms' vectors, each term counting alike
    ("AI" as much as "artificial intelligence"). Within a term the single words of a phrase weigh
    :data:`SPILL_WEIGHT` of the phrase's own bigrams ("offshore wind" asks for the phrase, not for any
    "wind"; also when no call writes the phrase: :func:`_unwritten_phrases`), and every feature is weighted
    once more by its idf relative to the vocabulary's largest (:func:`specificity`): a query asks a call
    to match its specific words, and words that most calls share ("energy", "project") say little."""
    from sklearn.preprocessing import normalize

    units = query.written_units(model.vocabulary)
    terms = [term for group in units for term in group]
    owner = [i for i, group in enumerate(units) for _ in group]
    features = [analyse(term) for term in terms]
    if query.description.strip():
        features.append(analyse(query.description))
        owner.append(len(units))
        terms.append("")
    kept = [i for i, f in enumerate(features) if f]
    if not kept or not model.vocabulary:
        return sparse.csr_matrix((1, len(model.vocabulary)), dtype=np.float32)
    vectors = model.transform([features[i] for i in kept]).tocsr()  # one L2-normalised row per term
    unwritten, shrink = _unwritten_phrases(model, [features[i] if terms[i] else [] for i in kept])
    for row, i in enumerate(kept):
        tokens = words(terms[i])
        spill = {model.vocabulary[w] for w in tokens if w in model.vocabulary} if len(tokens) > 1 else set()
        for position in range(vectors.indptr[row], vectors.indptr[row + 1]):
            if vectors.indices[position] in spill:
                vectors.data[position] *= SPILL_WEIGHT
            vectors.data[position] *= shrink[row]
    membership = ([owner[i] for i in kept], range(len(kept)))
    groups = sparse.csr_matrix((np.ones(len(kept), dtype=np.float32), membership),
                               shape=(max(owner) + 1, len(kept)))
    if unwritten is not None:
        # the phrases no call writes stay in the unit's norm, so their words keep SPILL_WEIGHT of it
        vectors = sparse.hstack([vectors, unwritten]).tocsr()
    units = normalize(groups @ vectors)  # a unit: its terms' sum, normalised
    units = units[:, :len(model.vocabulary)]
    summed = sparse.csr_matrix(units.sum(axis=0), dtype=np.float32)
    return normalize(specificity(model, summed))


def _unwritten_phrases(model: TfidfModel,
                       feature_lists: Sequence[list[str]]) -> tuple[Any | None, np.ndarray]:
    """For the keyword terms (rows as ``model.transform`` gives them) of which some words but no phrase
    is written by any call ("visitor economy"): one column per such phrase with the weight it would
    have in its term's L2-normalised row (the smoothed idf of a phrase in no call), and the factor
    that scales the row's written words alike. Without them the term's row held its loose words
    alone at the weight of the whole term, and "visitor economy" asked for any "economy" as much as
    a keyword does. A term none of whose features is written (a Danish keyword in English calls)
    asks for nothing and stays out. Returns (None, ones) when no term is such."""
    vocabulary, idf = model.vocabulary, model.idf
    shrink = np.ones(len(feature_lists), dtype=np.float64)
    if not len(idf):
        return None, shrink
    unwritten_idf = float(idf.max()) + float(np.log(2.0))  # idf of document frequency 0 (smoothed)
    names: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    for row, features in enumerate(feature_lists):
        counts: dict[str, int] = {}
        for feature in features:
            counts[feature] = counts.get(feature, 0) + 1
        phrases = [f for f in counts if " " in f]
        if not phrases or any(f in vocabulary for f in phrases):
            continue
        written = sum((1 + np.log(n)) ** 2 * float(idf[vocabulary[f]]) ** 2 for f, n in counts.items()
                      if f in vocabulary)  # sublinear tf × idf, as the vectoriser weighs them
        if not written:
            continue
        missing = {f: (1 + np.log(counts[f])) * unwritten_idf for f in phrases}
        norm = float(np.sqrt(written + sum(w * w for w in missing.values())))
        shrink[row] = np.sqrt(written) / norm
        for phrase, weight in missing.items():
            rows.append(row)
            columns.append(names.setdefault(phrase, len(names)))
            values.append(weight / norm)
    if not names:
        return None, shrink
    return sparse.csr_matrix((np.asarray(values, dtype=np.float32), (rows, columns)),
                             shape=(len(feature_lists), len(names))), shrink


def specificity(model: TfidfModel, vector: Any) -> Any:
    """``vector`` with each weight multiplied by its idf over the vocabulary's largest idf (0–1): the
    corpus-wide down-weighting of common wording (EU template language such as "expected outcome" or
    "contribute" is in most calls), derived from document frequencies alone."""
    vector = vector.tocsr().copy()
    top = float(model.idf.max()) if len(model.idf) else 1.0
    if top > 0:
        vector.data *= model.idf[vector.indices] / top
    return vector



def rocchio(query: Any, matrix: Any, relevant: Sequence[int], irrelevant: Sequence[int] = (), *,
            beta: float = ROCCHIO_BETA, gamma: float = ROCCHIO_GAMMA, keep_terms: int = PRF_TERMS) -> Any:
    """``alpha q + beta mean(relevant) - gamma mean(irrelevant)``, negatives cut, the expansion
    limited to the ``keep_terms`` strongest new terms, normalised."""
    from sklearn.preprocessing import normalize

    vector = ROCCHIO_ALPHA * query.toarray().ravel()
    if len(relevant):
        centroid = np.asarray(matrix[list(relevant)].mean(axis=0)).ravel()
        if keep_terms and np.count_nonzero(centroid) > keep_terms:
            cut = np.partition(centroid, -keep_terms)[-keep_terms]
            centroid = np.where((centroid >= cut) | (vector > 0), centroid, 0)
        vector = vector + beta * centroid
    if len(irrelevant):
        vector = vector - gamma * np.asarray(matrix[list(irrelevant)].mean(axis=0)).ravel()
    vector = np.clip(vector, 0, None).astype(np.float32)
    return normalize(sparse.csr_matrix(vector))


def cosine(query: Any, matrix: Any) -> np.ndarray:
    """Cosine of a (normalised) query with every row of ``matrix``: one sparse × dense product."""
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0], dtype=np.float32)
    dense_query = query.toarray().ravel()
    return np.clip(matrix @ dense_query, 0.0, 1.0)


def expanded_query(model: TfidfModel, query: Query, documents: Sequence[Document], matrix: Any, *,
                   relevant: Sequence[int] = (), irrelevant: Sequence[int] = (),
                   pseudo_feedback: bool = False, excluded: dict[int, str] | None = None) -> Any:
    """The query vector after the marks (Rocchio; ``relevant``/``irrelevant`` are row indexes into
    ``matrix``) and, when asked, pseudo-relevance feedback on the first ranking (off by default: it
    lost to LSA on the benchmark's dev half); ``excluded`` as from :func:`excluded_rows`."""
    vector = query_vector(model, query)
    feedback_rows: list[int] = list(relevant)
    if pseudo_feedback and len(documents) >= PRF_MIN_CORPUS:
        first = cosine(vector, matrix)
        if excluded is None:
            excluded = excluded_rows(documents, query.exclude)
        candidates = first > 0
        blocked = [*irrelevant, *excluded]
        if blocked:
            candidates[np.asarray(blocked, dtype=np.int64)] = False
        rows = np.flatnonzero(candidates)
        order = rows[np.argsort(-first[rows], kind="stable")][:PRF_DOCS]
        feedback_rows = unique_ints(list(relevant) + order.tolist())
    if not feedback_rows and not irrelevant:
        return vector
    from sklearn.preprocessing import normalize

    # the marked calls' wording is weighted by specificity as the keywords are
    return normalize(specificity(model, rocchio(vector, matrix, feedback_rows, irrelevant)))


def unique_ints(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))



def score_rows(query: Any, matrix: Any, names: np.ndarray, top: int = EXPLAIN_TERMS, *,
               model: TfidfModel | None = None, projection: Projection | None = None,
               lexical_weight: float = LEXICAL_WEIGHT, units: Sequence[Unit] | None = None,
               context: Any | None = None, latents: Latents | None = None, evidence: bool = False
               ) -> Any:
    """Scores of every row of ``matrix`` for ``query`` (0–1) and, when ``top`` > 0, each row's ``top``
    terms by contribution to its score (largest first, ties in vocabulary order).

    With an LSA model the cosine part is ``lexical_weight`` × the TF-IDF cosine plus the rest × the
    cosine of query and call in the latent space. Both are exact sums of per-term contributions: the
    TF-IDF cosine of ``q_i d_i`` over the query's words and phrases, the latent cosine of
    ``d_i e_i / |d V|`` over the call's words ``i`` (``e = V^T z``, ``z`` the unit latent query). Without
    an LSA model (small corpora) the cosine part is the TF-IDF cosine alone. With ``units`` (from
    :func:`unit_columns`) the score is the cosine part plus :data:`UNIT_BONUS` × the unit coverage
    (:func:`unit_coverage`), at most 1; the explanation lists the terms with the largest weighted sum.
    With ``context`` (from :func:`context_vector`) the whole is multiplied by the row's gate
    (:func:`context_gate`), and so is every term's contribution, so they still add up to the score.
    ``latents`` are :func:`query_latents` of ``query`` and ``context`` when already computed (a query
    scored block after block). With ``evidence`` a third value is returned: each row's score before
    the caps at 1 (float64), what orders equal scores (:mod:`pipeline.core.ranking`)."""
    rows = matrix.shape[0]
    query = query.tocsr()
    query.sum_duplicates()
    if (query.nnz == 0 and not units) or rows == 0:
        empty = np.zeros(rows, dtype=np.float32), [[] for _ in range(rows)] if top > 0 else []
        return (*empty, np.zeros(rows)) if evidence else empty
    width = len(names)
    capped = None
    scores, part = cosine_parts(query, matrix, width, top > 0, model, projection, lexical_weight,
                                None if latents is None else latents[0])
    uncapped = scores.astype(np.float64)
    if units:
        coverage, unit_part = unit_coverage(matrix, units, width, top > 0)
        summed = scores + UNIT_BONUS * coverage
        uncapped = summed.astype(np.float64)
        scores = np.clip(summed, 0.0, 1.0).astype(np.float32)
        # a sum capped at 1 (one keyword matched whole and often) shrinks its terms with it
        capped = np.where(summed > 1.0, 1.0 / np.maximum(summed, 1.0), 1.0).astype(np.float64)
        if top > 0:
            part = (part + UNIT_BONUS * unit_part).tocsr()
    if context is not None:
        gate = context_gate(context, matrix, model, projection, lexical_weight,
                            None if latents is None else latents[1])
        gated = scores.astype(np.float64) * gate
        uncapped = uncapped * gate
        # a score the gate would lift above 1 is capped, and its terms shrink with it, so they add up
        factor = gate * np.where(gated > 1.0, 1.0 / np.maximum(gated, 1.0), 1.0)
        scores = np.clip(gated, 0.0, 1.0).astype(np.float32)
        capped = factor if capped is None else factor * capped
    if top <= 0:
        return (scores, [], uncapped) if evidence else (scores, [])
    if capped is not None:
        part = _scale_rows(part, capped)
    terms = _top_terms(part, np.arange(width), names, top)
    return (scores, terms, uncapped) if evidence else (scores, terms)


def _scale_rows(part: Any, factor: np.ndarray) -> Any:
    """``part`` (CSR) with each row multiplied by its factor (what a diagonal matrix product computes)."""
    scale = np.repeat(factor.astype(np.float64), np.diff(part.indptr))
    return sparse.csr_matrix((part.data * scale, part.indices, part.indptr), shape=part.shape,
                             dtype=np.float32)




Latents = tuple[LatentQuery | None, list[LatentQuery] | None]


def query_latents(model: TfidfModel, query: Any, context: Any | None) -> Latents:
    """The latent parts of a query and its gate query that :func:`score_rows` needs whatever the rows
    (:func:`classifiers.tfidf.latent_query`, with the word-space weights its explanations use)."""
    if model.components is None:
        return None, None
    query = query.tocsr()
    query.sum_duplicates()
    return (latent_query(model, query, True) if query.nnz else None), context_latents(context, model)


def _top_terms(part: Any, columns: np.ndarray, names: np.ndarray, top: int) -> list[list[tuple[str, float]]]:
    """Each row's ``top`` entries of ``part`` (rows × ``columns``) as (term, value), largest first, ties
    in column order.

    Exact top-k without sorting every entry: ``top`` passes of a per-row maximum mark each row's
    ``top`` largest distinct values (ties included), and only those few candidates are sorted by
    (row, -value, column) — no per-row sparse objects, no dense document matrix."""
    rows = part.shape[0]
    part.eliminate_zeros()
    lengths = np.diff(part.indptr)
    row_of = np.repeat(np.arange(rows), lengths)
    candidate = _row_top_values(part.data, part.indptr, lengths, row_of, top)
    chosen = np.flatnonzero(candidate)
    chosen = chosen[np.lexsort((part.indices[chosen], -part.data[chosen], row_of[chosen]))]
    chosen_rows = row_of[chosen]
    rank_in_row = np.arange(len(chosen)) - np.searchsorted(chosen_rows, chosen_rows)
    chosen = chosen[rank_in_row < top]
    counts = np.minimum(lengths, top)
    labels = names[columns[part.indices[chosen]]].tolist()
    values = np.round(part.data[chosen].astype(np.float64), 4).tolist()
    pairs = list(zip(labels, values, strict=True))
    explanations: list[list[tuple[str, float]]] = []
    start = 0
    for count in counts.tolist():
        explanations.append(pairs[start:start + count])
        start += count
    return explanations


def _row_top_values(data: np.ndarray, indptr: np.ndarray, lengths: np.ndarray, row_of: np.ndarray,
                    top: int) -> np.ndarray:
    """A mask of the entries holding one of their row's ``top`` largest distinct values: a superset of
    the row's top ``top`` entries (ties at the last value all kept), found in ``top`` vectorised passes."""
    if len(data) and top >= lengths.max():  # every entry is among its row's top
        return np.ones(len(data), dtype=bool)
    taken = np.zeros(len(data), dtype=bool)
    if not len(data) or top <= 0:
        return taken
    starts = indptr[:-1][lengths > 0]  # reduceat over non-empty rows only: each segment is one row
    remaining = data.astype(np.float64)
    filled = np.flatnonzero(lengths > 0)
    best = np.full(len(lengths), -np.inf)
    for _ in range(top):
        best[filled] = np.maximum.reduceat(remaining, starts)
        hit = (remaining == best[row_of]) & ~taken
        if not hit.any():
            break
        taken |= hit
        remaining[hit] = -np.inf
    return taken


def score_documents(model: TfidfModel, query_vec: Any, query: Query, documents: Sequence[Document],
                    matrix: Any, names: np.ndarray | None = None, *, explain_top: int = EXPLAIN_TERMS,
                    excluded: dict[int, str] | None = None) -> list[Match]:
    """One Match per document, in the documents' order."""
    names = model.terms() if names is None else names
    excluded = excluded_rows(documents, query.exclude) if excluded is None else excluded
    scores, terms = score_rows(query_vec, matrix, names, explain_top, model=model,
                               units=unit_columns(model, query), context=context_vector(model, query))
    rounded = np.round(scores.astype(np.float64), 6).tolist()
    matches = []
    for index, document in enumerate(documents):
        phrase = excluded.get(index)
        if phrase is not None:
            matches.append(Match(document.call_id, 0.0, [], excluded_by=phrase))
        else:
            score = rounded[index]
            matches.append(Match(document.call_id, score, terms[index] if terms and score > 0 else []))
    return matches


def rank(query: Query, documents: Sequence[Document], *, pseudo_feedback: bool = False,
         relevant: Sequence[int] = (), irrelevant: Sequence[int] = ()) -> list[Match]:
    """Fit on ``documents`` and score each of them for ``query`` (in the documents' order)."""
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    vector = expanded_query(model, query, documents, matrix, relevant=relevant, irrelevant=irrelevant,
                            pseudo_feedback=pseudo_feedback)
    return score_documents(model, vector, query, documents, matrix)


def match_query(query: str, documents: Sequence[tuple[int, str, str]], *, exclude: Sequence[str] = (),
                top: int = 10) -> list[Match]:
    """The ``top`` documents ``(call_id, title, text)`` best matching ``query``, best first.

    The query is cut at commas, semicolons and new lines into terms; each term counts as a phrase.
    Documents with a score of 0 are left out, and so are documents containing an ``exclude`` phrase.
    """
    prepared = [prepare(call_id, title, text) for call_id, title, text in documents]
    terms = split_terms(query)
    matches = rank(Query("query", tuple(terms), "", tuple(exclude)), prepared)
    kept = [m for m in matches if m.score > 0]
    kept.sort(key=lambda m: -m.score)
    return kept[:top]


# the names callers import from here, wherever they are defined
__all__ = [
    "Match", "Query", "Document", "TfidfModel", "Projection", "Unit", "focus_area_query", "query_features",
    "prepare", "project", "fit_lsa", "count_features", "match_query", "rank", "score_documents", "score_rows",
    "expanded_query", "query_vector", "excluded_by", "excluded_rows", "rocchio", "unit_columns",
    "unit_coverage", "context_vector", "context_gate", "specificity", "novel_units", "cosine_parts",
    "EXPLAIN_TERMS", "LEXICAL_WEIGHT", "LSA_DIMENSIONS", "TITLE_WEIGHT", "SPILL_WEIGHT", "UNIT_WEIGHT",
    "UNIT_BONUS", "GATE_FLOOR", "GATE_SCALE", "GATE_NOVEL_WEIGHT", "GATE_NOVEL_POWER",
]
