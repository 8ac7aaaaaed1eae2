"""`fundradar serve` picks up an edited config without a restart: a valid edit is applied (jobs
rescheduled, added, removed; affected scores recomputed), an invalid one is reported once and the last
good config stays in force. In-process Services and a real `fundradar serve` process, against a local
feed server and a real SQLite file."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline.core.config import load_config
from pipeline.core.models import Call, Score, ScoringModel, Verdict
from pipeline.serve import Service
from tests.localserver import LocalServer, Reply

ROOT = Path(__file__).resolve().parent.parent
FEED = (Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_bytes()
STRATEGIES = Path(__file__).parent / "fixtures" / "strategies"


def strategy_text(server: LocalServer, keywords: str = "[offshore wind]", every: str = "1h") -> str:
    return textwrap.dedent(f"""\
        # a cluster strategy for the reload tests
        name: test-cluster
        organisation: Test Cluster
        focus_areas:
          energy:
            label: Energy
            keywords: {keywords}
        sources:
          good_feed:
            type: feed
            url: {server.url('/feed/')}
            schedule: {{every: {every}, jitter_seconds: 0}}
        """)


@pytest.fixture
def feed(server: LocalServer) -> LocalServer:
    server.route("GET", "/feed/", lambda r: Reply(200, FEED, {"Content-Type": "application/rss+xml"}))
    return server


def save(path: Path, text: str) -> None:
    """Write ``text`` aside and rename it over ``path``, as an editor's safe save does: a reload
    check reading the file in place could see it empty or half-written between the truncate and the
    write, and report that passing state as a second invalid edit (or apply half a config)."""
    aside = path.with_name(f".{path.name}.tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def wait_for(condition: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def scores(engine) -> dict[tuple[str, int, str], float]:
    with Session(engine) as session:
        return {(s.strategy, s.call_id, s.focus_area): s.score for s in session.exec(select(Score))}


def scored(engine) -> set[str]:
    """The strategies that scored the calls (each call's Verdict names the model; Score rows exist only
    for scores above the floor)."""
    with Session(engine) as session:
        return set(session.exec(select(Verdict.strategy).where(Verdict.model_version != "")))


def areas(engine, strategy: str) -> set[str]:
    with Session(engine) as session:
        row = session.exec(select(ScoringModel).where(ScoringModel.strategy == strategy)).first()
        return set(row.queries) if row else set()


def model_version(engine, strategy: str) -> str | None:
    with Session(engine) as session:
        row = session.exec(select(ScoringModel).where(ScoringModel.strategy == strategy)).first()
        return row.version if row else None


def interval(service: Service, job: str) -> float:
    found = service.scheduler.get_job(job)
    assert found is not None, job
    return found.trigger.interval.total_seconds()


def test_invalid_edit_keeps_the_config_and_a_valid_one_is_applied(
        tmp_path: Path, feed: LocalServer, engine, caplog) -> None:
    caplog.set_level(logging.INFO, logger="fundradar.serve")
    path = tmp_path / "strategy.yaml"
    path.write_text(strategy_text(feed), encoding="utf-8")
    service = Service(engine, load_config(path), digests=False, reload_seconds=0.2)
    service.start()
    try:
        assert service.run_source("good_feed") is not None  # two calls, scored: nothing about platforms
        before = scores(engine)
        assert before == {}  # every score below the floor (classifiers.scoring), so none stored
        version = model_version(engine, "test-cluster")
        good = service.config

        # invalid: an empty keyword list -> one line, the running config and jobs unchanged
        save(path, strategy_text(feed, keywords="[]", every="2h"))
        wait_for(lambda: any(r.levelno >= logging.ERROR for r in caplog.records))  # once it stayed so
        time.sleep(1)  # several more checks: reported once only
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [f"{path}:7: focus_areas.energy.keywords: focus area needs at least one keyword; "
                          "keeping the last good config"]
        assert service.config is good and interval(service, "source:good_feed") == 3600
        assert scores(engine) == before

        # a different invalid edit is news again
        save(path, strategy_text(feed, keywords="[offshore wind", every="2h"))
        wait_for(lambda: len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 2)
        assert "invalid YAML" in caplog.records[-1].getMessage()

        # valid: a new keyword and a new schedule, applied without a restart and the scores recomputed
        save(path, strategy_text(feed, keywords="[offshore wind, project platforms]", every="2h"))
        wait_for(lambda: service.config is not good and service.watch.last_error is None)
        wait_for(lambda: model_version(engine, "test-cluster") != version)
        keywords = service.config.strategy.focus_areas["energy"].keywords
        assert keywords == ["offshore wind", "project platforms"]
        assert interval(service, "source:good_feed") == 7200
        after = scores(engine)
        assert after  # the new keyword lifts a call above the floor
        best = max(after, key=lambda key: after[key])
        with Session(engine) as session:
            assert session.get(Call, best[1]).title == "Project platforms: the call is open for applications"
        applied = [r.getMessage() for r in caplog.records if "applied" in r.getMessage()]
        assert applied == [f"config {path} changed and is valid: applied (rescheduled source:good_feed)"]
    finally:
        service.stop()


def test_a_strategy_file_added_to_the_folder_brings_its_jobs_and_scores(
        tmp_path: Path, feed: LocalServer, engine) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "a_test.yaml").write_text(strategy_text(feed), encoding="utf-8")
    service = Service(engine, load_config(folder), reload_seconds=0.2)
    service.start()
    try:
        service.run_source("good_feed")
        assert scored(engine) == {"test-cluster"}
        assert sorted(j.id for j in service.scheduler.get_jobs(jobstore="default")) == ["source:good_feed"]
        greentech = (STRATEGIES / "greentech.yaml").read_text()
        save(folder / "greentech.yaml", greentech.replace("    programmes:\n      Horizon Europe: "
                                                          "\"43108390\"\n      LIFE: \"43252405\"\n",
                                                          "    enabled: false\n"))
        wait_for(lambda: "greentech-dk" in scored(engine))
        assert sorted(j.id for j in service.scheduler.get_jobs(jobstore="default")) == [
            "alerts:greentech-dk", "digest:greentech-dk:#greentech-funding", "source:good_feed"]
        assert areas(engine, "greentech-dk") == {"offshore_energy", "green_maritime"}
        (folder / "greentech.yaml").unlink()
        wait_for(lambda: len(service.config.strategies) == 1)
        assert sorted(j.id for j in service.scheduler.get_jobs(jobstore="default")) == ["source:good_feed"]
    finally:
        service.stop()


class Serve:
    """A real `fundradar serve` process; its stderr lines are collected as they come."""

    def __init__(self, db: str, config: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FUNDRADAR_") or k == "FUNDRADAR_CACHE"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli.main", "--db", db, "--config", str(config), "serve",
             "--no-digests", "--jitter", "0", "--reload-every", "0.2"],
            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        # not communicate(): it would read stderr too, racing the reader thread for the last lines
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


@pytest.mark.slow
def test_fundradar_serve_reports_a_bad_edit_once_and_applies_the_fix(
        tmp_path: Path, feed: LocalServer, cli, db_url: str, engine) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(strategy_text(feed), encoding="utf-8")
    assert cli("--config", str(path), "sync").exit_code == 0  # two calls stored and scored
    version = model_version(engine, "test-cluster")
    serve = Serve(db_url, path)
    try:
        wait_for(lambda: any("jobs scheduled" in line for line in serve.lines))
        broken = path.read_text().replace("    label: Energy\n", "    label: Energy\n    keywrds: [x]\n")
        save(path, broken)
        wait_for(lambda: any("keeping the last good config" in line for line in serve.lines))
        time.sleep(0.5)
        save(path, broken)  # the same bad content written again: no new report
        time.sleep(0.5)
        assert model_version(engine, "test-cluster") == version
        save(path, strategy_text(feed, keywords="[offshore wind, project platforms]"))
        wait_for(lambda: model_version(engine, "test-cluster") != version)
        wait_for(lambda: any(v > 0 for v in scores(engine).values()))
    finally:
        out = serve.stop()
    assert serve.proc.returncode == 0, serve.lines
    assert out == ""
    bad = [line for line in serve.lines if "keeping the last good config" in line]
    assert bad == [f"ERROR fundradar.serve: {path}:7: focus_areas.energy.keywrds: unknown key 'keywrds'; "
                   "did you mean 'keywords'?; keeping the last good config"]
    assert f"INFO fundradar.serve: config {path} changed and is valid: applied (no schedule changed)" \
        in serve.lines
    assert serve.lines[-1] == "stopped"


def test_alerts_and_digest_jobs_first_bring_clock_due_verdicts_up_to_date(engine) -> None:
    """A verdict that was true when scored (the deadline 7 weeks away) is rechecked when the clock has
    made it false, before the alerts job reads it: no alert for a call the rules now reject."""
    from classifiers.scoring import score_pending
    from pipeline.core.db import session_scope
    from tests.slack_data import NOW

    config = load_config(STRATEGIES / "greentech.yaml")
    with session_scope(engine) as session:
        due = NOW + timedelta(weeks=7)
        session.add(Call(source="eu_ft", external_id="R1", programme="Horizon Europe", title="Offshore wind",
                         text="Floating offshore wind turbines and energy islands.", content_hash="h1",
                         deadline=due, deadlines=[{"at": due.isoformat(), "time_assumed": False}],
                         first_seen=NOW, last_seen=NOW))
    score_pending(engine, config, NOW)

    def verdict() -> tuple[bool, str]:
        with Session(engine) as session:
            found = session.exec(select(Verdict)).one()
            return found.passed, next(o["reason"] for o in found.outcomes if o["rule"] == "deadline")

    assert verdict() == (True, f"deadline {due.date()} is at least 6 weeks away")
    later = NOW + timedelta(weeks=2)
    service = Service(engine, config, now=lambda: later, reload_seconds=0)
    service.start()
    try:
        service.run("alerts", "", "")
        assert verdict() == (False, f"deadline {due.date()} is less than 6 weeks away")
    finally:
        service.stop()
