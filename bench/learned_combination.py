"""The matcher's own evidence combined by learned weights, trained without the acceptance file.

    .venv/bin/python bench/learned_combination.py [--refresh] [--lam 0.1] [--verify]

**Features** per (call, focus area), computed through bench/scoring_variants.py's harness (the
recordings replayed into scratch databases, scored as ``fundradar score`` stores them; the label
benchmark as ``fundradar eval`` runs it): the parts of the score in use (TF-IDF cosine, LSA cosine,
unit coverage, the gate) and four cheap ones computed from the same vectors (BM25 ÷ the query's own
maximum, query likelihood with Dirichlet smoothing, the share of the area's keyword units whole in the
title, the largest per-unit latent cosine). The first run computes them once per set and caches them
(``$FUNDRADAR_LTR_CACHE``, default the temporary directory's fundradar-learned-features; ``--refresh``
recomputes them, which a change of the matcher or the data needs); training is numpy on the cache.

**Models.** ``gated``: score = min(1, gate × min(1, w · features)), w ≥ 0; the in-use matcher is the
point w = (½, ½, ⅓, 0, 0, 0, 0). ``linear``: score = min(1, w · features + w_c × gate closeness), the
gate a feature like the others, started from the in-use weights and w_c = ½.

**Training.** Coordinate ascent (Metzler & Croft 2007, "Linear feature-based models for information
retrieval"): one weight at a time moved over a coarse grid (0 … 1 by 0.05) to the value that maximises
the objective, sweeps until no weight moves, a few restarts (the in-use point and two seeded jitters of
it). It is written here in numpy because scikit-learn has no listwise ranker (its linear models
optimise pointwise losses, not a ranking measure), and the libraries that have one fit trees
(LightGBM's LambdaMART) or need a JVM (RankLib), for seven features. Objective: the mean over the training
sets of each set's mean nDCG@10, minus ``lam`` × ‖w − w_in_use‖² so that a weight moves only when the
move pays for its distance (a prior toward the in-use weights, chosen before the held-out figures were
seen). Rankings are those the listing gives: active calls at or above the storage floor, exclude
phrases out, ties by next deadline then call id (judged); every kept topic, ties in corpus order (label).

**Sets and folds.** Judged: greentech (the acceptance file, shared eval), built environment and life
science (tests/fixtures/judged/). Label benchmark: its dev half (the first four areas by name, binary
labels) is always training; its held-out half and all eight areas are only tested. Fold "greentech":
train built environment + life science + label dev, test greentech and the label benchmark; the
leave-one-out folds swap which judged file is held out. ``--verify`` runs the greentech fold's weights
through scoring_variants.measure (what ``fundradar eval`` reads), P@10 and feedback included.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import latent_variants as lv  # noqa: E402
import scoring_variants as sv  # noqa: E402
from scipy import sparse  # noqa: E402
from scoring_variants import FLOOR, GATE_FLOOR, GATE_SCALE, UNIT_BONUS, Parts  # noqa: E402

from classifiers import matcher  # noqa: E402
from classifiers.evaluate import load_benchmark, load_corpus, metrics, run_benchmark  # noqa: E402
from classifiers.judged import load_judged  # noqa: E402
from classifiers.tfidf import latent_query  # noqa: E402

FEATURES = ("tfidf", "latent", "coverage", "bm25", "likelihood", "title", "unit_latent_max")
IN_USE_W = np.array([0.5, 0.5, UNIT_BONUS, 0.0, 0.0, 0.0, 0.0])
GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)
RESTARTS, JITTER, SEED, MAX_SWEEPS = 2, 0.15, 20071, 8
LAM = 0.1
CACHE = Path(os.environ.get("FUNDRADAR_LTR_CACHE",
                            Path(tempfile.gettempdir()) / "fundradar-learned-features"))
JUDGED_FILES = {"greentech": sv.JUDGED,
                "builtenv": sv.ROOT / "tests/fixtures/judged/builtenv_2026-06-23.json",
                "lifescience": sv.ROOT / "tests/fixtures/judged/lifescience_2026-08-21.json"}
FOLDS = {"greentech": ("builtenv", "lifescience"), "builtenv": ("greentech", "lifescience"),
         "lifescience": ("greentech", "builtenv")}


# --- features -------------------------------------------------------------------------------------

def _title_share(p: Parts, units: Sequence[Any]) -> np.ndarray:
    """The share of the area's keyword units whole in the call's title (latent_variants.title_units)."""
    units = [u for u in units if u]
    documents = sv.Seen.documents
    if not units or len(documents) != p.matrix.shape[0]:
        return np.zeros(p.matrix.shape[0])
    return lv.units_in_titles(p, documents, units) / len(units)


def _unit_latent_max(p: Parts, units: Sequence[Any], names: np.ndarray) -> np.ndarray:
    """The largest LSA cosine of the call with one keyword unit's own latent direction
    (latent_variants.per_unit's "max")."""
    best = np.zeros(p.matrix.shape[0])
    if not p.has_latent or not units:
        return best
    weights = dict(zip(p.query.indices.tolist(), p.query.data.tolist(), strict=True))
    vocabulary = p.model.vocabulary
    for unit in units:
        columns = {c for term in unit for c in term}
        spoken = {w for c in columns for w in str(names[c]).split()}
        columns |= {vocabulary[w] for w in spoken if w in vocabulary}
        kept = sorted(c for c in columns if c in weights)
        if not kept:
            continue
        vector = sparse.csr_matrix((np.array([weights[c] for c in kept], dtype=np.float32),
                                    (np.zeros(len(kept), dtype=int), np.array(kept))), shape=p.query.shape)
        direction = latent_query(p.model, vector, False).unit
        if direction is not None:
            best = np.maximum(best, lv._latent_cosines(p, direction))
    return best


def features(query: Any, matrix: Any, names: np.ndarray, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """(rows × FEATURES, the gate per row)."""
    p = Parts(query, matrix, **kw)
    units = kw.get("units") or []
    rows = matrix.shape[0]
    if p.query.nnz:
        raw, ceiling = sv._bm25_rows(p.query, matrix, p.model)
        bm25 = raw / ceiling if ceiling > 0 else raw
        likelihood = sv.dirichlet_lexical(p, matrix)
    else:
        bm25 = likelihood = np.zeros(rows)
    x = np.column_stack([p.tfidf, p.latent, p.coverage, bm25, likelihood, _title_share(p, units),
                         _unit_latent_max(p, units, names)]).astype(np.float64)
    return x, np.asarray(p.gate, dtype=np.float64)


def closeness(gate: np.ndarray) -> np.ndarray:
    return np.clip((gate / GATE_SCALE - GATE_FLOOR) / (1 - GATE_FLOOR), 0.0, 1.0)


# --- capture through the harness ------------------------------------------------------------------

class Capture:
    area_of: dict[int, str] = {}
    rows: dict[str, dict[str, np.ndarray]] = {}
    excluded: dict[str, set[int]] = {}
    listing: dict[str, Any] = {}


def _capturing(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
    area = Capture.area_of[id(query)]
    assert area not in Capture.rows, "an area is scored once per set (one block, no marks)"
    x, gate = features(query, matrix, names, **kw)
    in_use = sv.IN_USE(query, matrix, names, 0, **kw)[0]
    Capture.rows[area] = {"ids": np.array([d.call_id for d in sv.Seen.documents]), "x": x, "gate": gate,
                          "in_use": np.round(in_use.astype(np.float64), 6)}
    return in_use, []


def _capture_judged(path: Path) -> dict[str, dict[str, np.ndarray]]:
    from sqlmodel import Session, select

    from pipeline import relevance
    from pipeline.calls import CallFilter, list_calls
    from pipeline.core.clock import as_utc
    from pipeline.core.models import Call

    original_blocks, original_run = sv.per_area_blocks, relevance.run_judged

    def blocks(model: Any, vectors: Any, queries: Any, documents: Any, matrix: Any, names: Any,
               excluded: Any, *args: Any, **kwargs: Any) -> Any:
        for q, v, ex in zip(queries, vectors, excluded, strict=True):
            Capture.area_of[id(v)] = q.name
            Capture.excluded[q.name] = {documents[i].call_id for i in ex}
        return original_blocks(model, vectors, queries, documents, matrix, names, excluded, *args, **kwargs)

    def run(engine: Any, judged: Any, *, feedback: int = 0, recorded: Any = None) -> Any:
        report = original_run(engine, judged, feedback=0, recorded=recorded)
        with Session(engine) as session:
            # every active call in next-deadline order (None last, then id): the listing's tie-break
            active = [row["id"] for row in list_calls(session, CallFilter(), as_utc(judged.as_of))]
            refs = dict(session.exec(select(Call.id, Call.external_id)).all())
        Capture.listing = {"active": active, "refs": refs, "recorded": recorded, "report": report}
        return report

    sv.per_area_blocks, relevance.run_judged = blocks, run
    try:
        with sv.installed(_capturing):
            relevance.judged_file_report(path, feedback=0, samples=sv.SAMPLES)
    finally:
        sv.per_area_blocks, relevance.run_judged = original_blocks, original_run
    judged = load_judged(path)
    listing = Capture.listing
    position = {cid: i for i, cid in enumerate(listing["active"])}
    out = {}
    for area, grades in judged.grades.items():
        r = Capture.rows[area]
        refs = [listing["refs"][int(cid)] for cid in r["ids"]]
        pool = sorted((g for ref, g in grades.items() if ref in listing["recorded"]), reverse=True)
        out[area] = {**r, "gain": np.array([grades.get(ref, 0) for ref in refs], dtype=np.float64),
                     "tie": np.array([position.get(int(c), -1) for c in r["ids"]], dtype=np.float64),
                     "open": np.array([int(c) in position and int(c) not in Capture.excluded[area]
                                       for c in r["ids"]]),
                     "ideal": np.array([_dcg(np.array(pool, dtype=np.float64))]),
                     "reported": np.array([listing["report"].rankers["matcher"][area]["ndcg10"] or 0.0])}
    return out


def _capture_label() -> dict[str, dict[str, np.ndarray]]:
    areas = load_benchmark(sv.EVAL / "focus_areas.yaml")
    corpus = load_corpus(sv.SAMPLES / "eu_ft" / "calls_2026-08-10.jsonl")
    original = matcher.score_documents

    def named(model: Any, vector: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        Capture.area_of[id(vector)] = query.name
        return original(model, vector, query, *args, **kwargs)

    matcher.score_documents = named
    try:
        with sv.installed(_capturing):
            report = run_benchmark(areas, corpus, feedback=0)
    finally:
        matcher.score_documents = original
    out = {}
    for area in areas:
        r = Capture.rows[area.name]
        relevant = np.array([bool(area.relevant.search(item.topic_id)) for item in corpus])
        keep = np.array([relevant[i] or not (area.ignore and area.ignore.search(item.topic_id))
                         for i, item in enumerate(corpus)])
        total = float(relevant[keep].sum())
        out[area.name] = {**r, "gain": relevant.astype(np.float64),
                          "tie": np.arange(len(corpus), dtype=float), "open": keep,
                          "ideal": np.array([_dcg(np.ones(int(min(total, 10))))]),
                          "reported": np.array([report.rankers["matcher"][area.name]["ap"]])}
    return out


def load_sets(refresh: bool = False) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Every set's per-area arrays, from the cache when there."""
    CACHE.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], dict[str, dict[str, np.ndarray]]]] = {
        name: (lambda p=path: _capture_judged(p)) for name, path in JUDGED_FILES.items()}
    makers["label"] = _capture_label
    sets = {}
    for name, make in makers.items():
        file = CACHE / f"{name}.npz"
        if refresh or not file.exists():
            Capture.rows, Capture.area_of, Capture.excluded = {}, {}, {}
            data = make()
            np.savez_compressed(file, **{f"{a}|{k}": v for a, d in data.items() for k, v in d.items()})
        with np.load(file) as stored:
            sets[name] = {}
            for key in stored.files:
                area, field = key.split("|")
                sets[name].setdefault(area, {})[field] = stored[key]
    return sets


# --- measures -------------------------------------------------------------------------------------

def _dcg(gains: np.ndarray) -> float:
    top = gains[:10]
    return float(((2.0 ** top - 1) / np.log2(np.arange(len(top)) + 2)).sum())


def score(model: str, w: np.ndarray, a: dict[str, np.ndarray]) -> np.ndarray:
    """The score a model gives, as stored (float32 parts, rounded to 6 digits)."""
    if model == "gated":
        base = np.clip(a["x"] @ w[:len(FEATURES)], 0.0, 1.0).astype(np.float32).astype(np.float64)
        s = np.clip(base * a["gate"].astype(np.float32), 0.0, 1.0)
    else:
        s = np.clip(a["x"] @ w[:len(FEATURES)] + w[len(FEATURES)] * closeness(a["gate"]), 0.0, 1.0)
    return np.round(s.astype(np.float32).astype(np.float64), 6)


def ranked(s: np.ndarray, a: dict[str, np.ndarray], label: bool) -> np.ndarray:
    """Row indexes in the listing's order: judged rows at or above the floor, label rows all kept."""
    keep = a["open"] if label else a["open"] & (s >= FLOOR)
    rows = np.flatnonzero(keep)
    return rows[np.lexsort((a["tie"][rows], -s[rows]))]


def area_figures(s: np.ndarray, a: dict[str, np.ndarray], label: bool) -> dict[str, float]:
    order = ranked(s, a, label)
    gains = a["gain"][order]
    ideal = float(a["ideal"][0])
    out = {"ndcg10": _dcg(gains) / ideal if ideal else float("nan")}
    if label:
        m = metrics([bool(g) for g in gains])
        out.update(ap=m["ap"], p10=m["p10"])
    else:
        out.update(p10_strict=float((gains[:10] >= 2).sum()) / 10,
                   p10_lenient=float((gains[:10] >= 1).sum()) / 10)
    return out


def set_figures(model: str, w: np.ndarray, areas: dict[str, dict[str, np.ndarray]], label: bool,
                only: Sequence[str] | None = None) -> dict[str, Any]:
    per = {n: area_figures(score(model, w, a), a, label)
           for n, a in areas.items() if only is None or n in only}
    keys = next(iter(per.values())).keys()
    return {"mean": {k: float(np.nanmean([f[k] for f in per.values()])) for k in keys},
            "areas": {n: round(f["ndcg10"], 3) for n, f in per.items()}}


def dev_areas(label: dict[str, Any]) -> list[str]:
    return sorted(label)[:sv.DEV_AREAS]


# --- coordinate ascent ----------------------------------------------------------------------------

def coordinate_ascent(objective: Callable[[np.ndarray], float], start: np.ndarray, prior: np.ndarray,
                      lam: float) -> tuple[np.ndarray, float]:
    """Metzler & Croft's coordinate ascent over GRID, regularised toward ``prior``; the best of the
    start and RESTARTS seeded jitters of it."""
    rng = np.random.default_rng(SEED)

    def penalised(w: np.ndarray) -> float:
        return objective(w) - lam * float(((w - prior) ** 2).sum())

    starts = [start] + [np.clip(np.round((start + rng.uniform(-JITTER, JITTER, len(start))) * 20) / 20, 0, 1)
                        for _ in range(RESTARTS)]
    best_w, best_f = start, -np.inf
    for w in starts:
        w, f = w.copy(), penalised(w)
        for _ in range(MAX_SWEEPS):
            moved = False
            for i in range(len(w)):
                for value in GRID:
                    if value == w[i]:
                        continue
                    candidate = w.copy()
                    candidate[i] = value
                    fc = penalised(candidate)
                    if fc > f + 1e-9:
                        w, f, moved = candidate, fc, True
            if not moved:
                break
        if f > best_f:
            best_w, best_f = w, f
    return best_w, best_f


def train(model: str, sets: dict[str, Any], judged: Sequence[str], lam: float) -> np.ndarray:
    dev = dev_areas(sets["label"])
    prior = IN_USE_W if model == "gated" else np.append(IN_USE_W, 0.5)

    def objective(w: np.ndarray) -> float:
        means = [set_figures(model, w, sets[n], False)["mean"]["ndcg10"] for n in judged]
        means.append(set_figures(model, w, sets["label"], True, dev)["mean"]["ndcg10"])
        return float(np.mean(means))

    return coordinate_ascent(objective, prior, prior, lam)[0]


# --- report ---------------------------------------------------------------------------------------

def _w(w: np.ndarray) -> str:
    names = [*FEATURES, "closeness"][:len(w)]
    return ", ".join(f"{n} {v:.2f}" for n, v in zip(names, w, strict=True) if v > 0)


def report(sets: dict[str, Any], lam: float, models: Sequence[str]) -> dict[str, Any]:
    label = sets["label"]
    dev = dev_areas(label)
    held = [a for a in label if a not in dev]
    base = {n: set_figures("gated", IN_USE_W, sets[n], False) for n in JUDGED_FILES}
    base_label = {h: set_figures("gated", IN_USE_W, label, True, names)["mean"]
                  for h, names in (("all", list(label)), ("held_out", held), ("dev", dev))}
    for n in sets:  # the offline rankings are eval's: the in-use weights give its figures
        for area, a in sets[n].items():
            figures = area_figures(score("gated", IN_USE_W, a), a, n == "label")
            got = figures["ap" if n == "label" else "ndcg10"]
            assert abs(got - float(a["reported"][0])) < 1e-9, (n, area, got, a["reported"])
    result: dict[str, Any] = {"in_use": {"judged": base, "label": base_label}, "folds": {}}
    files = ", ".join(f"{n} {b['mean']['ndcg10']:.3f}" for n, b in base.items())
    print(f"in use: {files}; label all "
          f"{base_label['all']['ap']:.3f} / {base_label['all']['p10']:.3f}, held-out "
          f"{base_label['held_out']['ap']:.3f} / {base_label['held_out']['p10']:.3f}")
    print(f"{'model':7s} {'held out':12s} {'nDCG@10':>7s} {'vs in use':>9s} {'P@10 2/1+':>9s} "
          f"{'label all':>11s} {'held-out':>11s} {'train gains':>13s}  weights")
    for model in models:
        for test, training in FOLDS.items():
            w = train(model, sets, training, lam)
            fig = set_figures(model, w, sets[test], False)
            lab = {h: set_figures(model, w, label, True, names)["mean"]
                   for h, names in (("all", list(label)), ("held_out", held), ("dev", dev))}
            gain = fig["mean"]["ndcg10"] - base[test]["mean"]["ndcg10"]
            trained = {n: set_figures(model, w, sets[n], False)["mean"]["ndcg10"]
                       - base[n]["mean"]["ndcg10"] for n in training}
            result["folds"][f"{model}/{test}"] = {"weights": w.tolist(), "test": fig, "gain": gain,
                                                  "label": lab, "train_gain": trained}
            print(f"{model:7s} {test:12s} {fig['mean']['ndcg10']:7.3f} {gain:+9.3f} "
                  f"{fig['mean']['p10_strict']:.2f}/{fig['mean']['p10_lenient']:.2f} "
                  f"{lab['all']['ap']:.3f}/{lab['all']['p10']:.3f} {lab['held_out']['ap']:.3f}/"
                  f"{lab['held_out']['p10']:.3f} {' '.join(f'{v:+.3f}' for v in trained.values()):>13s}"
                  f"  {_w(w)}  areas {fig['areas']}")
        folds = result["folds"]
        main = folds[f"{model}/greentech"]
        adopt = (main["gain"] >= 0.01 and all(folds[f"{model}/{f}"]["gain"] >= -0.005
                                              for f in ("builtenv", "lifescience"))
                 and main["label"]["all"]["ap"] >= 0.78 and main["label"]["all"]["p10"] >= 0.90)
        result[f"adopt/{model}"] = adopt
        print(f"{model}: adoption rule {'met' if adopt else 'not met'}")
    return result


def learned_variant(model: str, w: np.ndarray) -> sv.ScoreRows:
    def variant(query: Any, matrix: Any, names: np.ndarray, top: int = 0, **kw: Any) -> Any:
        x, gate = features(query, matrix, names, **kw)
        return score(model, w, {"x": x, "gate": gate}).astype(np.float32), []
    return variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the cached features")
    parser.add_argument("--lam", type=float, default=LAM,
                        help=f"pull toward the in-use weights (default {LAM})")
    parser.add_argument("--model", action="append", choices=("gated", "linear"))
    parser.add_argument("--verify", action="store_true",
                        help="measure the greentech fold's weights through scoring_variants.measure")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sets = load_sets(args.refresh)
    models = args.model or ["gated", "linear"]
    result = report(sets, args.lam, models)
    if args.verify:
        files = list(JUDGED_FILES.values())
        for model in models:
            w = np.array(result["folds"][f"{model}/greentech"]["weights"])
            measured = sv.measure(learned_variant(model, w), files)
            result[f"verified/{model}"] = measured
            print(json.dumps({model: measured}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
