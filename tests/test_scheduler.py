"""The scheduler on a real SQLite file (and PostgreSQL): runs happen, never overlap, survive failures;
job locks across connections and processes; a clean stop of `fundradar serve` on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from pipeline.core.config import load_config
from pipeline.core.db import create_db_engine, open_database
from pipeline.core.locks import JobLock
from pipeline.core.models import FetchRun
from pipeline.serve import Service
from pipeline.sources_status import source_status
from tests.localserver import LocalServer, Reply

ROOT = Path(__file__).resolve().parent.parent
FEED = (Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_bytes()


def write_config(path: Path, server: LocalServer, every: str = "1s") -> Path:
    path.write_text(textwrap.dedent(f"""\
        name: test-cluster
        organisation: Test Cluster
        focus_areas:
          energy:
            label: Energy
            keywords: [offshore wind]
        sources:
          good_feed:
            type: feed
            url: {server.url('/feed/')}
            schedule: {{every: {every}, jitter_seconds: 0}}
          garbage:
            type: feed
            url: {server.url('/garbage')}
            schedule: {{every: {every}, jitter_seconds: 0}}
          broken:
            type: ical
            url: {server.url('/500')}
            schedule: {{every: {every}, jitter_seconds: 0}}
          slow:
            type: feed
            url: {server.url('/slow')}
            timeout_seconds: 0.3
            schedule: {{every: {every}, jitter_seconds: 0}}
        """), encoding="utf-8")
    return path


class Concurrency:
    """Counts requests in flight per path; a slow good feed makes overlaps visible."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.max: dict[str, int] = {}

    def wrap(self, path: str, seconds: float, reply: Reply):
        def handler(_request):
            with self.lock:
                self.now[path] = self.now.get(path, 0) + 1
                self.max[path] = max(self.max.get(path, 0), self.now[path])
            time.sleep(seconds)
            with self.lock:
                self.now[path] -= 1
            return reply
        return handler


def serve_routes(server: LocalServer) -> Concurrency:
    seen = Concurrency()
    rss = Reply(200, FEED, {"Content-Type": "application/rss+xml"})
    server.route("GET", "/feed/", seen.wrap("/feed/", 0.8, rss))
    server.route("GET", "/garbage", lambda r: Reply(200, "<html><body>Oops</body></html>",
                                                    {"Content-Type": "text/html"}))
    server.route("GET", "/500", lambda r: Reply(500, "Internal Server Error"))
    # far past the source's 0.3 s timeout, so a loaded machine's late timer still fires first
    server.route("GET", "/slow", seen.wrap("/slow", 10.0, Reply(200, FEED)))
    return seen


def runs(engine, source: str) -> list[FetchRun]:
    with Session(engine) as session:
        return list(session.exec(select(FetchRun).where(FetchRun.source == source)).all())


@pytest.mark.slow
def test_two_schedulers_run_sources_without_overlap_and_survive_failures(
        tmp_path: Path, server: LocalServer, engine) -> None:
    seen = serve_routes(server)
    config = load_config(write_config(tmp_path / "strategy.yaml", server))
    first = Service(engine, config, digests=False)
    second = Service(engine, config, digests=False)
    first.start()
    second.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len([r for r in runs(engine, "good_feed")
                                                   if r.outcome == "ok"]) < 3:
            time.sleep(0.2)
    finally:
        first.stop()
        second.stop()
    good = runs(engine, "good_feed")
    assert len([r for r in good if r.outcome == "ok"]) >= 3
    assert seen.max["/feed/"] == 1  # two schedulers, one source: never two fetches at once
    intervals = sorted((r.started_at, r.finished_at) for r in good if r.finished_at)
    assert all(later[0] >= earlier[1] for earlier, later in zip(intervals, intervals[1:], strict=False))
    for name, expected in (("garbage", "not an RSS or Atom feed"), ("broken", "HTTP 500"),
                           ("slow", "timed out")):
        failed = runs(engine, name)
        assert failed and all(r.outcome == "failed" for r in failed), name
        assert expected in (failed[-1].error or ""), (name, failed[-1].error)
    status = {row["source"]: row for row in source_status(engine, list(config.strategy.sources))}
    assert status["good_feed"]["consecutive_failures"] == 0
    assert status["good_feed"]["seen"] == 2
    assert status["broken"]["consecutive_failures"] >= 1
    assert "HTTP 500" in status["broken"]["last_error"]


def test_job_lock_of_a_sqlite_uri_lies_beside_its_file(tmp_path: Path, monkeypatch) -> None:
    """``sqlite:///file:PATH?mode=ro&uri=true`` locks beside PATH, not in a folder named "file:" under
    the working directory (it once did, and such folders got committed)."""
    open_database(f"sqlite:///{tmp_path / 'x.db'}").dispose()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lock = JobLock(create_db_engine(f"sqlite:///file:{tmp_path / 'x.db'}?mode=ro&uri=true"), "run:eu_ft")
    assert lock.acquire() is True
    lock.release()
    assert (tmp_path / "x.db.locks" / "run_eu_ft.lock").exists()
    assert list(elsewhere.iterdir()) == []


