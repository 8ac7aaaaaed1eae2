"""The relevance benchmark: average precision, precision@10 and nDCG@20 per focus area, and means.

The benchmark (``../shared/eval/focus_areas.yaml``; its header is its README) labels a corpus of EU
topics by the Commission's own classification (a regular expression on ``topicId``). The matcher reads
only ``title`` and ``description`` and takes the benchmark's ``keywords`` as given; labels are used
only to compute the metrics below, never to choose the matcher's method or parameters.

Three rankers run in the same process over the same corpus:

* ``matcher``: fundradar's matcher (:mod:`classifiers.matcher`);
* ``title_keywords``: a title is a hit for each keyword it contains (what the portal's own search
  does), ranked by the number of hits;
* ``plain_tfidf``: scikit-learn's ``TfidfVectorizer`` with its defaults on title + description, and
  the keywords joined as the query, ranked by cosine.

``feedback=N`` simulates a fundraiser who marks the top N calls of each focus area's matcher ranking
(the benchmark labels stand in for that person's judgement); the metrics are then computed on the
remaining calls, ranked without and with those marks.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.config import read_yaml
from pipeline.core.errors import ValidationError

METRICS = ("ap", "p10", "ndcg20")


@dataclass(frozen=True)
class BenchmarkArea:
    name: str
    label: str
    keywords: tuple[str, ...]
    relevant: re.Pattern[str]
    ignore: re.Pattern[str] | None


@dataclass(frozen=True)
class CorpusItem:
    topic_id: str
    title: str
    description: str


@dataclass
class Report:
    corpus_size: int
    rankers: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # ranker→area→metric
    means: dict[str, dict[str, float]] = field(default_factory=dict)
    feedback: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every key always present (``feedback`` null without the simulation), as the judged report's."""
        return {"corpus_size": self.corpus_size, "means": self.means, "per_area": self.rankers,
                "feedback": self.feedback}


def load_benchmark(path: Path) -> list[BenchmarkArea]:
    data = read_yaml(Path(path))
    areas = (data or {}).get("focus_areas") if hasattr(data, "get") else None
    if not areas:
        raise ValidationError(f"{path}: no focus_areas in the benchmark file")
    result = []
    for name, spec in areas.items():
        try:
            result.append(BenchmarkArea(
                str(name), str(spec.get("label", name)), tuple(str(k) for k in spec["keywords"]),
                re.compile(spec["relevant"]), re.compile(spec["ignore"]) if spec.get("ignore") else None))
        except (KeyError, TypeError, re.error) as exc:
            raise ValidationError(f"{path}: focus area {name!r} needs keywords and a valid relevant "
                                  f"pattern ({exc})") from None
    return result


