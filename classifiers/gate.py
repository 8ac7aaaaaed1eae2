"""What a score is checked against besides the query's vector (pure): the coverage of the query's
units by whole terms, and the context gate built from the area's own label and description
(:mod:`classifiers.matcher`, steps 5 and 7, tells how both enter the score)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.query import Query
from classifiers.text import analyse, words
from classifiers.tfidf import LEXICAL_WEIGHT, LatentQuery, Projection, TfidfModel, cosine_parts, latent_query

# the unit coverage's share of the ranking: the larger of 1/4 and 1/2 that keeps the label benchmark's
# targets (MAP >= 0.78, P@10 >= 0.90); README, "Judged benchmark". It is added to the cosine part as
# UNIT_WEIGHT / (1 - UNIT_WEIGHT) × coverage (the same order as the 1/4 : 3/4 mix), so a call the
# coverage says nothing about keeps the score it had, and alert thresholds keep their meaning.
UNIT_WEIGHT = 0.25
UNIT_BONUS = UNIT_WEIGHT / (1 - UNIT_WEIGHT)
# the context gate: a score is multiplied by GATE_FLOOR + (1 - GATE_FLOOR) × the call's closeness to the
# area's label and description; README, "Relevance benchmark", how it was chosen
GATE_FLOOR = 0.1
# the gate is scaled by this so that scores keep their meaning for thresholds: with it, the share of the
# recorded calls whose best score passes the digest's 0.3 and the default alert threshold 0.4 stays what
# it was without the gate (README, "Judged benchmark"); it changes no ranking below a score of 1
GATE_SCALE = 3.0
# a keyword the label and description do not speak of is new scope the label cannot judge: its unit
# joins the gate's query at GATE_NOVEL_WEIGHT × (1 - a)^GATE_NOVEL_POWER, a = the unit's closeness to
# label and description; the power keeps every unit they share anything with (a ≳ 0.1) out
# (README, "Judged benchmark", how chosen)
GATE_NOVEL_WEIGHT = 0.4
GATE_NOVEL_POWER = 32.0

Unit = list[list[int]]  # one query unit: per term, the columns that must all be in a call


def context_vector(model: TfidfModel, query: Query) -> Any | None:
    """The area's label and description as a weak query (normalised TF-IDF), or None without either:
    what the area is about in its own words, used to gate the score (:func:`score_rows`). The units of
    keywords the label and description say nothing of are added (:func:`novel_units`): a secretariat
    that adds "quantum" to a digital area widens what the area is about, and the gate follows, while a
    keyword inside the label's scope ("AI" for "Digital industry, AI and robotics") stays gated by it.

    A second row holds the label and description as the strategy's synonyms translate them
    (:func:`context_features`), when they speak of a keyword that has translations: a Danish call
    about "havvind og brint" is as close to "Offshore wind ... green hydrogen" as an English one. The
    gate takes the closer of the rows (:func:`context_gate`)."""
    from sklearn.preprocessing import normalize

    if not model.vocabulary:
        return None
    written, translated = context_features(query)
    rows = []
    for features in (written, translated):
        vector = model.transform([features]) if features else None
        if vector is None or not vector.nnz:
            continue
        vector = normalize(vector)
        if GATE_NOVEL_WEIGHT > 0:
            novel = novel_units(model, query, vector if not rows else rows[0])
            vector = normalize(vector + GATE_NOVEL_WEIGHT * novel)
        rows.append(vector)
        if not written:
            break  # without label and description there is nothing to translate
    return sparse.vstack(rows).tocsr() if rows else None


def context_features(query: Query) -> tuple[list[str], list[str]]:
    """The features of the label and description as written, and with the translations of the terms
    they mention (as whole words) added: "offshore wind" brings the synonyms' havvind and havsbaserad
    vindkraft with their Nordic forms. The second list is empty when they mention no translated term.
    The written words stay in it, so a call sharing none of the translations' words is no closer to it
    by TF-IDF than to the written row: it is the calls saying things as the translations do that gain."""
    written = analyse(f"{query.label} {query.description}")
    spoken = f" {' '.join(words(f'{query.label} {query.description}'))} "

    def said(term: str) -> bool:
        return bool(key := " ".join(words(term))) and f" {key} " in spoken

    # both ways, as in the keyword units: an English label brings the Danish forms, and a label the
    # secretariat wrote in Danish ("Kræft") brings its English terms, without which English calls
    # would find no word of the label and the area would have no gate at all
    added = [f for source, target in query.translations if said(target) for f in analyse(source)]
    added += [f for source, target in query.translations if said(source) for f in analyse(target)]
    return written, (written + added if written and added else [])


def novel_units(model: TfidfModel, query: Query, context: Any) -> Any:
    """The sum of the area's unit vectors (a keyword with its translations, normalised TF-IDF), each
    weighted by ``(1 - a)^GATE_NOVEL_POWER``, ``a`` its closeness (TF-IDF and LSA mixed as the gate's) to
    ``context``, the normalised label and description: about 1 for a unit they share no word or latent
    direction with, about 0 for one they mention or neighbour."""
    from sklearn.preprocessing import normalize

    units = [[f for term in group for f in analyse(term)] for group in query.written_units(model.vocabulary)]
    units = [u for u in units if u]
    total = sparse.csr_matrix((1, len(model.vocabulary)), dtype=np.float32)
    if not units:
        return total
    vectors = normalize(model.transform(units)).tocsr()
    for row in range(vectors.shape[0]):
        unit = vectors[row]
        if not unit.nnz:
            continue
        said, _ = cosine_parts(unit, context, context.shape[1], False, model, None, LEXICAL_WEIGHT)
        total = total + (1 - float(np.clip(said[0], 0.0, 1.0))) ** GATE_NOVEL_POWER * unit
    return total


def context_gate(context: Any, matrix: Any, model: TfidfModel | None, projection: Projection | None,
                 lexical_weight: float = LEXICAL_WEIGHT, latents: Sequence[LatentQuery] | None = None
                 ) -> np.ndarray:
    """Per row ``GATE_SCALE × (GATE_FLOOR + (1 - GATE_FLOOR) × c)``, ``c`` the row's cosine with the
    area's label and description (TF-IDF and LSA mixed as the keyword query's; the larger of the
    context's rows, as written and as translated): a call far from what the area says it is about
    ranks low however many of its keywords it matches ("AI" in schools for "Digital industry, AI and
    robotics"). Marks do not move it. ``latents`` are :func:`context_latents` of ``context`` when
    already computed."""
    rows = matrix.shape[0]
    context = context.tocsr()
    context.sum_duplicates()
    closeness = np.zeros(rows, dtype=np.float32)
    for index in range(context.shape[0]):
        said, _ = cosine_parts(context[index], matrix, matrix.shape[1], False, model, projection,
                               lexical_weight, None if latents is None else latents[index])
        closeness = np.maximum(closeness, said)
    gate = GATE_SCALE * (GATE_FLOOR + (1 - GATE_FLOOR) * np.clip(closeness, 0.0, 1.0))
    return gate.astype(np.float32).reshape(rows)


def context_latents(context: Any, model: TfidfModel | None) -> list[LatentQuery] | None:
    """The :class:`LatentQuery` of each row of a gate query (None without an LSA space or a gate)."""
    if context is None or model is None or model.components is None:
        return None
    context = context.tocsr()
    context.sum_duplicates()
    return [latent_query(model, context[index], False) for index in range(context.shape[0])]


def unit_columns(model: TfidfModel, query: Query) -> list[Unit]:
    """Per query unit (a keyword with its translations), per term, the columns of the whole term: a
    single word's column, or every consecutive word pair of a phrase ("zero emission", "emission
    vessel"). A term whose columns are not all in the vocabulary matches no call."""
    units: list[Unit] = []
    for group in query.units():
        terms: Unit = []
        for term in group:
            tokens = words(term)
            pairs = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
            keys = tokens if len(tokens) == 1 else pairs
            found = [model.vocabulary.get(key) for key in keys]
            if keys and all(c is not None for c in found):
                terms.append([int(c) for c in found])
        units.append(terms)
    return units


def unit_coverage(matrix: Any, units: Sequence[Unit], width: int, explain: bool) -> tuple[np.ndarray, Any]:
    """How many of the query's units a call matches as whole terms, and how strongly.

    A term's evidence in a call is its weakest column's TF-IDF weight in the call's row (a phrase
    counts only where all of it occurs: "energy storage" gains nothing from "energy" alone); a unit's
    evidence is its strongest term's; the coverage is the units' sum divided by the square root of the
    number of units, at most 1 for an L2-normalised row (Cauchy–Schwarz) when units match distinct
    columns. A call matching one generic unit ("AI") thus ranks below one matching several, and the
    row's sublinear tf and length normalisation saturate repeated terms as BM25 does. Each unit's
    evidence is attributed to the column it came from, so the contributions sum to the coverage."""
    rows = matrix.shape[0]
    needed = sorted({c for unit in units for term in unit for c in term})
    coverage = np.zeros(rows, dtype=np.float32)
    if not needed or not units:
        return coverage, sparse.csr_matrix((rows, width), dtype=np.float32) if explain else None
    position = {c: i for i, c in enumerate(needed)}
    dense = np.asarray(matrix[:, needed].toarray(), dtype=np.float32)
    scale = np.float32(1 / np.sqrt(len(units)))
    entry_rows, entry_cols, entry_vals = [], [], []
    for unit in units:
        if not unit:
            continue
        blocks = [dense[:, [position[c] for c in term]] for term in unit]
        evidence = np.stack([block.min(axis=1) for block in blocks], axis=1)  # rows × terms
        best = evidence.argmax(axis=1)
        value = evidence[np.arange(rows), best] * scale
        coverage += value
        if explain:  # the column each row's evidence came from
            weakest = np.stack([np.asarray(term)[block.argmin(axis=1)] for term, block in zip(unit, blocks,
                                                                                              strict=True)],
                               axis=1)
            hit = np.flatnonzero(value > 0)
            entry_rows.append(hit)
            entry_cols.append(weakest[hit, best[hit]])
            entry_vals.append(value[hit])
    if not explain:
        return coverage, None
    if not entry_rows:
        return coverage, sparse.csr_matrix((rows, width), dtype=np.float32)
    part = sparse.csr_matrix((np.concatenate(entry_vals).astype(np.float32),
                              (np.concatenate(entry_rows), np.concatenate(entry_cols))), shape=(rows, width))
    part.sum_duplicates()
    return coverage, part


def gates_hash(queries: Sequence[Query], model_key: str) -> str:
    """The identity of the areas' gate queries: what :func:`context_vector` reads of each area (its
    label, description, units and translations), the gate's constants and ``model_key``, the model
    they are built on (the corpus model's version and the strategy's extra columns)."""
    data = [[q.name, q.label, q.description, [list(g) for g in q.units()], [list(t) for t in q.translations]]
            for q in queries]
    constants = [GATE_NOVEL_WEIGHT, GATE_NOVEL_POWER, LEXICAL_WEIGHT]
    text = json.dumps([data, constants, model_key], ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def context_to_rows(context: Any | None, names: np.ndarray) -> list[dict[str, float]]:
    """A gate query as stored: one ``{term: weight}`` per row (none for no gate). The weights are
    float32 values, which a JSON float holds exactly."""
    if context is None:
        return []
    context = context.tocsr()
    context.sum_duplicates()
    rows = []
    for index in range(context.shape[0]):
        start, end = context.indptr[index], context.indptr[index + 1]
        rows.append({str(names[c]): float(v) for c, v in zip(context.indices[start:end].tolist(),
                                                             context.data[start:end].tolist(), strict=True)})
    return rows


def context_from_rows(rows: Sequence[dict[str, float]], model: TfidfModel) -> Any | None:
    """The gate query :func:`context_to_rows` stored, on ``model`` (the one it was built on)."""
    if not rows:
        return None
    data, columns, indptr = [], [], [0]
    for row in rows:
        found = sorted((model.vocabulary[term], weight) for term, weight in row.items())
        columns.extend(c for c, _ in found)
        data.extend(w for _, w in found)
        indptr.append(len(columns))
    return sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(columns, dtype=np.int32),
                              np.asarray(indptr, dtype=np.int32)), shape=(len(rows), len(model.vocabulary)))
