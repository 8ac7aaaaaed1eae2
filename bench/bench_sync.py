"""How long syncing the largest SEDIA recording takes, beside only json-loading its pages.

    .venv/bin/python bench/bench_sync.py [--repeat 3]

Reads the recordings from FUNDRADAR_SAMPLES (default ../shared/samples). Each figure is the best of
``--repeat`` runs, measured in this same run:

* baseline: ``json.loads`` of every page file of the largest ``eu_ft/search_<date>/`` recording;
* fetch and parse only: the adapter without the database;
* sync into an empty database (a new SQLite file): the full eu_ft code path (multipart queries
  through :class:`watcher.replay.ReplayTransport`, parsing, HTML to text, one write transaction);
* sync the same recording into the full database (nothing changed: hashes compared, nothing written);
* the real next day: the recording of the day after the largest one synced into a database holding
  the largest (2026-08-22 over 2026-08-21), when there is one.

Prints the figures in seconds and each one's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.config import EuFtSource  # noqa: E402
from pipeline.core.db import open_database  # noqa: E402
from watcher.http import make_client  # noqa: E402
from watcher.replay import ReplayTransport, recording_date  # noqa: E402
from watcher.runner import run_source  # noqa: E402
from watcher.sources import BuildContext  # noqa: E402
from watcher.sources.eu_ft import EuFtAdapter  # noqa: E402

SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", ROOT.parent / "shared" / "samples"))


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def sync(db_url: str, folder: Path) -> object:
    engine = open_database(db_url)
    # with the database, as `fundradar sync` builds it: results sent as before are not parsed again
    adapter = EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", programmes={}), BuildContext(engine=engine))
    handler = adapter.replay_handler(folder)
    assert handler is not None
    day = recording_date(folder)
    now = datetime.combine(day, clock_time(10), UTC) if day else datetime.now(UTC)
    try:
        with make_client(transport=ReplayTransport([handler]), retries=0) as client:
            result = run_source(engine, adapter, client, now)
    finally:
        engine.dispose()
    if result.outcome != "ok":
        raise SystemExit(f"sync failed: {result.error}")
    return result


def fetch(folder: Path) -> object:
    adapter = EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", programmes={}),
                          BuildContext())
    handler = adapter.replay_handler(folder)
    assert handler is not None
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        return adapter.fetch(client, datetime.now(UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folders = sorted((SAMPLES / "eu_ft").glob("search_*"))
    if not folders:
        raise SystemExit(f"no eu_ft/search_* recordings in {SAMPLES}; set FUNDRADAR_SAMPLES")
    sizes = {f: sum(len(json.loads(p.read_bytes())["results"]) for p in f.glob("page_*.json"))
             for f in folders}
    largest = max(folders, key=lambda f: (sizes[f], f.name))
    following = [f for f in folders if f.name > largest.name]
    pages = sorted(largest.glob("page_*.json"))
    print(f"recording: {largest.name} ({sizes[largest]} results in {len(pages)} pages, "
          f"{sum(p.stat().st_size for p in pages) / 1e6:.1f} MB)")

    baseline = best(args.repeat, lambda: [json.loads(p.read_bytes()) for p in pages])
    fetch_only = best(args.repeat, lambda: fetch(largest))

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1000))

        def fresh() -> str:
            return f"sqlite:///{Path(tmp) / f'empty_{next(counter)}.db'}"

        urls = [fresh() for _ in range(args.repeat)]
        for url in urls:
            open_database(url).dispose()  # schema created outside the timing
        empty_times = []
        for url in urls:
            started = time.perf_counter()
            sync(url, largest)
            empty_times.append(time.perf_counter() - started)
        into_empty = min(empty_times)
        full_url = urls[0]
        unchanged = best(args.repeat, lambda: sync(full_url, largest))
        daily = None
        if following:
            daily_times = []
            for _ in range(args.repeat):
                url = fresh()
                sync(url, largest)
                started = time.perf_counter()
                sync(url, following[0])
                daily_times.append(time.perf_counter() - started)
            daily = min(daily_times)

    rows = [("json.loads of the pages (baseline)", baseline),
            ("fetch and parse only (replayed queries, no DB)", fetch_only),
            ("sync into an empty database", into_empty),
            ("sync into the full database (no change)", unchanged)]
    if daily is not None:
        rows.append((f"{following[0].name} over {largest.name} (next day)", daily))
    for label, seconds in rows:
        print(f"{label:<52} {seconds:8.3f} s   {seconds / baseline:7.1f}× baseline")
    print(f"per result: {into_empty / sizes[largest] * 1000:.2f} ms into an empty database, "
          f"{unchanged / sizes[largest] * 1000:.2f} ms unchanged")


if __name__ == "__main__":
    main()
