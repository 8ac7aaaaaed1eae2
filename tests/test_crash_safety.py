"""Crash safety: ``fundradar sync`` killed with SIGKILL at exact points of a real run (a SQLite file, the
recorded EU portal searches served by the local server) leaves a database that passes SQLite's
integrity and foreign-key checks, and the next sync ends with the same content as a run that was never
interrupted.

The kill points are deterministic: the local server holds a page until the test has killed the process,
or the process is frozen before an exact SQL statement (``tests/crashpoint.py``, a trace callback that
only observes) and killed there.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.localserver import Drop, LocalServer, Reply, Request
from watcher.replay import SediaSearchRecording
from watcher.store import INTERRUPTED

ROOT = Path(__file__).resolve().parent.parent
SEARCH_PATH = "/search-api/prod/rest/search"
DAY1, DAY2 = "2026-08-21", "2026-08-22"
TIMEOUT = 60  # seconds any single step may take before the test gives up (never reached when green)


class Portal:
    """The SEDIA search API answered from one recording; ``hold(n)`` keeps the n-th request waiting
    until :meth:`release`, so a test can kill the client while that page is being fetched."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        self.samples = samples
        self.recording: SediaSearchRecording | None = None
        self.count = 0
        self.hold_at = 0
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        server.route("POST", SEARCH_PATH, self.handle)

    def serve(self, day: str) -> None:
        self.recording = SediaSearchRecording(self.samples / "eu_ft" / f"search_{day}")
        self.count, self.hold_at = 0, 0
        self.arrived.clear()
        self.released.clear()

    def hold(self, number: int) -> None:
        self.hold_at = number

    def release(self) -> None:
        self.released.set()

    def handle(self, request: Request) -> Reply:
        assert self.recording is not None
        with self.lock:
            self.count += 1
            number = self.count
        if number == self.hold_at:
            self.arrived.set()
            self.released.wait(TIMEOUT)
            raise Drop  # the client is gone by now
        params = {k: v[0] for k, v in request.query.items()}
        status, body = self.recording.answer(request.headers["content-type"], request.body, params)
        return Reply(status, body, {"Content-Type": "application/json;charset=UTF-8"})


def write_config(path: Path, server: LocalServer) -> Path:
    """The example strategy with only the eu_ft source (its programme queries), at the local server."""
    strategy = (ROOT / "config" / "strategy.example.yaml").read_text(encoding="utf-8")
    start, end = strategy.index("sources:\n  eu_ft:\n"), strategy.index("  euro_access:\n")
    eu_ft = strategy[start:end].replace("    type: eu_ft\n",
                                        f"    type: eu_ft\n    url: {server.url(SEARCH_PATH)}\n", 1)
    path.write_text(strategy[:start] + eu_ft + strategy[strategy.index("\nslack:") + 1:], encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNDRADAR_", "SLACK_"))
           or k == "FUNDRADAR_CACHE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _args(config: Path, db: Path, day: str) -> list[str]:
    return ["--config", str(config), "--db", str(db), "--as-of", f"{day}T10:00:00+00:00", "sync", "--json"]


def sync(config: Path, db: Path, day: str) -> list[dict[str, Any]]:
    """An uninterrupted ``fundradar sync`` in its own process; its JSON summary."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli.main", *_args(config, db, day)], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert "database is locked" not in proc.stderr
    return json.loads(proc.stdout)


def sync_killed_by_portal(config: Path, db: Path, day: str, portal: Portal, request_number: int) -> None:
    """Start a sync, wait until the portal holds its ``request_number``-th request, SIGKILL it."""
    portal.hold(request_number)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", *_args(config, db, day)], cwd=ROOT,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert portal.arrived.wait(TIMEOUT), "the sync never asked for the held page"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        portal.release()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def sync_killed_at_statement(config: Path, db: Path, day: str, pattern: str, count: int) -> str:
    """Start a sync frozen before the ``count``-th SQL statement matching ``pattern``; SIGKILL it there.
    Returns the statement it was frozen before."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "tests.crashpoint", str(write_fd), pattern, str(count),
                             "--", *_args(config, db, day)], cwd=ROOT, env=_env(), pass_fds=(write_fd,),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], TIMEOUT)
        line = os.read(read_fd, 4096).decode() if ready else ""
        if not line:  # the process ended (or hung) without reaching the statement
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the sync never reached {pattern!r} #{count}: exit {proc.returncode}\n{err}")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(TIMEOUT) == -signal.SIGKILL
        return line
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# --- what a database holds, without ids ---------------------------------------------------------

