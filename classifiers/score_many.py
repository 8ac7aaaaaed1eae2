"""Every focus area scored against one block of calls at once (pure): what
:func:`classifiers.matcher.score_rows` computes for each area, bit for bit, with the areas' entries
stacked as (area, row) segments of a few numpy arrays instead of a dozen scipy objects per area.

For a block of a hundred calls the per-area path spent its time building small sparse matrices, not
computing. Here every step that works on one row at a time runs once for all areas: the lexical
products of every query and gate row with the block's entries, the unit coverage from one dense pick
of the columns the areas need, and the explanations' contributions of the kept (area, call) pairs
stacked as the rows of one matrix. Each value is computed by the same operation, in the same dtype
and in the same order as the per-area path (a row's lexical sum by ``np.add.reduceat`` over its
entries in column order, as scipy sums a CSR row; the latent products by the same matrix-vector
product with the block's latent rows), so scores and explanations are the same to the last bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.gate import GATE_FLOOR, GATE_SCALE, UNIT_BONUS, Unit
from classifiers.matcher import Latents, _top_terms
from classifiers.tfidf import LEXICAL_WEIGHT, Projection, TfidfModel, latent_query, project


@dataclass
class _Gate:
    """One row of an area's gate query: its lexical query's number (None when it has no term) and
    its unit latent vector (None when it is compared by TF-IDF alone)."""

    lexical: int | None
    unit: np.ndarray | None


@dataclass
class _Area:
    active: bool  # what score_rows scores at all: a query with terms, or units
    lexical: bool  # the query has terms
    unit: np.ndarray | None  # the query's unit latent vector, when the latent half is mixed in
    units: bool  # the area has units (unit coverage added)
    gate: list[_Gate] | None  # the gate query's rows (None: no gate)


@dataclass
class _Coverage:
    """The areas' units over the union of their columns: per term its positions in the union and its
    vocabulary columns (padded by repeating its first), per unit its terms (padded by a sentinel
    term whose evidence is -1), per area its non-empty units in order (padded by a sentinel unit of
    value 0), and each unit's scale (its area's 1/sqrt(number of units))."""

    needed: np.ndarray
    term_positions: np.ndarray  # terms × longest term
    term_columns: np.ndarray
    unit_terms: np.ndarray  # units × most terms
    unit_scale: np.ndarray  # float32, per unit
    area_units: np.ndarray  # areas × most units


@dataclass
class Areas:
    """The focus areas' queries prepared for :func:`score_areas` (built once per run)."""

    width: int
    areas: list[_Area]
    # the lexical queries (each area's query, then its gate rows) by vocabulary column: the queries
    # holding column c are query_of[starts[c]:starts[c + 1]], with their weights
    starts: np.ndarray
    query_of: np.ndarray
    weights: np.ndarray
    queries: int  # the areas' own and their gate rows: the lexical queries' numbers
    coverage: _Coverage | None
    expanded: list[np.ndarray | None]  # per area its latent query in word space (explanations)
    word_columns: np.ndarray | None
    latent_queries: list[int]  # the lexical queries with a latent direction, and their unit vectors
    latent_units: list[np.ndarray]
    lexical: np.ndarray  # per area: its query has terms
    with_units: np.ndarray  # per area: it has units
    gated: np.ndarray  # per area: it is scored and gated
    gate_rows: np.ndarray  # per area its gate rows' query numbers, padded with ``queries`` (none)


def _canonical(vector: Any) -> Any:
    # what score_rows and context_gate do to a query before reading its entries
    vector = vector.tocsr()
    vector.sum_duplicates()
    return vector


