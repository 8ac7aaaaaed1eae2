"""Concurrency on one SQLite file in WAL mode: ``fundradar serve`` syncing the EU portal (served by the
local server from the recordings, a different day on every run, so every run writes calls, changes,
scores and verdicts) while four CLI processes write ideas, partners and applications.

Every process must exit 0, no "database is locked" (or any error) may reach a user, and every write
must be there afterwards.

Each writer is one process that runs the real ``fundradar`` command line 25 times in a loop (a new
engine and connection every time, exactly as separate invocations; one process instead of 25 keeps the
interpreter start-up off the clock).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.applications import create_application
from pipeline.core.config import load_config
from pipeline.core.db import open_database, session_scope
from pipeline.ideas import create_idea
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.replay import SediaSearchRecording
from watcher.runner import run_source
from watcher.sources import build_adapters

ROOT = Path(__file__).resolve().parent.parent
SEARCH_PATH = "/search-api/prod/rest/search"
AS_OF = "2026-08-22T10:00:00+00:00"
WRITES = 25
# the calls whose content differs between the two recorded days (see tests/test_eu_ft_sync.py)
MOVING = ("186358PROSPECTSEN", "186824PROSPECTSEN", "50143935TOPICSen", "50144225TOPICSen",
          "50143814TOPICSen", "50144312TOPICSen", "50143989TOPICSen", "50143773TOPICSen",
          "50144033TOPICSen", "51188707TOPICSen")
TIMEOUT = 120

# The writer: runs `fundradar ARGS` for every ARGS in the JSON list argv[1], WRITES times, with a short
# pause between runs; halfway it waits for the file argv[2], which the test creates once a scheduler run
# has started since the writers did, so the writes meet a run however fast either side is on this
# machine. Exits with the worst exit code.
WRITER = textwrap.dedent("""\
    import json, os, sys, time
    from pipeline.cli.main import app
    codes = []
    writes = json.loads(sys.argv[1])
    for number, args in enumerate(writes):
        if number == len(writes) // 2:
            deadline = time.monotonic() + float(sys.argv[3])
            while not os.path.exists(sys.argv[2]):
                if time.monotonic() > deadline:
                    sys.exit("no scheduler run started while writing")
                time.sleep(0.05)
        try:
            app(args, prog_name="fundradar")
        except SystemExit as exc:
            codes.append(exc.code or 0)
        else:
            codes.append(0)
        time.sleep(0.05)
    print("exit codes:", codes, file=sys.stderr)
    sys.exit(max(codes))
    """)


class AlternatingPortal:
    """The SEDIA search API answering each run from the other recorded day (08-21, 08-22, 08-21, ...):
    a run's first request is its only page 1 (one query, no programme filter), where it switches."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        self.days = [SediaSearchRecording(samples / "eu_ft" / f"search_{day}")
                     for day in ("2026-08-21", "2026-08-22")]
        self.count = 0
        self.runs: list[float] = []  # when each run's page 1 was asked for (monotonic clock)
        self.started = threading.Event()  # a run has started since the last clear()
        self.lock = threading.Lock()
        server.route("POST", SEARCH_PATH, self.handle)

    def clear(self) -> None:
        self.runs.clear()
        self.started.clear()

    def handle(self, request: Request) -> Reply:
        params = {k: v[0] for k, v in request.query.items()}
        with self.lock:
            if params["pageNumber"] == "1":
                self.count += 1
                self.runs.append(time.monotonic())
                self.started.set()
            recording = self.days[(self.count - 1) % 2]
        status, body = recording.answer(request.headers["content-type"], request.body, params)
        return Reply(status, body, {"Content-Type": "application/json;charset=UTF-8"})


def write_config(path: Path, server: LocalServer) -> Path:
    """The example strategy with one source: eu_ft at the local server, every second, one query."""
    strategy = (ROOT / "config" / "strategy.example.yaml").read_text(encoding="utf-8")
    start, end = strategy.index("sources:\n"), strategy.index("\nslack:")
    path.write_text(strategy[:start] + "sources:\n  eu_ft:\n    type: eu_ft\n"
                    f"    url: {server.url(SEARCH_PATH)}\n"
                    "    schedule: {every: 1s, jitter_seconds: 0}\n" + strategy[end:], encoding="utf-8")
    return path


def query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return [tuple(r) for r in conn.execute(sql)]