def load_corpus(path: Path) -> list[CorpusItem]:
    """One JSON object per line with topicId, title and description (U+FEFF tolerated)."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ValidationError(f"cannot read corpus {path}: {exc.strerror}; check the path given with "
                              "--corpus") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            items.append(CorpusItem(str(record["topicId"]), str(record.get("title") or ""),
                                    str(record.get("description") or "")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValidationError(f"{path}:{number}: not a corpus record with topicId, title and "
                                  f"description ({exc})") from None
    if not items:
        raise ValidationError(f"corpus {path} has no records")
    return items


# --- metrics -------------------------------------------------------------------------------------

def metrics(ranked_relevance: Sequence[bool]) -> dict[str, float]:
    """AP, P@10 and nDCG@20 (binary gains) of a full ranking given as relevant/not per position."""
    total = sum(ranked_relevance)
    hits, precision_sum = 0, 0.0
    for position, relevant in enumerate(ranked_relevance, 1):
        if relevant:
            hits += 1
            precision_sum += hits / position
    ap = precision_sum / total if total else 0.0
    p10 = sum(ranked_relevance[:10]) / 10
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(ranked_relevance[:20]) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(total, 20)))
    return {"ap": ap, "p10": p10, "ndcg20": dcg / ideal if ideal else 0.0}


def ranking(scores: np.ndarray, keep: Sequence[int]) -> list[int]:
    """Indexes in ``keep`` by descending score; ties keep corpus order."""
    kept = np.asarray(keep, dtype=int)
    order = np.argsort(-scores[kept], kind="stable")
    return [int(i) for i in kept[order]]


# --- rankers -------------------------------------------------------------------------------------

def title_keyword_scores(corpus: Sequence[CorpusItem], keywords: Sequence[str]) -> np.ndarray:
    titles = [item.title.casefold() for item in corpus]
    return np.array([sum(k.casefold() in title for k in keywords) for title in titles], dtype=float)


def plain_tfidf_scorer(corpus: Sequence[CorpusItem]) -> Callable[[Sequence[str]], np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer()
    matrix = vectoriser.fit_transform([f"{item.title} {item.description}" for item in corpus])

    def score(keywords: Sequence[str]) -> np.ndarray:
        query = vectoriser.transform([" ".join(keywords)])
        return np.asarray((matrix @ query.T).todense()).ravel()

    return score


def run_benchmark(areas: Sequence[BenchmarkArea], corpus: Sequence[CorpusItem], *,
                  feedback: int = 0) -> Report:
    from classifiers.matcher import (
        Query,
        TfidfModel,
        expanded_query,
        prepare,
        query_features,
        score_documents,
    )

    documents = [prepare(i, item.title, item.description) for i, item in enumerate(corpus)]
    queries = [Query(a.name, a.keywords, label=a.label) for a in areas]
    keep_terms: set[str] = set().union(*(query_features(q) for q in queries))
    model, matrix = TfidfModel.fit(documents, keep=keep_terms)
    names = model.terms()
    plain = plain_tfidf_scorer(corpus)
    report = Report(len(corpus))
    feedback_rows: dict[str, dict[str, dict[str, float]]] = {"without": {}, "with": {}}
    for area, query in zip(areas, queries, strict=True):
        relevant = [bool(area.relevant.search(item.topic_id)) for item in corpus]
        keep = [i for i, item in enumerate(corpus)
                if relevant[i] or not (area.ignore and area.ignore.search(item.topic_id))]
        vector = expanded_query(model, query, documents, matrix)
        matcher_scores = np.array([m.score for m in score_documents(model, vector, query, documents, matrix,
                                                                    names, explain_top=0)])
        for ranker, scores in (("matcher", matcher_scores),
                               ("title_keywords", title_keyword_scores(corpus, area.keywords)),
                               ("plain_tfidf", plain(area.keywords))):
            order = ranking(scores, keep)
            report.rankers.setdefault(ranker, {})[area.name] = metrics([relevant[i] for i in order])
        if feedback:
            order = ranking(matcher_scores, keep)
            marked = order[:feedback]
            rest = order[feedback:]
            feedback_rows["without"][area.name] = metrics([relevant[i] for i in rest])
            with_marks = expanded_query(model, query, documents, matrix,
                                        relevant=[i for i in marked if relevant[i]],
                                        irrelevant=[i for i in marked if not relevant[i]])
            new_scores = np.array([m.score for m in score_documents(model, with_marks, query, documents,
                                                                    matrix, names, explain_top=0)])
            feedback_rows["with"][area.name] = metrics([relevant[i] for i in ranking(new_scores, rest)])
    report.means = {ranker: _means(per_area) for ranker, per_area in report.rankers.items()}
    if feedback:
        report.feedback = {"marked_per_area": feedback,
                           "means": {k: _means(v) for k, v in feedback_rows.items()},
                           "per_area": feedback_rows}
    return report


def _means(per_area: dict[str, dict[str, float]]) -> dict[str, float]:
    return {m: round(sum(v[m] for v in per_area.values()) / len(per_area), 4) for m in METRICS} \
        if per_area else {m: 0.0 for m in METRICS}