def prepare_areas(model: TfidfModel, vectors: Sequence[Any], units: Sequence[Sequence[Unit]],
                  contexts: Sequence[Any | None], latents: Sequence[Latents]) -> Areas:
    """The areas' query ``vectors``, unit columns, gate queries and latent parts
    (:func:`classifiers.matcher.query_latents`) prepared for :func:`score_areas`."""
    width = len(model.vocabulary)
    mixing = model.components is not None
    # lexical query numbers: area a's own query is a, the gate rows follow from len(vectors) on
    numbers: list[int] = []
    columns: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    areas: list[_Area] = []
    expanded: list[np.ndarray | None] = []

    def lexical(indices: np.ndarray, data: np.ndarray, number: int) -> int | None:
        if len(indices) == 0:
            return None
        numbers.append(number)
        columns.append(indices.astype(np.int64))
        weights.append(data)
        return number

    queries = [_canonical(vector) for vector in vectors]
    for number, query in enumerate(queries):
        lexical(query.indices, query.data, number)
    gate_rows = len(queries)
    for query, area_units, context, (main, gates) in zip(queries, units, contexts, latents, strict=True):
        unit = None
        if mixing and query.nnz:
            if main is None or (main.unit is not None and main.expanded is None):
                main = latent_query(model, query, True)
            unit = main.unit
        expanded.append(None if unit is None else main.expanded)
        gate = None
        if context is not None:
            context = _canonical(context)
            gate = []
            for index in range(context.shape[0]):
                begin, end = context.indptr[index], context.indptr[index + 1]
                row_unit = None
                if mixing and end > begin:
                    found = latent_query(model, context[index], False) if gates is None else gates[index]
                    row_unit = found.unit
                number = lexical(context.indices[begin:end], context.data[begin:end], gate_rows)
                gate_rows += number is not None
                gate.append(_Gate(number, row_unit))
        areas.append(_Area(bool(query.nnz) or bool(area_units), bool(query.nnz), unit, bool(area_units),
                           gate))
    owner = np.repeat(np.asarray(numbers, dtype=np.int64), [len(c) for c in columns])
    flat_columns = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    dtype = np.result_type(*weights) if weights else np.float32
    flat_weights = np.concatenate(weights).astype(dtype) if weights else np.zeros(0, dtype=np.float32)
    order = np.lexsort((owner, flat_columns))
    starts = np.zeros(width + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat_columns, minlength=width), out=starts[1:])
    word_columns = model.word_columns() if mixing else None
    latent = [(index, area.unit) for index, area in enumerate(areas)
              if area.lexical and area.unit is not None]
    latent += [(row.lexical, row.unit) for area in areas for row in area.gate or []
               if row.lexical is not None and row.unit is not None]
    widest = max((len(area.gate or []) for area in areas), default=0)
    padded = np.full((len(areas), widest), gate_rows, dtype=np.int64)
    for index, area in enumerate(areas):
        for step, row in enumerate(area.gate or []):
            padded[index, step] = gate_rows if row.lexical is None else row.lexical
    flags = np.array([(a.lexical, a.units, a.active and a.gate is not None) for a in areas],
                     dtype=bool).reshape(len(areas), 3)
    return Areas(width, areas, starts, owner[order], flat_weights[order], gate_rows,
                 _coverage(units), expanded, word_columns, [q for q, _ in latent], [u for _, u in latent],
                 flags[:, 0], flags[:, 1], flags[:, 2], padded)


def _coverage(units: Sequence[Sequence[Unit]]) -> _Coverage | None:
    needed = sorted({c for area in units for unit in area for term in unit for c in term})
    if not needed:
        return None
    terms: list[list[int]] = []
    unit_terms: list[list[int]] = []
    scales: list[np.float32] = []
    area_units: list[list[int]] = []
    for area in units:
        mine: list[int] = []
        scale = np.float32(1 / np.sqrt(len(area))) if area else np.float32(0)
        for unit in area:
            if not unit:
                continue
            unit_terms.append(list(range(len(terms), len(terms) + len(unit))))
            terms.extend(list(term) for term in unit)
            scales.append(scale)
            mine.append(len(unit_terms) - 1)
        area_units.append(mine)
    longest = max(len(t) for t in terms)
    columns = np.array([t + [t[0]] * (longest - len(t)) for t in terms], dtype=np.int64)
    positions = np.searchsorted(np.asarray(needed, dtype=np.int64), columns)
    most = max(len(u) for u in unit_terms)
    padded_units = np.array([u + [len(terms)] * (most - len(u)) for u in unit_terms], dtype=np.int64)
    widest = max((len(a) for a in area_units), default=0)
    padded_areas = np.array([a + [len(unit_terms)] * (widest - len(a)) for a in area_units], dtype=np.int64)
    return _Coverage(np.asarray(needed, dtype=np.int64), positions.reshape(len(terms), longest),
                     columns, padded_units, np.asarray(scales, dtype=np.float32),
                     padded_areas.reshape(len(units), widest))


