"""Syncing 100,000 SEDIA results into an empty database, beside only json-loading the pages it reads.

    .venv/bin/python bench/bench_sync_scale.py [--results 100000] [--pairs 3]

Builds a search answer of ``--results`` results from the real ones in FUNDRADAR_SAMPLES (default
../shared/samples; each a copy of a recorded result under its own reference, identifier and title),
spread over programmes of fewer than 10,000 results each (the API's window), written as the pages the
API would answer (100 results each) to a temporary folder. A local HTTP server on 127.0.0.1
(HTTP/1.1, keep-alive, as the live API) answers the search API from those files, and each sync runs in
a child process (the real client, multipart queries per programme, parsing, one write transaction into
a new SQLite file), so its peak memory (maxrss, from os.wait4) is the sync's own.

The sync and its floor (``json.loads`` of every page file, in this process) are taken in alternating
pairs (bench/pairs.py): medians, the median pair ratio and its range. The sync's time is the one the
child measures around :func:`watcher.runner.run_source` (not the interpreter's start).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pairs import Paired  # noqa: E402

SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", ROOT.parent / "shared" / "samples"))
PAGE_SIZE = 100
PER_PROGRAMME = 9_000  # under the API's window of 10,000 results per query
SEARCH_PATH = "/search-api/prod/rest/search"
NOW = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)
# the programme filter as the eu_ft adapter writes it in its compact JSON query
_PROGRAMME_TERM = re.compile(rb'\{"terms":\{"frameworkProgramme":\["([^"]+)"\]\}\}')


def real_results() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The distinct current (DATASOURCE SEDIA) results of every recording, and a page's envelope."""
    by_reference: dict[str, dict[str, Any]] = {}
    envelope: dict[str, Any] = {}
    for page in sorted((SAMPLES / "eu_ft").glob("search_*/page_*.json")):
        data = json.loads(page.read_bytes())
        envelope = envelope or {k: v for k, v in data.items() if k != "results"}
        for result in data["results"]:
            if result.get("metadata", {}).get("DATASOURCE", ["SEDIA"]) == ["SEDIA"]:
                by_reference.setdefault(result["reference"], result)
    if not by_reference:
        raise SystemExit(f"no eu_ft/search_*/page_*.json in {SAMPLES}; set FUNDRADAR_SAMPLES")
    return list(by_reference.values()), envelope


def write_pages(folder: Path, count: int) -> dict[tuple[str, int], Path]:
    """(programme id, page number) -> page file, for ``count`` results in all."""
    reals, envelope = real_results()
    files: dict[tuple[str, int], Path] = {}
    programmes = [str(9_000_001 + n) for n in range(-(-count // PER_PROGRAMME))]
    for index, programme in enumerate(programmes):
        first = index * PER_PROGRAMME
        total = min(PER_PROGRAMME, count - first)
        for number, start in enumerate(range(0, total, PAGE_SIZE), start=1):
            results = []
            for i in range(first + start, first + min(start + PAGE_SIZE, total)):
                base = reals[i % len(reals)]
                meta = dict(base["metadata"])
                meta["frameworkProgramme"] = [programme]
                meta["identifier"] = [f"{(meta.get('identifier') or ['T'])[0]}-S{i}"]
                meta["title"] = [f"{(meta.get('title') or ['Call'])[0]} ({i})"]
                results.append({**base, "reference": f"{base['reference']}-S{i}", "metadata": meta})
            path = folder / f"{programme}_{number:03d}.json"
            # laid out as the recorded answers are (indented by one space), so the floor reads the
            # same kind of bytes
            path.write_text(json.dumps({**envelope, "totalResults": total, "pageNumber": number,
                                        "pageSize": PAGE_SIZE, "results": results}, ensure_ascii=False,
                                       indent=1), encoding="utf-8")
            files[(programme, number)] = path
    return files


def serve(files: dict[tuple[str, int], Path]) -> ThreadingHTTPServer:
    """The search API on 127.0.0.1 answering from ``files`` (the programme named in the multipart query).

    The programme is found in the request body by a pattern rather than by parsing the multipart form
    and its JSON: the double answers at once, so the sync's time is fundradar's own."""
    class Handler(BaseHTTPRequestHandler):
        # keep-alive, as the live API: the client's connection is reused rather than one made per page
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found = _PROGRAMME_TERM.search(body)
            if found is None:
                self.send_error(400, "no frameworkProgramme terms in the query")
                return
            programme = found.group(1).decode()
            number = int(parse_qs(urlsplit(self.path).query)["pageNumber"][0])
            payload = files[(programme, number)].read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def child(url: str, db_url: str, programmes: list[str]) -> None:
    """One sync into ``db_url`` (a new file); prints its seconds and outcome as JSON."""
    from pipeline.core.config import EuFtSource
    from pipeline.core.db import open_database
    from watcher.http import make_client
    from watcher.runner import run_source
    from watcher.sources import BuildContext
    from watcher.sources.eu_ft import EuFtAdapter

    engine = open_database(db_url)
    cfg = EuFtSource(type="eu_ft", url=url, programmes={f"P{p}": p for p in programmes},
                     timeout_seconds=600)
    adapter = EuFtAdapter("eu_ft", cfg, BuildContext(engine=engine))
    with make_client(retries=0) as client:
        started = time.perf_counter()
        result = run_source(engine, adapter, client, NOW)
        seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": seconds, "outcome": result.outcome, "complete": result.complete,
                      "seen": result.seen, "new": result.new, "error": result.error}))


def run_child(url: str, db_url: str, programmes: list[str]) -> tuple[dict[str, Any], float]:
    """A sync in a child process: its figures and its peak memory in MB."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", url, db_url, ",".join(programmes)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the sync failed:\n{output}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("URL", "DB", "PROGRAMMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, db_url, programmes = args.child
        child(url, db_url, programmes.split(","))
        return
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        files = write_pages(Path(tmp), args.results)
        programmes = sorted({programme for programme, _ in files})
        size = sum(p.stat().st_size for p in files.values())
        print(f"{args.results} results in {len(files)} pages of {len(programmes)} programmes, "
              f"{size / 1e6:.0f} MB, written in {time.perf_counter() - started:.0f} s", flush=True)
        server = serve(files)
        url = f"http://127.0.0.1:{server.server_address[1]}{SEARCH_PATH}"
        pages = list(files.values())

        def floor() -> float:
            began = time.perf_counter()
            for page in pages:
                json.loads(page.read_bytes())
            return time.perf_counter() - began

        ours, base, peaks = [], [], []
        for number in range(args.pairs):
            db_url = f"sqlite:///{Path(tmp) / f'sync_{number}.db'}"
            if number % 2:
                base.append(floor())
            figures, peak = run_child(url, db_url, programmes)
            if (figures["outcome"], figures["complete"], figures["new"]) != ("ok", True, args.results):
                raise SystemExit(f"the sync did not store every result: {figures}")
            ours.append(figures["seconds"])
            peaks.append(peak)
            if not number % 2:
                base.append(floor())
            print(f"pair {number + 1}: sync {ours[-1]:.1f} s (peak {peak:.0f} MB), floor {base[-1]:.2f} s",
                  flush=True)
        server.shutdown()
    ratios = [a / b for a, b in zip(ours, base, strict=True)]
    paired = Paired(statistics.median(ours), statistics.median(base), statistics.median(ratios),
                    min(ratios), max(ratios))
    print(paired.row(f"sync of {args.results} results into an empty database", "json.loads of the pages"))
    print(f"peak memory of the sync process: {max(peaks):.0f} MB (median {statistics.median(peaks):.0f} MB)")


if __name__ == "__main__":
    main()
