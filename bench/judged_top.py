"""The judged benchmark's rankings read call by call: each focus area's top N with its grades, and the
judged calls graded 2 or 1 that miss the top N with their rank, so that one can see why a ranking
holds off-topic calls (which terms carried them: the stored explanation).

    .venv/bin/python bench/judged_top.py [--area NAME] [--top 10] [--judged FILE]

Replays the judged file's recording into a scratch database as ``fundradar eval --judged`` does and
reads the rankings through the same listing as ``calls list --focus``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from classifiers.judged import judged_metrics, load_judged, recording_folder  # noqa: E402
from classifiers.scoring import score_pending  # noqa: E402
from pipeline.core.clock import as_utc  # noqa: E402
from pipeline.core.db import open_database  # noqa: E402
from pipeline.core.models import Call, Score  # noqa: E402
from pipeline.relevance import focus_ranking, judged_config  # noqa: E402
from pipeline.sync import plan_sources, run_sources  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_JUDGED = SHARED / "eval" / "judged" / "greentech_2026-08-22.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judged", type=Path, default=DEFAULT_JUDGED)
    parser.add_argument("--area", action="append", help="only this focus area (repeatable)")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--missing", type=int, default=8, help="graded calls below the top to show")
    args = parser.parse_args()
    judged = load_judged(args.judged)
    # as fundradar eval: FUNDRADAR_SAMPLES, else ../shared/samples beside the repository
    beside = Path(__file__).resolve().parents[2] / "shared" / "samples"
    samples = os.environ.get("FUNDRADAR_SAMPLES") or beside
    folder = recording_folder(judged, Path(samples))
    config = judged_config(judged)
    now = as_utc(judged.as_of)
    with tempfile.TemporaryDirectory(prefix="fundradar-judged-top-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'judged.db'}")
        [result] = run_sources(engine, plan_sources(engine, config, only="eu_ft", replay=folder),
                               as_of=judged.as_of)
        score_pending(engine, config, now)
        for area in args.area or list(judged.grades):
            grades = judged.grades[area]
            rows = focus_ranking(engine, config.strategy.name, area, now, 200)
            ranked = [r["external_id"] for r in rows]
            figures = judged_metrics(ranked, grades)
            ndcg = "n/a" if figures["ndcg10"] is None else f"{figures['ndcg10']:.3f}"
            print(f"\n== {area}: nDCG@10 {ndcg}, P@10 strict {figures['p10_strict']:.2f}, "
                  f"lenient {figures['p10_lenient']:.2f}")
            with Session(engine) as session:
                for position, row in enumerate(rows[:args.top], 1):
                    score = session.exec(select(Score).where(Score.call_id == row["id"],
                                                             Score.focus_area == area)).first()
                    terms = ", ".join(f"{e['term']} {e['weight']:.3f}" for e in (score.explanation or [])) \
                        if score else ""
                    grade = grades.get(row["external_id"], "-")
                    print(f"{position:3d} [{grade}] {row['score']:.3f} {row['title'][:70]}\n        {terms}")
                missing = [(ref, g) for ref, g in grades.items() if g >= 1 and ref not in ranked[:args.top]]
                place = {ref: i for i, ref in enumerate(ranked)}
                missing.sort(key=lambda item: (-item[1], place.get(item[0], len(ranked))))
                print("   graded, below the top:")
                for ref, g in missing[:args.missing]:
                    call = session.exec(select(Call).where(Call.external_id == ref)).first()
                    where = ranked.index(ref) + 1 if ref in ranked else "—"
                    print(f"    [{g}] rank {where}: {(call.title if call else ref)[:80]}")
        engine.dispose()


if __name__ == "__main__":
    main()