def test_job_lock_excludes_a_second_holder_sqlite(engine) -> None:
    first, second = JobLock(engine, "source:x"), JobLock(engine, "source:x")
    assert first.acquire() is True
    assert second.acquire() is False
    assert JobLock(engine, "source:y").acquire() is True  # other jobs are not blocked
    first.release()
    assert second.acquire() is True
    second.release()


HOLD = """
import sys, time
from pipeline.core.db import create_db_engine
from pipeline.core.locks import JobLock
lock = JobLock(create_db_engine(sys.argv[1]), "source:shared")
print("held" if lock.acquire() else "busy", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(url: str, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url, str(seconds)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_job_lock_across_processes_sqlite(db_url: str, engine) -> None:
    proc = _holder(db_url, 30)
    try:
        assert JobLock(engine, "source:shared").acquire() is False
    finally:
        proc.kill()  # a killed holder leaves no stale lock
        proc.wait()
    lock = JobLock(engine, "source:shared")
    assert lock.acquire() is True
    lock.release()


@pytest.mark.postgres
def test_advisory_lock_across_connections_and_processes(pg_url: str) -> None:
    engine = create_db_engine(pg_url)
    try:
        first, second = JobLock(engine, "source:shared"), JobLock(engine, "source:shared")
        assert first.acquire() is True
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
        second.release()
        proc = _holder(pg_url, 30)
        try:
            assert JobLock(engine, "source:shared").acquire() is False
        finally:
            proc.kill()
            proc.wait()
        deadline = time.monotonic() + 10
        lock = JobLock(engine, "source:shared")
        while not lock.acquire() and time.monotonic() < deadline:  # the server notices the lost session
            time.sleep(0.1)
        assert lock.held
        lock.release()
    finally:
        engine.dispose()


def _serve(db: str, config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDRADAR_") or k == "FUNDRADAR_CACHE"}
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "--db", db, "--config", str(config),
                             "serve", "--no-digests", "--jitter", "0"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_runs(engine, source: str, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len([r for r in runs(engine, source) if r.outcome == "ok"]) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} runs of {source}")


@pytest.mark.slow
def test_serve_stops_cleanly_on_sigterm(tmp_path: Path, server: LocalServer, db_url: str, engine) -> None:
    serve_routes(server)
    proc = _serve(db_url, write_config(tmp_path / "strategy.yaml", server))
    try:
        _wait_for_runs(engine, "good_feed", 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == ""
    assert "jobs scheduled" in err and err.rstrip().endswith("stopped")
    assert all(r.outcome != "running" for r in runs(engine, "good_feed"))  # no half-finished run


@pytest.mark.slow
@pytest.mark.postgres
def test_two_serve_processes_on_postgres_never_overlap(tmp_path: Path, server: LocalServer,
                                                       pg_url: str) -> None:
    seen = serve_routes(server)
    engine = open_database(pg_url)
    config = write_config(tmp_path / "strategy.yaml", server)
    procs = [_serve(pg_url, config) for _ in range(2)]
    try:
        _wait_for_runs(engine, "good_feed", 4, seconds=90)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        results = [proc.communicate(timeout=30) for proc in procs]
        engine.dispose()
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert seen.max["/feed/"] == 1  # never two fetches at once (without the lock there are)
    good = runs(engine, "good_feed")  # nor two runs, write included: started..finished never overlap
    engine.dispose()
    intervals = sorted((r.started_at, r.finished_at) for r in good if r.finished_at)
    assert len(intervals) >= 4
    assert all(later[0] >= earlier[1] for earlier, later in zip(intervals, intervals[1:], strict=False))


def test_serve_jobs_come_from_the_config(tmp_path: Path, server: LocalServer, engine) -> None:
    config = load_config(write_config(tmp_path / "strategy.yaml", server, every="6h"))
    service = Service(engine, config)
    assert [job_id for job_id, _, _ in service.planned_jobs()] == [
        "source:good_feed", "source:garbage", "source:broken", "source:slow"]
    example = load_config(ROOT / "config" / "strategy.example.yaml")
    planned = {job_id: trigger for job_id, trigger, _ in Service(engine, example).planned_jobs()}
    assert "digest:#eu-fundraising" in planned and "alerts" in planned
    assert str(planned["source:eu_ft"].timezone) == "Europe/Copenhagen"
    assert planned["source:eu_ft"].jitter == 300
    _ = httpx  # the services build real httpx clients