def check_integrity(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def rows(db: Path, sql: str, *, order: bool = True) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        found = [tuple(r) for r in conn.execute(sql)]
    return sorted(found, key=repr) if order else found


def runs(db: Path) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT id, outcome, error FROM fetch_run ORDER BY id", order=False)


def content(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a sync writes, keyed by natural keys instead of ids; runs are the finished ones."""
    def columns(table: str, drop: tuple[str, ...]) -> str:
        with closing(sqlite3.connect(db)) as conn:
            names = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        return ", ".join(f"t.{n}" for n in names if n not in drop)

    return {
        "sources": rows(db, "SELECT * FROM source"),
        "calls": rows(db, f"SELECT {columns('call', ('id',))} FROM call t"),
        "changes": rows(db, "SELECT c.source, c.external_id, t.field, t.old, t.new, t.changed_at, "
                            "r.started_at FROM call_change t JOIN call c ON c.id = t.call_id "
                            "JOIN fetch_run r ON r.id = t.run_id"),
        # the runs that wrote (finished_at is start + measured wall time, different in every run)
        "runs": rows(db, f"SELECT {columns('fetch_run', ('id', 'finished_at'))} FROM fetch_run t "
                         "WHERE t.outcome != 'failed' AND t.new + t.changed + t.closed > 0"),
        "scores": rows(db, f"SELECT c.external_id, {columns('score', ('id', 'call_id', 'model_version'))} "
                           "FROM score t JOIN call c ON c.id = t.call_id"),
        "verdicts": rows(db, f"SELECT c.external_id, {columns('verdict', ('id', 'call_id'))} "
                             "FROM verdict t JOIN call c ON c.id = t.call_id"),
        "scoring_models": rows(db, f"SELECT {columns('scoring_model', ('id', 'version'))} "
                                   "FROM scoring_model t"),
    }


def assert_same(db: Path, reference: dict[str, list[tuple[Any, ...]]]) -> None:
    got = content(db)
    for key, expected in reference.items():
        assert len(got[key]) == len(expected), key
        assert got[key] == expected, key


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a database (SQLite's online backup, WAL included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


# --- the tests ----------------------------------------------------------------------------------

Content = dict[str, list[tuple[Any, ...]]]


@dataclass
class World:
    """One local portal and config for the module; day 1 synced into an empty database, and the
    reference: day 2 synced over it, both uninterrupted."""

    tmp: Path
    portal: Portal
    config: Path
    day1: Path
    after_day1: Content
    after_day2: Content
    after_confirmed: Content  # day 2 synced once more: the calls it lacks removed

    def recovered(self, db: Path, day: str, expected: Content, killed_runs: int) -> None:
        """The killed database is sound; the next sync completes and leaves ``expected``; the killed
        run (if it had started) is marked interrupted."""
        check_integrity(db)
        self.portal.serve(day)
        [result] = sync(self.config, db, day)
        assert result["outcome"] == "ok" and result["complete"]
        check_integrity(db)
        assert_same(db, expected)
        assert [r[1:] for r in runs(db) if r[1] != "ok"] == [("failed", INTERRUPTED)] * killed_runs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("crash")
    with LocalServer() as server:
        portal = Portal(server, samples)
        config = write_config(tmp / "strategy.yaml", server)
        portal.serve(DAY1)
        day1 = tmp / "day1.db"
        [first] = sync(config, day1, DAY1)
        assert (first["outcome"], first["complete"], first["new"]) == ("ok", True, 618)
        reference = copy_db(day1, tmp / "reference.db")
        portal.serve(DAY2)
        [second] = sync(config, reference, DAY2)
        # the 7 calls gone from the next day's listing are marked missing (one answer may be short)
        assert (second["outcome"], second["seen"], second["new"], second["changed"], second["closed"],
                second["removed"], second["missing"]) == ("ok", 611, 0, 0, 0, 0, 7)
        after_day1, after_day2 = content(day1), content(reference)
        assert after_day2["calls"] != after_day1["calls"] and after_day2["verdicts"] != after_day1["verdicts"]
        confirmed = copy_db(reference, tmp / "confirmed.db")
        [third] = sync(config, confirmed, DAY2)
        assert (third["removed"], third["missing"]) == (7, 0)  # the next answer lacking them removes them
        yield World(tmp, portal, config, day1, after_day1, after_day2, content(confirmed))


@pytest.mark.slow
def test_first_sync_killed_while_creating_the_schema(world: World) -> None:
    # alembic creates every table in one transaction: a kill leaves no table at all
    db = world.tmp / "fresh.db"
    sync_killed_at_statement(world.config, db, DAY1, r"^CREATE TABLE", 5)
    assert rows(db, "SELECT name FROM sqlite_master") == []
    world.recovered(db, DAY1, world.after_day1, killed_runs=0)


@pytest.mark.slow
def test_sync_killed_while_the_portal_holds_its_first_page(world: World) -> None:
    db = copy_db(world.day1, world.tmp / "page1.db")
    world.portal.serve(DAY2)
    sync_killed_by_portal(world.config, db, DAY2, world.portal, 1)
    assert [r[1] for r in runs(db)] == ["ok", "running"]  # left running by the killed process ...
    assert content(db) == world.after_day1 | {"runs": content(db)["runs"]}
    world.recovered(db, DAY2, world.after_day2, killed_runs=1)  # ... marked interrupted by the next


KILLED_AT_STATEMENT = [
    # in the middle of the one write transaction: the first 500 of the 611 calls' last_seen updated
    # (one statement per 500 ids), frozen before the second
    pytest.param(r"^UPDATE call SET last_seen", 2, 1, id="mid-write"),
    # the whole write done, frozen before its COMMIT
    pytest.param(r"commit-after:^UPDATE fetch_run SET .*finished_at", 1, 1, id="before-commit"),
    # the write committed; killed while the verdicts of the changed calls are rewritten
    pytest.param(r"^(INSERT INTO|UPDATE) verdict", 1, 0, id="while-scoring"),
]


@pytest.mark.slow
@pytest.mark.parametrize("pattern,count,killed_runs", KILLED_AT_STATEMENT)
def test_sync_killed_at_a_statement(world: World, pattern: str, count: int, killed_runs: int) -> None:
    db = copy_db(world.day1, world.tmp / "killed.db")
    world.portal.serve(DAY2)
    frozen = sync_killed_at_statement(world.config, db, DAY2, pattern, count)
    assert frozen.startswith("frozen before: ")
    check_integrity(db)
    if killed_runs:  # nothing of the run is visible
        assert content(db) == world.after_day1 | {"runs": content(db)["runs"]}
        assert [r[1] for r in runs(db)] == ["ok", "running"]
    else:
        assert content(db)["calls"] == world.after_day2["calls"]
    # a committed write makes the next sync the second answer lacking the 7 calls
    expected = world.after_day2 if killed_runs else world.after_confirmed
    world.recovered(db, DAY2, expected, killed_runs=killed_runs)
