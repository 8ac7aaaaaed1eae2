"""Shared fixtures: recorded samples, a real SQLite file, a real PostgreSQL database, a local HTTP
server, and a CLI runner bound to them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.core import clock
from pipeline.core.db import open_database
from tests.localserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("FUNDRADAR_SHARED", ROOT.parent / "shared"))
SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", SHARED / "samples"))
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SHARED / "eval"))
PG_ADMIN_URL = os.environ.get("FUNDRADAR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The config cache of module and session fixtures, outside the checkout (see _unfrozen_clock)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUNDRADAR_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def _unfrozen_clock(monkeypatch: pytest.MonkeyPatch,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test starts with the real clock, no fundradar variables from the developer's shell, and an
    empty config cache of its own: nothing is written into the checkout's data/, and no test reads
    entries an earlier one left (the cached and the parsed path would depend on the order)."""
    for name in ("FUNDRADAR_NOW", "FUNDRADAR_DB", "FUNDRADAR_CONFIG", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL",
                 "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # not under tmp_path, where tests count what a command left
    monkeypatch.setenv("FUNDRADAR_CACHE", str(tmp_path_factory.mktemp("cache")))
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"recorded samples not found at {SAMPLES}; set FUNDRADAR_SAMPLES")
    return SAMPLES


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL.is_dir():
        pytest.fail(f"relevance benchmark not found at {EVAL}; set FUNDRADAR_EVAL")
    return EVAL


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A real SQLite file, new for each test."""
    return f"sqlite:///{tmp_path / 'fundradar.db'}"


@pytest.fixture
def engine(db_url: str):
    engine = open_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the real PostgreSQL server, dropped afterwards."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"fundradar_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def cli(db_url: str):
    """Run the fundradar CLI in-process against the test's SQLite file: cli("calls", "list")."""
    from pipeline.cli.main import app

    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        return runner.invoke(app, ["--db", db_url, *args], env=env, input=input, catch_exceptions=False)

    return invoke


# the environment's proxy variables unset, for a test that sets its own (watcher.proxies)
@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch
