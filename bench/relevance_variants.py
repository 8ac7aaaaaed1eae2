"""The matcher variants compared on the relevance benchmark, dev half and held-out half apart.

    .venv/bin/python bench/relevance_variants.py [--json]

Reads ``focus_areas.yaml`` from FUNDRADAR_EVAL (default ../shared/eval) and the recordings from
FUNDRADAR_SAMPLES (default ../shared/samples). Prints MAP / mean P@10 of each variant on

* the dev half: the first four focus areas by name (climate, culture, digital, energy), the only
  labels used to choose between variants;
* the held-out half: the other four, never used for a choice;
* all eight (what ``fundradar eval`` reports);
* a second corpus as a check of robustness: the EU portal topics of the 2026-08-21 eu-grants-feed
  snapshot with their short abstracts (about 840 characters, like what a sync stores), labelled by the
  same rules. It shares most topics with the benchmark corpus, so it is not independent of it;
* keyword response, what the strategy workbench shows a secretariat: "quantum" and "quantum
  technologies" added to the digital area's keywords, how many of the calls entering its top 10 have
  "quantum" in the title (the benchmark corpus has 8 such calls).

Every variant reads title and description only and takes the benchmark's keywords as given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.evaluate import (  # noqa: E402
    BenchmarkArea,
    CorpusItem,
    load_benchmark,
    load_corpus,
    metrics,
    plain_tfidf_scorer,
    ranking,
    title_keyword_scores,
)
from classifiers.matcher import (  # noqa: E402
    LEXICAL_WEIGHT,
    LSA_DIMENSIONS,
    UNIT_WEIGHT,
    Query,
    TfidfModel,
    context_vector,
    fit_lsa,
    prepare,
    query_features,
    query_vector,
    score_rows,
    unit_columns,
)

SHARED = ROOT.parent / "shared"
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SHARED / "eval"))
SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", SHARED / "samples"))
SNAPSHOT = "eu_ft/eugrantsfeed_snapshot_2026-08-21.json"
DEV_AREAS = 4  # the first four focus areas by name

Scorer = Callable[[Sequence[str]], np.ndarray]  # keywords -> a score per corpus item
ADDED = ("quantum", "quantum technologies")
RESPONSE_AREA = "digital_ai_robotics"
IN_USE = (f"label gate x ({UNIT_WEIGHT} unit coverage + {1 - UNIT_WEIGHT} x ({LEXICAL_WEIGHT} TF-IDF + "
          f"{1 - LEXICAL_WEIGHT} LSA k={LSA_DIMENSIONS}))")


def snapshot_corpus(path: Path) -> list[CorpusItem]:
    """The snapshot's topics (first record of each identifier) with title and abstract."""
    grants = json.loads(path.read_text(encoding="utf-8"))["grants"]
    seen: dict[str, dict] = {}
    for grant in grants:
        seen.setdefault(grant["identifier"], grant)
    return [CorpusItem(g["identifier"], g.get("title") or "", g.get("abstract") or "") for g in seen.values()]


def variants(areas: Sequence[BenchmarkArea], corpus: Sequence[CorpusItem]) -> dict[str, Scorer]:
    documents = [prepare(i, item.title, item.description) for i, item in enumerate(corpus)]
    keep = set().union(*(query_features(Query(a.name, a.keywords + ADDED)) for a in areas))
    model, matrix = TfidfModel.fit(documents, keep=keep)
    names = model.terms()
    label_of = {a.keywords[0]: a.label for a in areas}  # the in-use matcher reads the area's label too
    plain = plain_tfidf_scorer(corpus)
    spaces = {k: TfidfModel(model.vocabulary, model.idf, fit_lsa(model, matrix, k))
              for k in (25, 50, 100, 200)}

    def ours(keywords: Sequence[str], k: int | None = None, weight: float = 1.0,
             coverage: bool = False) -> np.ndarray:
        query = Query("area", tuple(keywords), label=label_of.get(keywords[0], "") if coverage else "")
        vector = query_vector(model, query)
        space = spaces[k] if k else None
        units = unit_columns(model, query) if coverage else None
        context = context_vector(model, query) if coverage else None
        return score_rows(vector, matrix, names, 0, model=space, lexical_weight=weight, units=units,
                          context=context)[0]

    def latent(k: int, weight: float, coverage: bool = False) -> Scorer:
        return lambda keywords: ours(keywords, k, weight, coverage)

    found: dict[str, Scorer] = {
        "title keywords (the portal's search)": lambda keywords: title_keyword_scores(corpus, keywords),
        "plain TF-IDF (scikit-learn defaults)": plain,
        "TF-IDF: sublinear tf, title x2, phrases": ours,
    }
    for k in (25, 50, 100, 200):
        found[f"LSA k={k}"] = latent(k, 0.0)
    for k in (25, 50, 100):
        found[f"{LEXICAL_WEIGHT} TF-IDF + {1 - LEXICAL_WEIGHT} LSA k={k}"] = latent(k, LEXICAL_WEIGHT)
    found[IN_USE] = latent(LSA_DIMENSIONS, LEXICAL_WEIGHT, True)
    return found


def keyword_response(areas: Sequence[BenchmarkArea], corpus: Sequence[CorpusItem], scorer: Scorer) -> str:
    """"q/n": of the n calls entering the digital area's top 10 when :data:`ADDED` is added, q have
    "quantum" in the title."""
    area = next(a for a in areas if a.name == RESPONSE_AREA)
    before = set(np.argsort(-np.asarray(scorer(area.keywords)), kind="stable")[:10].tolist())
    after = np.argsort(-np.asarray(scorer(area.keywords + ADDED)), kind="stable")[:10].tolist()
    entering = [corpus[i].title for i in after if i not in before]
    return f"{sum('quantum' in t.lower() for t in entering)}/{len(entering)}"


def evaluate(areas: Sequence[BenchmarkArea], corpus: Sequence[CorpusItem], scorer: Scorer
             ) -> dict[str, dict[str, float]]:
    dev = set(sorted(a.name for a in areas)[:DEV_AREAS])
    per_area: dict[str, dict[str, float]] = {}
    for area in areas:
        relevant = [bool(area.relevant.search(item.topic_id)) for item in corpus]
        keep = [i for i, item in enumerate(corpus)
                if relevant[i] or not (area.ignore and area.ignore.search(item.topic_id))]
        per_area[area.name] = metrics([relevant[i] for i in ranking(np.asarray(scorer(area.keywords)), keep)])
    halves = {"dev": [a for a in per_area if a in dev], "held_out": [a for a in per_area if a not in dev],
              "all": list(per_area)}
    # rounded as `fundradar eval` rounds its means (4 places), then to 3
    return {half: {m: round(round(float(np.mean([per_area[a][m] for a in names])), 4), 3)
                   for m in ("ap", "p10")} for half, names in halves.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    areas = load_benchmark(EVAL / "focus_areas.yaml")
    corpora = {"benchmark": load_corpus(SAMPLES / "eu_ft" / "calls_2026-08-10.jsonl"),
               "snapshot": snapshot_corpus(SAMPLES / SNAPSHOT)}
    results: dict[str, dict[str, object]] = {}
    for label, corpus in corpora.items():
        for name, scorer in variants(areas, corpus).items():
            results.setdefault(name, {})[label] = evaluate(areas, corpus, scorer)
            if label == "benchmark":
                results[name]["keyword_response"] = keyword_response(areas, corpus, scorer)
    if args.json:
        print(json.dumps({"in_use": IN_USE,
                          "variants": results}, indent=1))
        return
    sizes = ", ".join(f"{label} {len(corpus)} calls" for label, corpus in corpora.items())
    print(f"MAP / P@10 ({sizes}; dev = first {DEV_AREAS} areas by name)")
    print(f"{'variant':42s} {'dev':>11s} {'held-out':>11s} {'all':>11s} {'snapshot':>11s} quantum")
    for name, by_corpus in results.items():
        bench, snap = by_corpus["benchmark"], by_corpus["snapshot"]["all"]
        cells = [f"{bench[h]['ap']:.3f}/{bench[h]['p10']:.2f}" for h in ("dev", "held_out", "all")]
        print(f"{name:42s} {cells[0]:>11s} {cells[1]:>11s} {cells[2]:>11s} "
              f"{snap['ap']:.3f}/{snap['p10']:.2f} {by_corpus['keyword_response']:>7s}")


if __name__ == "__main__":
    main()
