"""Time to score 10,000 calls against 20 focus areas from scratch, after 100 changed calls, and after the
real daily update, each beside its floor in the same run (bench/pairs.py: alternating pairs, medians).

* from scratch (corpus model fitted, every call scored, explained, ruled and stored), beside bare
  scikit-learn on the same texts: ``TfidfVectorizer`` (words and two-word phrases, sublinear tf), a
  rank-50 ``TruncatedSVD`` (10 power iterations) of its word columns, and the 20 areas' queries
  multiplied with both;
* after 100 changed calls, beside transforming those 100 texts with the fitted vectorizer and SVD and
  the 20 products;
* the next day: the recording of 2026-08-22 synced over the database holding 2026-08-21 (the real daily
  update of the eu_ft source), then scored, beside the same floor for the calls the sync made new or
  changed;
* a day later with nothing changed (verdicts only), once.

The database holds the bench calls and the 2026-08-21 recording (synced as the main job does). The
bench calls are built from the real texts in ../shared/samples (the 629 EU topics of
calls_2026-08-10.jsonl and the summaries of the eu-grants-feed snapshots): each takes a title and joins
sentences of two real descriptions, so no two calls are the same. The 20 focus areas are the
benchmark's 8 and the example strategy's 4, plus 8 made from pairs of the benchmark's keyword lists.
Each timed scoring run starts from a copy of the database made outside the timing.

Usage: .venv/bin/python bench/bench_scoring.py [--calls 10000] [--changed 100] [--pairs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sync import sync  # noqa: E402
from pairs import alternating  # noqa: E402

from classifiers.freshness import strategy_queries  # noqa: E402
from classifiers.scoring import ScoringResult, score_pending  # noqa: E402
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
DAY_BEFORE, DAY_AFTER = SAMPLES / "eu_ft" / "search_2026-08-21", SAMPLES / "eu_ft" / "search_2026-08-22"
NEXT_DAY = datetime(2026, 8, 22, 10, 5, tzinfo=UTC)  # just after the sync of 2026-08-22 (10:00)


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


def build_database(path: Path, calls: list[tuple[str, str]], rng: random.Random) -> None:
    """The bench calls, then the 2026-08-21 recording synced in (when recorded)."""
    engine = open_database(f"sqlite:///{path}")
    with session_scope(engine) as session:
        for number, (title, text) in enumerate(calls):
            session.add(Call(source="bench", external_id=str(number), title=title, text=text,
                             content_hash=content_hash(title, text),
                             programme="Horizon Europe", topic_id=f"HORIZON-BENCH-{number}",
                             type_of_action="HORIZON  Research and Innovation Actions",
                             max_contribution=float(rng.choice([60e3, 1e6, 3e6, 8e6])),
                             deadlines=[{"at": (NOW + timedelta(days=rng.randrange(10, 400))).isoformat()}],
                             first_seen=NOW, last_seen=NOW))
    engine.dispose()
    if DAY_BEFORE.is_dir():
        sync(f"sqlite:///{path}", DAY_BEFORE)


def stored_texts(path: Path, ids: list[int] | None = None) -> list[str]:
    """Title and text of the stored calls (all, or ``ids``), in id order, as the floor reads them."""
    engine = open_database(f"sqlite:///{path}")
    with Session(engine) as session:
        query = sa.select(Call.id, Call.title, Call.text).order_by(Call.id)
        rows = session.execute(query).all()
    engine.dispose()
    wanted = None if ids is None else set(ids)
    return [f"{r.title or ''} {r.text or ''}" for r in rows if wanted is None or r.id in wanted]


def restore(source: Path, target: Path) -> None:
    """``target`` becomes a copy of the closed database ``source`` (no write-ahead log left behind)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def hashes(path: Path) -> dict[int, str]:
    engine = open_database(f"sqlite:///{path}")
    with Session(engine) as session:
        found = {i: h or "" for i, h in session.execute(sa.select(Call.id, Call.content_hash))}
    engine.dispose()
    return found


class SklearnFloor:
    """What bare scikit-learn does for the same task: TF-IDF (words and bigrams), SVD of the word
    columns, the queries' products in both spaces."""

    def __init__(self, queries: list[str]) -> None:
        self.queries = queries

    def fit(self, texts: list[str]) -> object:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
        matrix = self.vectoriser.fit_transform(texts)
        names = self.vectoriser.get_feature_names_out()
        self.words = np.asarray([i for i, n in enumerate(names) if " " not in n])
        self.svd = TruncatedSVD(50, n_iter=10, random_state=0)
        self.svd.fit(matrix[:, self.words])
        self.query_matrix = self.vectoriser.transform(self.queries)
        self.latent_queries = self.svd.transform(self.query_matrix[:, self.words])
        return self.products(matrix)

    def products(self, matrix: object) -> object:
        lexical = matrix @ self.query_matrix.T
        latent = self.svd.transform(matrix[:, self.words]) @ self.latent_queries.T
        return lexical, latent

    def transform(self, texts: list[str]) -> object:
        return self.products(self.vectoriser.transform(texts))


