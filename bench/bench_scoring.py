"""Time to score 10,000 calls against 20 focus areas from scratch, and incrementally after 100 changed
calls, in the same run (the from-scratch time is the baseline of the ratio). Wall and CPU time are
both printed (CPU time is the steadier figure on a shared machine), and the process's peak resident
memory before and after the from-scratch scoring (the growth is the scoring's own peak).

The calls are built from the real texts in ../shared/samples (the 629 EU topics of
calls_2026-08-10.jsonl and the summaries of the eu-grants-feed snapshots): each bench call takes a title
and joins sentences of two real descriptions, so no two calls are the same. The 20 focus areas are the
benchmark's 8 and the example strategy's 4, plus 8 made from pairs of the benchmark's keyword lists.

Usage: .venv/bin/python bench/bench_scoring.py [--calls 10000] [--changed 100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.scoring import score_pending  # noqa: E402
from pipeline.core.config import (  # noqa: E402
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    FocusArea,
    LoadedConfig,
    load_funding_rules,
    load_strategy,
    read_yaml,
)
from pipeline.core.db import open_database, session_scope  # noqa: E402
from pipeline.core.models import Call  # noqa: E402

SHARED = Path(os.environ.get("FUNDRADAR_SHARED", ROOT.parent / "shared"))
SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", SHARED / "samples"))
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SHARED / "eval"))
NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)


def real_texts() -> list[tuple[str, str]]:
    texts = []
    for line in (SAMPLES / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts.append((record["title"], record["description"]))
    for snapshot in sorted((SAMPLES / "eu_ft").glob("eugrantsfeed_snapshot_*.json")):
        for grant in json.loads(snapshot.read_text(encoding="utf-8"))["grants"]:
            body = " ".join(str(grant.get(k) or "") for k in ("summary", "abstract", "destination"))
            texts.append((str(grant.get("title") or ""), body))
    return [(t, b) for t, b in texts if t]


def bench_calls(count: int, rng: random.Random) -> list[tuple[str, str]]:
    texts = real_texts()
    sentences = [re.split(r"(?<=[.;:])\s*", body) for _, body in texts]
    calls = []
    for i in range(count):
        a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
        half_a, half_b = sentences[a][: max(1, len(sentences[a]) // 2)], sentences[b][len(sentences[b]) // 2:]
        calls.append((texts[a][0] if i < len(texts) else f"{texts[a][0]} ({i})", " ".join(half_a + half_b)))
    return calls


def twenty_areas() -> dict[str, FocusArea]:
    example = load_strategy(DEFAULT_STRATEGY).focus_areas
    bench = read_yaml(EVAL / "focus_areas.yaml")["focus_areas"]
    areas = dict(example)
    names = list(bench)
    for name in names:
        areas[name] = FocusArea(label=str(bench[name]["label"]), keywords=list(bench[name]["keywords"]))
    for i in range(8):
        first, second = bench[names[i]], bench[names[(i + 3) % len(names)]]
        keywords = list(first["keywords"])[:5] + list(second["keywords"])[:5]
        areas[f"mixed_{i}"] = FocusArea(label=f"Mixed {i}", keywords=keywords)
    assert len(areas) == 20, len(areas)
    return areas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(20260822)
    strategy = load_strategy(DEFAULT_STRATEGY).model_copy(update={"focus_areas": twenty_areas()})
    config = LoadedConfig(strategy, load_funding_rules(DEFAULT_FUNDING_RULES), DEFAULT_STRATEGY)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        calls = bench_calls(args.calls, rng)
        with session_scope(engine) as session:
            for number, (title, text) in enumerate(calls):
                session.add(Call(source="bench", external_id=str(number), title=title, text=text,
                                 content_hash=content_hash(title, text),
                                 programme="Horizon Europe", topic_id=f"HORIZON-BENCH-{number}",
                                 type_of_action="HORIZON  Research and Innovation Actions",
                                 max_contribution=float(rng.choice([60e3, 1e6, 3e6, 8e6])),
                                 deadlines=[{"at": (NOW + timedelta(days=rng.randrange(10, 400)))
                                             .isoformat()}],
                                 first_seen=NOW, last_seen=NOW))
        chars = sum(len(t) + len(b) for t, b in calls)
        print(f"{args.calls} calls ({chars / 1e6:.1f} M characters), {len(strategy.focus_areas)} focus areas",
              file=sys.stderr)

        rss_before = peak_rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        scratch = score_pending(engine, config, NOW)
        from_scratch, scratch_cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_after = peak_rss_mb()

        with session_scope(engine) as session:
            for call_id in rng.sample(range(1, args.calls + 1), args.changed):
                call = session.get(Call, call_id)
                call.text += " Updated: the budget and the expected outcomes were revised."
                call.content_hash = content_hash(call.title, call.text)  # as a sync sets it
                session.add(call)
        started, cpu = time.perf_counter(), time.process_time()
        incremental = score_pending(engine, config, NOW)
        after_change, change_cpu = time.perf_counter() - started, time.process_time() - cpu

        started, cpu = time.perf_counter(), time.process_time()
        nothing = score_pending(engine, config, NOW + timedelta(days=1))  # verdicts move with the clock
        unchanged, unchanged_cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()

    assert scratch.refitted and not incremental.refitted and incremental.scored_calls == args.changed
    assert nothing.scored_calls == 0
    print(f"from scratch ({scratch.scored_calls} calls scored, model fitted): {from_scratch:8.2f} s "
          f"(CPU {scratch_cpu:.2f} s)")
    print(f"incremental ({incremental.scored_calls} changed calls):                {after_change:8.2f} s "
          f"(CPU {change_cpu:.2f} s)")
    print(f"nothing changed, a day later (verdicts only):   {unchanged:8.2f} s (CPU {unchanged_cpu:.2f} s)")
    print(f"ratio incremental / from scratch: {after_change / from_scratch:.3f} "
          f"({from_scratch / after_change:.1f}x faster)")
    print(f"peak RSS: {rss_before:.0f} MB with the calls stored, "
          f"{rss_after:.0f} MB after scoring from scratch "
          f"(+{rss_after - rss_before:.0f} MB)")


def content_hash(title: str, text: str) -> str:
    """Stands in for the watcher's hash of a call's tracked fields (it covers title and text)."""
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