@pytest.mark.slow
def test_serve_syncing_while_four_cli_processes_write(tmp_path: Path, server: LocalServer,
                                                      samples: Path) -> None:
    portal = AlternatingPortal(server, samples)
    config = write_config(tmp_path / "strategy.yaml", server)
    db = tmp_path / "fundradar.db"

    # the day before: the calls of 08-21, two project ideas, and 25 draft applications of the first idea
    engine = open_database(f"sqlite:///{db}")
    loaded = load_config(config)
    [adapter] = build_adapters(loaded.strategy, engine=engine)
    with make_client(retries=0) as client:
        first = run_source(engine, adapter, client, datetime(2026, 8, 21, 10, tzinfo=UTC))
    assert (first.outcome, first.complete) == ("ok", True) and first.new > 500
    portal.clear()
    # open calls that the two days agree on (so no sync moves their deadlines and adds events)
    calls = [row[0] for row in query(db, "SELECT id FROM call WHERE deadline > '2026-10-01' AND "
                                         f"external_id NOT IN ({', '.join(map(repr, MOVING))}) ORDER BY id")]
    assert len(calls) >= WRITES
    calls = calls[:WRITES]
    now = datetime.fromisoformat(AS_OF)
    base = ["--db", str(db), "--config", str(config), "--as-of", AS_OF]
    cli = [sys.executable, "-c", WRITER]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNDRADAR_", "SLACK_"))
           or k == "FUNDRADAR_CACHE"}
    env["PYTHONPATH"], env["FUNDRADAR_USER"] = str(ROOT), "tester"
    with session_scope(engine) as session:
        for title in ("Seed idea A", "Seed idea B"):
            create_idea(session, title=title, strategy=loaded.strategy, now=now)
        for call in calls:
            create_application(session, idea_id=1, call_key=str(call), now=now, by="tester")
    engine.dispose()

    # now: the scheduler syncs every second while four writers loop
    writers = {
        "ideas": [[*base, "ideas", "add", f"Hydrogen ferry {i}", "--focus", "green_maritime",
                   "--country", "SE", "--description", f"writer idea {i}"] for i in range(WRITES)],
        "partners": [[*base, "partners", "add", f"Partner {i} ApS", "--country", "DE", "--type", "sme",
                      "--competence", "offshore wind"] for i in range(WRITES)],
        "applications": [[*base, "applications", "add", "2", str(call), "--amount", str(1000 * (i + 1))]
                         for i, call in enumerate(calls)],
        "moves": [[*base, "applications", "move", str(i + 1), "consortium", "--note", f"move {i}"]
                  for i in range(WRITES)],
    }
    serve = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", *base, "serve", "--no-digests",
                              "--jitter", "0"], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        assert portal.started.wait(TIMEOUT), "the scheduler never ran the source"
        began = time.monotonic()
        gate = tmp_path / "a-run-started-while-writing"
        procs = {name: subprocess.Popen([*cli, json.dumps(args), str(gate), str(TIMEOUT)], cwd=ROOT,
                                        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name, args in writers.items()}
        deadline = time.monotonic() + TIMEOUT
        while not any(t > began for t in portal.runs[1:]):
            assert time.monotonic() < deadline and serve.poll() is None, "the scheduler stopped syncing"
            time.sleep(0.05)
        gate.touch()
        results = {name: proc.communicate(timeout=TIMEOUT) for name, proc in procs.items()}
        ended = time.monotonic()
        deadline = time.monotonic() + TIMEOUT  # let the scheduler finish at least two runs
        while len(query(db, "SELECT id FROM fetch_run WHERE outcome = 'ok'")) < 3:
            assert time.monotonic() < deadline and serve.poll() is None, "the scheduler stopped syncing"
            time.sleep(0.2)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve_out, serve_err = serve.communicate(timeout=TIMEOUT)
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()

    # every process exited 0 and no user saw an error
    for name, proc in procs.items():
        out, err = results[name]
        assert proc.returncode == 0, (name, err)
        assert "locked" not in err and "Error" not in err and "Traceback" not in err, (name, err)
        # adding an application warns about the call's failed rules and what its consortium misses
        # (one line each); nothing else is said
        said = [line for line in err.splitlines() if not line.startswith("Warning: ")]
        assert said == [f"exit codes: {[0] * WRITES}"]
    assert serve.returncode == 0, serve_err
    assert "locked" not in serve_err and "Traceback" not in serve_err and "ERROR" not in serve_err, serve_err

    # the writes really met the scheduler's: its runs went on while the writers wrote
    assert any(began < t < ended for t in portal.runs[1:]), (began, ended, portal.runs)

    # every write is there, with its content
    assert query(db, "SELECT title, description, focus_areas, target_countries FROM idea WHERE id > 2 "
                     "ORDER BY id") == \
        [(f"Hydrogen ferry {i}", f"writer idea {i}", '["green_maritime"]', '["SE"]') for i in range(WRITES)]
    assert query(db, "SELECT organisation, country, type, competences FROM partner ORDER BY id") == \
        [(f"Partner {i} ApS", "DE", "sme", '["offshore wind"]') for i in range(WRITES)]
    assert query(db, "SELECT call_id, status, requested_amount FROM application WHERE idea_id = 2 "
                     "ORDER BY id") == [(call, "draft", 1000.0 * (i + 1)) for i, call in enumerate(calls)]
    assert query(db, "SELECT call_id, status FROM application WHERE idea_id = 1 ORDER BY id") == \
        [(call, "consortium") for call in calls]
    moves = query(db, "SELECT application_id, from_status, to_status, note, by FROM application_event "
                      "WHERE to_status = 'consortium' ORDER BY application_id")
    assert moves == [(i + 1, "draft", "consortium", f"move {i}", "tester") for i in range(WRITES)]
    assert query(db, "SELECT count(*) FROM application_event") == [(3 * WRITES,)]

    # and the scheduler's runs all completed: nothing left running, no failure
    assert query(db, "SELECT outcome, count(*) FROM fetch_run GROUP BY outcome") == \
        [("ok", len(query(db, "SELECT id FROM fetch_run")))]
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
