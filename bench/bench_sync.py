"""How long syncing the largest SEDIA recording takes, beside only json-loading its pages.

    .venv/bin/python bench/bench_sync.py [--pairs 7]

Reads the recordings from FUNDRADAR_SAMPLES (default ../shared/samples). Each figure is taken in
alternating pairs with its floor, ``json.loads`` of every page file of the largest
``eu_ft/search_<date>/`` recording (bench/pairs.py: medians, the median pair ratio and its range):

* fetch and parse only: the adapter without the database;
* sync into an empty database (a new SQLite file, its schema made before the timing): the full eu_ft
  code path (multipart queries through :class:`watcher.replay.ReplayTransport`, parsing, HTML to
  text, one write transaction);
* sync the same recording into the full database (nothing changed: no result parsed again, since its
  raw hash is the stored one; nothing written but the run);
* the real next day: the recording of the day after the largest one synced into a database holding
  the largest (2026-08-22 over 2026-08-21), when there is one.

The replay (the test double of the search API) reads and loads its recording before each timing, as
the live API has its answers ready; answering each query stays in the timing.

Prints a table row per figure (seconds, floor, ratio [lowest–highest pair]).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pairs import alternating_timed, timed  # noqa: E402

from pipeline.core.config import EuFtSource  # noqa: E402
from pipeline.core.db import open_database  # noqa: E402
from watcher.http import make_client  # noqa: E402
from watcher.replay import (  # noqa: E402
    ReplayTransport,
    SediaSearchRecording,
    find_search_recording,
    recording_date,
)
from watcher.runner import run_source  # noqa: E402
from watcher.sources import BuildContext  # noqa: E402
from watcher.sources.eu_ft import EuFtAdapter  # noqa: E402

SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", ROOT.parent / "shared" / "samples"))


def prepared_sync(db_url: str, folder: Path) -> Callable[[], object]:
    """A sync of ``folder`` into ``db_url``, ready to run: the replay (the test double answering the
    queries) has read and loaded its recording, which the live API never costs us."""
    adapter = EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", programmes={}), BuildContext())
    assert adapter.replay_handler(folder) is not None  # the programme names of the recording
    recording = SediaSearchRecording(find_search_recording(folder) or folder)
    recording.results  # noqa: B018 (loads every page now, outside the timing)
    handler = recording.handler(adapter.url)
    day = recording_date(folder)
    now = datetime.combine(day, clock_time(10), UTC) if day else datetime.now(UTC)

    def run() -> object:
        engine = open_database(db_url)
        # with the database, as `fundradar sync` builds it: results sent as before are not parsed again
        adapter.engine = engine
        try:
            with make_client(transport=ReplayTransport([handler]), retries=0) as client:
                result = run_source(engine, adapter, client, now)
        finally:
            engine.dispose()
        if result.outcome != "ok":
            raise SystemExit(f"sync failed: {result.error}")
        return result

    return run


def sync(db_url: str, folder: Path) -> object:
    return prepared_sync(db_url, folder)()


def timed_sync(db_url: str, folder: Path) -> float:
    return timed(prepared_sync(db_url, folder))


def timed_fetch(folder: Path) -> float:
    adapter = EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", programmes={}), BuildContext())
    assert adapter.replay_handler(folder) is not None  # the programme names of the recording
    recording = SediaSearchRecording(find_search_recording(folder) or folder)
    recording.results  # noqa: B018 (loads every page now, outside the timing)
    handler = recording.handler(adapter.url)
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        return timed(lambda: adapter.fetch(client, datetime.now(UTC)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
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

    def floor() -> object:
        return [json.loads(p.read_bytes()) for p in pages]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10_000))

        def fresh() -> str:
            url = f"sqlite:///{Path(tmp) / f'db_{next(counter)}.db'}"
            open_database(url).dispose()  # the schema, made outside the timing
            return url

        def into_empty() -> float:
            return timed_sync(fresh(), largest)

        full_url = fresh()
        sync(full_url, largest)

        def next_day() -> float:
            url = fresh()
            sync(url, largest)
            return timed_sync(url, following[0])

        rows.append(("fetch and parse only (replayed queries, no DB)",
                     alternating_timed(lambda: timed_fetch(largest), floor, args.pairs)))
        rows.append(("sync into an empty database", alternating_timed(into_empty, floor, args.pairs)))
        rows.append(("sync into the full database (no change)",
                     alternating_timed(lambda: timed_sync(full_url, largest), floor, args.pairs)))
        if following:
            rows.append((f"{following[0].name} over {largest.name} (next day)",
                         alternating_timed(next_day, floor, args.pairs)))
    print("| what | now | floor | ratio [pair range] |")
    print("|---|---|---|---|")
    for label, paired in rows:
        print(paired.row(label, "json.loads of the pages"))


if __name__ == "__main__":
    main()