@dataclass
class Scored:
    """A block's scores for every area (areas × rows, float32) and what explaining them needs."""

    scores: np.ndarray
    factors: list[np.ndarray | None]  # per area its rows' gate factors (None: no gate)
    rows: int
    projection: Projection | None
    inverse: np.ndarray | None
    # the lexical entries of every query, ordered by (query, row, column)
    entry_query: np.ndarray
    entry_row: np.ndarray
    entry_column: np.ndarray
    entry_value: np.ndarray
    # per (row, unit) the unit's value and the column it came from
    unit_value: np.ndarray | None
    unit_column: np.ndarray | None
    sums: np.ndarray  # every lexical query's clipped sums (queries × rows)
    coverage: np.ndarray | None  # every area's unit coverage (areas × rows)
    # every area's score before the caps at 1 (areas × rows, float64): what orders equal scores
    evidence: np.ndarray


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each start and length."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


def _lexical(areas: Areas, rows: Any) -> tuple[np.ndarray, ...]:
    """Every lexical query's entries in ``rows`` (CSR) ordered by (query, row, the row's own order):
    their query, row, column and value (the row's weight times the query's), and each (query, row)'s
    sum, clipped (queries × rows, float32) as :func:`classifiers.tfidf.cosine_parts` sums them."""
    count = rows.shape[0]
    lengths = np.diff(rows.indptr)
    row_of = np.repeat(np.arange(count), lengths)
    columns = rows.indices.astype(np.int64)
    # every entry once per query holding its column, then ordered by query (stable: rows and the
    # rows' entries keep their order)
    held = areas.starts[columns + 1] - areas.starts[columns]
    entries = np.flatnonzero(held)
    held = held[entries]
    source = np.repeat(entries, held)
    slots = _ranges(areas.starts[columns[entries]], held)
    query = areas.query_of[slots]
    order = np.argsort(query, kind="stable")
    source, query = source[order], query[order]
    value = rows.data[source].copy()
    value *= areas.weights[slots[order]]
    entry_row, entry_column = row_of[source], columns[source]
    segment = query * count + entry_row
    sums = np.zeros(areas.queries * max(count, 1), dtype=value.dtype)
    if len(segment):
        first = np.flatnonzero(np.concatenate(([True], segment[1:] != segment[:-1])))
        sums[segment[first]] = np.add.reduceat(value, first)
    sums = np.clip(np.asarray(sums, dtype=np.float32), 0.0, 1.0).reshape(-1, max(count, 1))[:, :count]
    return query, entry_row, entry_column, value, sums