def query_texts(config: LoadedConfig) -> list[str]:
    return [" ".join([q.label, q.description, *(t for group in q.units() for t in group)])
            for q in strategy_queries(config)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20260822)
    strategy = load_strategy(DEFAULT_STRATEGY).model_copy(update={"focus_areas": twenty_areas()})
    config = LoadedConfig(strategy, load_funding_rules(DEFAULT_FUNDING_RULES), DEFAULT_STRATEGY)
    with tempfile.TemporaryDirectory() as tmp:
        base, scored, work = Path(tmp) / "base.db", Path(tmp) / "scored.db", Path(tmp) / "work.db"
        calls = bench_calls(args.calls, rng)
        build_database(base, calls, rng)
        texts = stored_texts(base)
        chars = sum(len(t) for t in texts)
        print(f"{len(texts)} calls ({chars / 1e6:.1f} M characters; {args.calls} bench calls and the "
              f"{DAY_BEFORE.name} recording), {len(strategy.focus_areas)} focus areas", file=sys.stderr)
        floor = SklearnFloor(query_texts(config))
        results: dict[str, list[ScoringResult]] = {}
        cpu: dict[str, list[float]] = {}

        def scoring(label: str, now: datetime) -> Callable[[], None]:
            def run() -> None:
                started = time.process_time()
                engine = open_database(f"sqlite:///{work}")
                results.setdefault(label, []).append(score_pending(engine, config, now))
                engine.dispose()
                cpu.setdefault(label, []).append(time.process_time() - started)
            return run

        rss_before = peak_rss_mb()
        rows = [("from scratch", "scikit-learn TF-IDF + SVD + products, same texts",
                 alternating(scoring("scratch", NOW), lambda: floor.fit(texts), args.pairs,
                             setup=lambda: restore(base, work)))]
        rss_after = peak_rss_mb()
        restore(work, scored)

        changed = rng.sample(range(1, args.calls + 1), args.changed)

        def change_calls() -> None:
            restore(scored, work)
            engine = open_database(f"sqlite:///{work}")
            with session_scope(engine) as session:
                for call_id in changed:
                    call = session.get(Call, call_id)
                    call.text += " Updated: the budget and the expected outcomes were revised."
                    call.content_hash = content_hash(call.title, call.text)  # as a sync sets it
                    session.add(call)
            engine.dispose()

        change_calls()
        changed_texts = stored_texts(work, changed)
        rows.append((f"after {args.changed} changed calls", f"transform {args.changed} texts + products",
                     alternating(scoring("changed", NOW), lambda: floor.transform(changed_texts), args.pairs,
                                 setup=change_calls)))

        if DAY_AFTER.is_dir():
            def next_day() -> None:
                restore(scored, work)
                sync(f"sqlite:///{work}", DAY_AFTER)

            before = hashes(scored)
            next_day()
            synced = [i for i, h in hashes(work).items() if before.get(i) != h]
            synced_texts = stored_texts(work, synced)
            rows.append((f"next day ({DAY_AFTER.name} over {DAY_BEFORE.name})",
                         f"transform the {len(synced)} new or changed texts + products",
                         alternating(scoring("next day", NEXT_DAY), lambda: floor.transform(synced_texts),
                                     args.pairs, setup=next_day)))

        restore(scored, work)
        scoring("nothing", NOW + timedelta(days=1))()  # verdicts move with the clock

    scratch, after_change = results["scratch"][-1], results["changed"][-1]
    assert scratch.refitted and not after_change.refitted and after_change.scored_calls == args.changed
    assert results["nothing"][-1].scored_calls == 0
    print("| what | median (CPU) | floor (median) | ratio [pair range] | scored |")
    print("|---|---|---|---|---|")
    for (label, floor_label, paired), key in zip(rows, ["scratch", "changed", "next day"], strict=False):
        last = results[key][-1]
        how = f"{last.scored_calls} calls, {'refitted' if last.refitted else last.reason}"
        print(f"| {label} | {paired.seconds:.2f} s ({statistics.median(cpu[key]):.2f} s) | {floor_label}: "
              f"{paired.floor:.3f} s | {paired.ratio:.1f}× [{paired.low:.1f}–{paired.high:.1f}] | {how} |")
    print(f"| nothing changed, a day later (verdicts only) | CPU {cpu['nothing'][0]:.2f} s | | | "
          f"{results['nothing'][0].verdicts} verdicts looked at |")
    print(f"peak RSS: {rss_before:.0f} MB with the calls stored, {rss_after:.0f} MB after scoring from "
          f"scratch (+{rss_after - rss_before:.0f} MB, with the floor's own)")


def content_hash(title: str, text: str) -> str:
    """Stands in for the watcher's hash of a call's tracked fields (it covers title and text)."""
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