def score_areas(areas: Areas, model: TfidfModel, rows: Any, projection: Projection | None) -> Scored:
    """Every area's scores of the block ``rows`` (CSR), as :func:`classifiers.matcher.score_rows` gives
    them with the block in column order (``projection``: the block's, when computed)."""
    count = rows.shape[0]
    if not rows.has_sorted_indices:  # the entries in column order, as a column-major pick gives them
        rows = rows.tocsc().tocsr()
    query, entry_row, entry_column, value, sums = _lexical(areas, rows)

    inverse = None
    if model.components is not None:
        projection = project(model, rows) if projection is None else projection
        assert projection is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.where(projection.norms > 0, 1.0 / projection.norms, 0.0).astype(np.float32)

    # the latent half mixed into the lexical cosine of each query that has a latent direction
    said = sums
    if projection is not None and areas.latent_queries:
        latent = np.empty((len(areas.latent_queries), count), dtype=np.float32)
        for index, unit in enumerate(areas.latent_units):  # the same product as each area's alone
            latent[index] = projection.latent @ unit
        mixed = np.asarray(areas.latent_queries, dtype=np.int64)
        cosines = np.clip(latent * inverse, 0.0, 1.0).astype(np.float32)
        said = sums.copy()
        said[mixed] = (LEXICAL_WEIGHT * sums[mixed] + (1 - LEXICAL_WEIGHT) * cosines).astype(np.float32)

    table = np.zeros((len(areas.areas), count), dtype=np.float32)
    lexical = np.flatnonzero(areas.lexical)
    table[lexical] = said[lexical]
    coverage, unit_value, unit_column = _unit_coverage(areas, rows)
    with_units = np.flatnonzero(areas.with_units)
    # no coverage at all when none of the areas' unit terms is in the vocabulary: every unit then
    # covers 0, and adding 0 (then clipping a score already within 0-1) changes no score
    factors: list[np.ndarray | None] = [None] * len(areas.areas)
    evidence = table.astype(np.float64)
    if len(with_units) and coverage is not None:
        summed = table[with_units] + UNIT_BONUS * coverage[with_units]
        evidence[with_units] = summed
        table[with_units] = np.clip(summed, 0.0, 1.0).astype(np.float32)
        for index, area in enumerate(with_units.tolist()):  # a capped sum's terms shrink with it
            factors[area] = _capped(summed[index])
    gated_areas = np.flatnonzero(areas.gated)
    if len(gated_areas) and count:
        # each gated area's closeness: the largest of its gate rows' cosines (a row without terms: 0)
        padded = np.concatenate((said, np.zeros((1, count), dtype=np.float32)))
        closeness = np.zeros((len(gated_areas), count), dtype=np.float32)
        for step in range(areas.gate_rows.shape[1]):
            closeness = np.maximum(closeness, padded[areas.gate_rows[gated_areas, step]])
        gate = GATE_SCALE * (GATE_FLOOR + (1 - GATE_FLOOR) * np.clip(closeness, 0.0, 1.0))
        gate = gate.astype(np.float32)
        gated = table[gated_areas].astype(np.float64) * gate
        evidence[gated_areas] *= gate
        factor = gate * np.where(gated > 1.0, 1.0 / np.maximum(gated, 1.0), 1.0)
        table[gated_areas] = np.clip(gated, 0.0, 1.0).astype(np.float32)
        for index, area in enumerate(gated_areas.tolist()):
            capped = factors[area]
            factors[area] = factor[index] if capped is None else factor[index] * capped
    return Scored(table, factors, count, projection, inverse, query, entry_row, entry_column, value,
                  unit_value, unit_column, sums, coverage, evidence)


def _capped(summed: np.ndarray) -> np.ndarray:
    """What the terms of a cosines-plus-coverage sum capped at 1 are scaled by, as
    :func:`classifiers.matcher.score_rows` scales them."""
    return np.where(summed > 1.0, 1.0 / np.maximum(summed, 1.0), 1.0).astype(np.float64)


def _unit_coverage(areas: Areas, rows: Any) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Per area its rows' unit coverage (areas × rows), and per (row, unit) the unit's value and the
    column it came from, as :func:`classifiers.gate.unit_coverage` computes them."""
    found = areas.coverage
    if found is None:
        return None, None, None
    count = rows.shape[0]
    dense = np.asarray(rows[:, found.needed].toarray(), dtype=np.float32)
    picked = dense[:, found.term_positions]  # rows × terms × longest
    evidence = picked.min(axis=2)
    weakest = np.take_along_axis(found.term_columns[None, :, :], picked.argmin(axis=2)[:, :, None],
                                 axis=2)[:, :, 0]
    evidence = np.concatenate((evidence, np.full((count, 1), -1, dtype=np.float32)), axis=1)
    weakest = np.concatenate((weakest, np.zeros((count, 1), dtype=np.int64)), axis=1)
    of_units = evidence[:, found.unit_terms]  # rows × units × most terms
    best = of_units.argmax(axis=2)[:, :, None]
    value = np.take_along_axis(of_units, best, axis=2)[:, :, 0] * found.unit_scale
    column = np.take_along_axis(weakest[:, found.unit_terms], best, axis=2)[:, :, 0]
    value = np.concatenate((value, np.zeros((count, 1), dtype=np.float32)), axis=1)
    column = np.concatenate((column, np.zeros((count, 1), dtype=np.int64)), axis=1)
    coverage = np.zeros((len(areas.areas), count), dtype=np.float32)
    for step in range(found.area_units.shape[1]):  # unit after unit, as the per-area sum adds them
        coverage += value[:, found.area_units[:, step]].T
    return coverage, value, column


def explain(areas: Areas, scored: Scored, names: np.ndarray, area_of: np.ndarray, row_of: np.ndarray,
            top: int, factor: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
    """The ``top`` terms of each (area, row) pair (``area_of``, ``row_of``: ordered by area, then row),
    as :func:`classifiers.matcher.score_rows` explains that row for that area: every pair's
    contributions are one row of a stacked matrix, summed and scaled as the per-area matrices are.
    ``factor`` is each pair's gate factor when not the block's (:func:`kept_factors`)."""
    pairs, count = len(area_of), scored.rows
    if pairs == 0:
        return []
    pair_at = np.full(len(areas.areas) * count, -1, dtype=np.int64)
    pair_at[area_of * count + row_of] = np.arange(pairs)
    mixed = np.array([area.unit is not None for area in areas.areas], dtype=bool)

    # the lexical contributions: each pair's entries of its area's query, in column order
    own = scored.entry_query < len(areas.areas)
    where = np.full(len(own), -1, dtype=np.int64)
    where[own] = pair_at[scored.entry_query[own] * count + scored.entry_row[own]]
    chosen = np.flatnonzero(where >= 0)
    lexical_pair = where[chosen]
    lexical_value = scored.entry_value[chosen]
    lexical_value = np.where(mixed[area_of[lexical_pair]], lexical_value * LEXICAL_WEIGHT, lexical_value)
    lexical = _stacked(lexical_value, scored.entry_column[chosen], lexical_pair, pairs, areas.width)

    # the latent contributions of the mixed areas' pairs: each word of the row, by its weight in the
    # latent cosine
    part = lexical
    latent_pairs = np.flatnonzero(mixed[area_of])
    if len(latent_pairs) and scored.projection is not None:
        assert areas.word_columns is not None and scored.inverse is not None
        words = scored.projection.words
        rows = row_of[latent_pairs]
        lengths = (words.indptr[rows + 1] - words.indptr[rows]).astype(np.int64)
        at = _ranges(words.indptr[rows].astype(np.int64), lengths)
        which = np.repeat(latent_pairs, lengths)
        value = words.data[at].copy()
        # the pairs are ordered by area: each area's entries are one run
        areas_at = area_of[which]
        bounds = np.flatnonzero(np.concatenate(([True], areas_at[1:] != areas_at[:-1], [True])))
        for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            weights = areas.expanded[int(areas_at[begin])]
            assert weights is not None
            value[begin:end] *= weights[words.indices[at[begin:end]]]
        value *= np.repeat(scored.inverse[rows], lengths)
        value[value < 0] = 0
        latent = _stacked(value * (1 - LEXICAL_WEIGHT), areas.word_columns[words.indices[at]], which, pairs,
                          areas.width)
        part = lexical + latent

    # the unit coverage's contributions, unit after unit
    with_units = np.flatnonzero([areas.areas[a].units for a in area_of.tolist()])
    if len(with_units) and scored.unit_value is not None:
        found = areas.coverage
        assert found is not None and scored.unit_column is not None
        units = found.area_units[area_of[with_units]]  # pairs × most units
        value = scored.unit_value[row_of[with_units][:, None], units]
        column = scored.unit_column[row_of[with_units][:, None], units]
        hit = value > 0
        which = np.repeat(with_units, hit.sum(axis=1))
        unit_part = sparse.csr_matrix((value[hit].astype(np.float32), (which, column[hit])),
                                      shape=(pairs, areas.width))
        unit_part.sum_duplicates()
        part = (part + UNIT_BONUS * unit_part).tocsr()

    # the gate scales each pair's contributions by its factor
    if factor is None:
        factor = np.ones(pairs)
        for index, factors in enumerate(scored.factors):
            if factors is not None:
                mine = area_of == index
                factor[mine] = factors[row_of[mine]]
    scale = np.repeat(factor, np.diff(part.indptr))
    part = sparse.csr_matrix((part.data * scale, part.indices, part.indptr), shape=part.shape,
                             dtype=np.float32)
    found_terms = _top_terms(part, np.arange(areas.width), names, top)
    inactive = [index for index, a in enumerate(area_of.tolist()) if not areas.areas[a].active]
    for index in inactive:
        found_terms[index] = []
    return found_terms


def _stacked(value: np.ndarray, column: np.ndarray, pair: np.ndarray, pairs: int, width: int) -> Any:
    """A (pairs × width) CSR of entries already ordered by pair."""
    indptr = np.zeros(pairs + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair, minlength=pairs), out=indptr[1:])
    return sparse.csr_matrix((value, column, indptr), shape=(pairs, width))


def kept_factors(areas: Areas, scored: Scored, rows: Any, area_of: np.ndarray, row_of: np.ndarray
                 ) -> np.ndarray:
    """Each (area, row) pair's gate factor (``area_of``, ``row_of``: ordered by area, then row) as
    :func:`classifiers.matcher.score_rows` gives it when it scores an area's kept rows of the block
    ``rows`` again: their entries in the rows' stored order, their latent rows picked out (a product
    with fewer rows may sum in another order). What the explanations of a block whose kept rows are
    explained apart are scaled by (:data:`classifiers.score_blocks.ONE_PASS_ROWS`)."""
    factor = np.ones(len(area_of))
    if not len(area_of):  # no call of the block reached the floor in any area: nothing to scale
        return factor
    sums = scored.sums if rows.has_sorted_indices else _lexical(areas, rows)[4]
    bounds = np.flatnonzero(np.concatenate(([True], area_of[1:] != area_of[:-1], [True])))
    for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        index = int(area_of[begin]) if end > begin else 0
        area = areas.areas[index]
        if end == begin or not area.active or (area.gate is None and not area.units):
            continue
        kept = row_of[begin:end]
        latent = None if scored.projection is None else scored.projection.latent[kept]
        inverse = None if scored.inverse is None else scored.inverse[kept]

        def said(query: int, unit: np.ndarray | None, kept: np.ndarray = kept, latent: Any = latent,
                 inverse: Any = inverse) -> np.ndarray:
            lexical = sums[query, kept]
            if unit is None or latent is None:
                return lexical
            cosines = np.clip(latent @ unit * inverse, 0.0, 1.0).astype(np.float32)
            return (LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * cosines).astype(np.float32)

        scores = said(index, area.unit) if area.lexical else np.zeros(len(kept), dtype=np.float32)
        capped = None
        if area.units:
            assert scored.coverage is not None
            summed = scores + UNIT_BONUS * scored.coverage[index, kept]
            scores = np.clip(summed, 0.0, 1.0).astype(np.float32)
            capped = _capped(summed)
        if area.gate is None:
            if capped is not None:
                factor[begin:end] = capped
            continue
        closeness = np.zeros(len(kept), dtype=np.float32)
        for row in area.gate:
            if row.lexical is not None:
                closeness = np.maximum(closeness, said(row.lexical, row.unit))
        gate = GATE_SCALE * (GATE_FLOOR + (1 - GATE_FLOOR) * np.clip(closeness, 0.0, 1.0))
        gate = gate.astype(np.float32)
        gated = scores.astype(np.float64) * gate
        gated_factor = gate * np.where(gated > 1.0, 1.0 / np.maximum(gated, 1.0), 1.0)
        factor[begin:end] = gated_factor if capped is None else gated_factor * capped
    return factor
