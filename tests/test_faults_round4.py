"""Faults met for real against the real servers: a PostgreSQL role without the rights fundradar needs
(through the real CLI); a source slow on every page, past its run's time limit (the local server, the
real client, a real SQLite file)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.config import FeedSource, HtmlListSource
from pipeline.core.db import open_database
from pipeline.core.models import FetchRun
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests import slack_clicks as clicks
from tests.conftest import FIXTURES, PG_ADMIN_URL, ROOT
from tests.localserver import LocalServer, Reply, Request
from tests.slack_data import NOW as SLACK_NOW
from tests.slack_data import TOKEN, add_call, run_alerts
from tests.slack_server import SlackServer
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter
from watcher.sources.html_list import HtmlListAdapter

slack = clicks.slack  # the local Slack with Socket Mode (fixture)
runner = clicks.runner  # fundradar's Socket Mode connection to it (fixture)
ADMIN = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_role(pg_url: str) -> Iterator[tuple[str, str]]:
    """A login role of the server that owns nothing (PostgreSQL 15 and later give such a role no CREATE
    on schema public); its name and pg_url as that role. Dropped afterwards."""
    role = f"fundradar_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    database = pg_url.rsplit("/", 1)[1]
    try:
        yield role, pg_url.replace("postgres@", f"{role}@", 1)
    finally:
        with psycopg.connect(ADMIN.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_role_that_may_not_create_tables_is_one_line_naming_the_grant(pg_role) -> None:
    role, url = pg_role
    result = _cli("--db", url, "calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Error: {url}: role {role} may not create or change fundradar's tables (permission denied for "
        "schema public); nothing was changed: run `fundradar db upgrade` once as the database's owner, or "
        f"GRANT CREATE ON SCHEMA public TO {role}\n")


def test_a_role_that_may_only_read_is_one_line_when_it_writes(pg_url: str, pg_role) -> None:
    role, url = pg_role
    open_database(pg_url).dispose()  # the schema, made by the database's owner
    with psycopg.connect(ADMIN.rsplit("/", 1)[0] + "/" + pg_url.rsplit("/", 1)[1], autocommit=True) as conn:
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    assert _cli("--db", url, "calls", "list").exit_code == 0  # reading is allowed
    result = _cli("--db", url, "ideas", "add", "Hydrogen ferries")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: {url}: role {role} may not write fundradar's tables "
                                    "(permission denied for table "), result.stderr
    assert result.stderr.endswith(
        f"); nothing of this write was stored: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
        f"public TO {role} and GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}, or connect as the "
        "tables' owner\n"), result.stderr


# A source whose every page answers slowly, each within its own time limit, held `fundradar sync` (the
# sources run one after the other) for pages x 3 x timeout_seconds: a funder's site of 30 call pages
# hanging for its 90 s each kept the sources after it waiting for 45 minutes.

LISTING = FIXTURES / "html_list" / "innovationsfonden_list.html"
CALL_PAGE = FIXTURES / "html_list" / "innovationsfonden_grand_solutions.html"
HTML = {"Content-Type": "text/html; charset=utf-8"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _slow_funder(server: LocalServer, released: threading.Event) -> None:
    """The listing and its first call page answer at once; the second call page hangs (until the test
    releases it, at most a minute: far past the run limit the test sets); the third answers at once."""
    server.route("GET", "/da/programmer", lambda r: Reply(200, LISTING.read_bytes(), HTML))
    server.route("GET", "/da/p/grand-solutions/grand-solutions-2027",
                 lambda r: Reply(200, CALL_PAGE.read_bytes(), HTML))

    def hanging(_request: Request) -> Reply:
        released.wait(60)
        return Reply(200, CALL_PAGE.read_bytes(), HTML)

    server.route("GET", "/da/programmer/innobooster", hanging)
    server.route("GET", "/da/programmer/eurostars", lambda r: Reply(200, CALL_PAGE.read_bytes(), HTML))


def _funder_cfg(url: str, **extra: object) -> HtmlListSource:
    return HtmlListSource(type="html_list", url=url, programme="Innovationsfonden", item=".views-row",
                          title="h3", link="h3 a[href]", detail=True, timeout_seconds=60,
                          text=".teaser__dates, .teaser__amount, .teaser__text", **extra)


def test_a_source_past_its_run_limit_stops_reading_and_keeps_what_it_read(server: LocalServer,
                                                                           engine) -> None:
    released = threading.Event()
    _slow_funder(server, released)
    # 3 s for the whole run: the hanging page's own limit is 180 s (3 x timeout_seconds)
    adapter = HtmlListAdapter("ifd", _funder_cfg(server.url("/da/programmer"), max_run_minutes=0.05))
    try:
        with make_client(timeout=60) as client:
            result = run_source(engine, adapter, client, NOW)
    finally:
        released.set()
    assert (result.outcome, result.complete, result.new) == ("ok", False, 3)
    assert "max_run_minutes" in (result.error or ""), result.error
    assert f"{server.url('/da/programmer/innobooster')} was still arriving when the run of the source " \
           "reached its limit of 3 s (max_run_minutes)" in (result.error or ""), result.error
    # the page after it is not asked for at all: the run's time is up
    assert "/da/programmer/eurostars" not in [r.path for r in server.requests]
    with Session(engine) as session:
        assert session.exec(select(FetchRun)).one().outcome == "ok"


def test_a_retry_wait_past_the_run_limit_is_not_waited(server: LocalServer, engine) -> None:
    # a 503 storm asking for a minute each time: the run, limited to 3 s, does not sleep 3 minutes
    server.route("GET", "/feed", lambda r: Reply(503, b"busy", {"Retry-After": "60"}))
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed"), max_run_minutes=0.05))
    with make_client(timeout=60) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == f"HTTP 503 from {server.url('/feed')}; the source is failing, try again later"
    assert [r.path for r in server.requests] == ["/feed"]


# A host name with an empty part or a part over 63 characters ("interreg-baltic..eu", a typo) passed
# `config check`, and every sync failed it with "unexpected UnicodeError: encoding with 'idna' codec
# failed (UnicodeError: label empty or too long)"; a redirect to one failed its source the same way.

def test_a_host_name_with_an_empty_part_is_refused_by_config_check(tmp_path: Path, cli) -> None:
    example = (ROOT / "config" / "strategy.example.yaml").read_text(encoding="utf-8")
    path = tmp_path / "strategy.yaml"
    path.write_text(example.replace("https://interreg-baltic.eu/feed/", "https://interreg-baltic..eu/feed/"),
                    encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}"), lines
    assert ("sources.interreg_bsr_news.url: the host name 'interreg-baltic..eu' is not one (a part between "
            "its dots is empty or longer than 63 characters); check the address") in lines[0], lines


def test_a_redirect_to_a_host_name_that_is_none_is_named_as_one(server: LocalServer, engine) -> None:
    broken = "http://www." + "x" * 64 + ".dk/feed"
    server.route("GET", "/feed", lambda r: Reply(301, headers={"Location": broken}))
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
    with make_client(timeout=10) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == (f"{server.url('/feed')} redirects to an address whose host name is not one (a "
                            "part between its dots is empty or longer than 63 characters); the site's "
                            "redirect is broken, try again later or report it to the site")


# A failed connection read as the C library's words: "cannot fetch URL (ConnectError: [SSL:
# WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)); check the URL and the network", and
# "(ConnectError: [Errno -2] Name or service not known)" for a host name no name server knows.

def test_an_https_address_of_a_plain_http_server_names_the_handshake(server: LocalServer, engine) -> None:
    server.route("GET", "/feed", lambda r: Reply(200, b"<rss/>"))
    url = server.url("/feed").replace("http://", "https://")
    adapter = FeedAdapter("news", FeedSource(type="feed", url=url))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == (f"cannot fetch {url}: the https (TLS) handshake with 127.0.0.1 failed (wrong "
                            "version number) (after 3 retries); the server may not speak https at this "
                            "address: check the URL (http:// or https://, its port), or try again later")


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and os.geteuid() == 0 and subprocess.run(
        ["unshare", "-m", "-n", "true"], capture_output=True).returncode == 0


def _sync_without_a_name_service(tmp_path: Path, isolation: str) -> tuple[subprocess.CompletedProcess, str]:
    """`fundradar sync` of a feed on funder.invalid in a mount and network namespace of its own: with
    ``files`` the name service knows only /etc/hosts (the name is unknown), with ``offline`` there is no
    network to reach a name server (it cannot be asked). Returns the process and the run's stored error."""
    config = tmp_path / "strategy.yaml"
    config.write_text(textwrap.dedent("""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {label: Energy, keywords: [offshore wind, hydrogen]}
        sources:
          funder_news: {type: feed, url: 'http://funder.invalid/feed'}
        """), encoding="utf-8")
    db = tmp_path / "fundradar.db"
    open_database(f"sqlite:///{db}").dispose()
    nsswitch = tmp_path / "nsswitch.conf"
    nsswitch.write_text("hosts: files\n", encoding="utf-8")
    fundradar = Path(sys.executable).with_name("fundradar")
    command = f"{fundradar} --db {db} --config {config} sync"
    if isolation == "files":
        command = f"mount --bind {nsswitch} /etc/nsswitch.conf && {command}"
    done = subprocess.run(["unshare", "-m", "-n", "sh", "-c", command], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    with Session(open_database(f"sqlite:///{db}")) as session:
        run = session.exec(select(FetchRun).where(FetchRun.source == "funder_news")).one()
    return done, run.error or ""


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare for a name service of its own")
@pytest.mark.parametrize("isolation, said", [
    ("files", "cannot fetch http://funder.invalid/feed: the host name funder.invalid is not known to the "
              "name service (DNS: Name or service not known) (after 3 retries); check the host name in the "
              "URL"),
    ("offline", "cannot fetch http://funder.invalid/feed: the host name funder.invalid could not be looked "
                "up (DNS: Temporary failure in name resolution) (after 3 retries); the network or its name "
                "server is down, try again later"),
])
def test_a_host_name_that_does_not_resolve_says_which_and_why(tmp_path: Path, isolation: str,
                                                              said: str) -> None:
    done, error = _sync_without_a_name_service(tmp_path, isolation)
    assert done.returncode == 1, done.stderr
    assert error == said
    assert said in done.stderr and "ConnectError" not in done.stderr, done.stderr


# Slack's refusals that no retry fixes read as the bare code ("Slack refused the message for
# #eu-fundraising: account_inactive"): a fundraiser's admin learnt neither what broke nor what to do.

@pytest.mark.parametrize("refusal, hint", [
    ("account_inactive", "the bot token belongs to a deactivated app, user or workspace; reinstall the "
                         "Slack app and set its new bot token"),
    ("token_revoked", "the bot token was revoked (the app uninstalled or its token rotated); reinstall the "
                      "Slack app and set its new bot token"),
    ("token_expired", "the bot token expired (token rotation is on for the app); set a fresh bot token"),
    ("is_archived", "the channel is archived; unarchive it, or name another channel in the strategy "
                    "config"),
    ("msg_too_long", "the message is longer than Slack takes; fundradar should have split it, report it "
                     "with the command that sent it"),
])
def test_a_slack_refusal_says_what_to_do(engine, refusal: str, hint: str) -> None:
    with SlackServer(token=TOKEN) as slack:
        assert run_alerts(engine, slack, SLACK_NOW) == []  # the baseline
        add_call(engine, 10, title="Hydrogen valleys", score=0.8,
                 first_seen=SLACK_NOW + timedelta(minutes=30))
        slack.fail_next("chat.postMessage", f"refuse:{refusal}")
        (outcome,) = run_alerts(engine, slack, SLACK_NOW + timedelta(hours=1))
    assert outcome.status == "failed"
    assert f"Slack refused the message for #eu-fundraising: {refusal}; {hint}" in (outcome.error or ""), \
        outcome.error


# A feed or calendar (read without a host limit) followed any redirect: a public funder's address
# redirecting to http://127.0.0.1:…/ or the cloud's 169.254.169.254 had fundradar read a service of its
# own machine or network and store what it said as calls.


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare for a host name of its own")
def test_a_public_address_redirecting_into_the_machine_is_not_followed(tmp_path: Path,
                                                                       server: LocalServer) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    inside = server.url("/internal")
    server.route("GET", "/feed", lambda r: Reply(302, headers={"Location": inside}))
    server.route("GET", "/internal", lambda r: Reply(200, b"secret", {"Content-Type": "text/plain"}))
    hosts = tmp_path / "hosts"  # funder.example is a public name here, answering at the local server
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 funder.example\n", encoding="utf-8")
    config = tmp_path / "strategy.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          funder_news: {{type: feed, url: 'http://funder.example:{port}/feed'}}
        """), encoding="utf-8")
    db = tmp_path / "fundradar.db"
    fundradar = Path(sys.executable).with_name("fundradar")
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {hosts} /etc/hosts && {fundradar} "
                           f"--db {db} --config {config} sync"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert [r.path for r in server.requests] == ["/feed"]  # the address inside was never asked
    with Session(open_database(f"sqlite:///{db}")) as session:
        run = session.exec(select(FetchRun).where(FetchRun.source == "funder_news")).one()
    assert run.error == (f"http://funder.example:{port}/feed redirects to {inside}, an address of this "
                         "machine or its private network; a redirect there from funder.example is not "
                         "followed (it would reach services that are not the source's), check the "
                         "source's URL")


def test_a_rate_limit_in_the_middle_of_a_digest_resumes_there_on_the_next_run(engine) -> None:
    from tests.test_slack_parts_in_order import _long_digest_config

    for n in range(1, 46):
        add_call(engine, n, title="Long title " * 60, score=0.5, days=20 + n)
    config = _long_digest_config()
    key = "digest:#eu-fundraising:20260824T0600:"
    with SlackServer(token=TOKEN) as slack:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        slack.fail_next("chat.postMessage", "none")  # the first part goes through
        slack.fail_next("chat.postMessage", "429", retry_after=3600)  # ratelimited, for an hour
        first = send_digests(engine, config, SLACK_NOW, channel="#eu-fundraising", environ=env,
                             pacer=Pacer(sleep=lambda s: None))
        assert [(o.key, o.status) for o in first] == [(f"{key}1/3", "sent"), (f"{key}2/3", "deferred"),
                                                       (f"{key}3/3", "deferred")]
        again = send_digests(engine, config, SLACK_NOW + timedelta(hours=1), channel="#eu-fundraising",
                             environ=env, pacer=Pacer(sleep=lambda s: None))
        assert [(o.key, o.status) for o in again] == [(f"{key}2/3", "sent"), (f"{key}3/3", "sent")]
        posted = slack.posted_to("#eu-fundraising")
    assert [m.raw["metadata"]["event_payload"]["key"] for m in posted] == [f"{key}{n}/3" for n in (1, 2, 3)]


def test_a_socket_dropped_while_a_click_is_handled_applies_it_once(engine, slack, runner) -> None:
    # the connection goes right after the ack; Slack, unsure the ack arrived, sends the envelope again
    # on the new connection
    call = add_call(engine, 1, score=0.7)
    posted = clicks.digest(engine, slack)
    envelope = slack.socket.send(clicks.click(posted, "relevant", call))
    slack.socket.wait_ack(envelope)
    slack.socket.drop()
    slack.socket.wait_connected(total=2)
    slack.socket.send(clicks.click(posted, "relevant", call), envelope_id=envelope, retry_attempt=1)
    assert runner.wait_handled(2)
    assert clicks.marks(engine) == [(call, None, "relevant", "mette")]
    assert len(slack.updates) == 1


@pytest.mark.parametrize("status, refusal, hint", [
    (404, "no_service", "the webhook was removed or its app disabled; make a new incoming webhook and set "
                        "SLACK_WEBHOOK_URL to it"),
    (403, "invalid_token", "the webhook URL is no longer valid; make a new incoming webhook and set "
                           "SLACK_WEBHOOK_URL to it"),
    (410, "channel_is_archived", "the webhook's channel is archived; unarchive it, or make a webhook for "
                                 "another channel"),
    (403, "action_prohibited", "a workspace admin restricted posting to the webhook's channel; ask them, or "
                               "make a webhook for another channel"),
])
def test_a_webhook_refusal_says_what_to_do(engine, status: int, refusal: str, hint: str) -> None:
    from pipeline.notify.delivery import WebhookSender, deliver, register
    from tests.test_slack_delivery import _message, _pacer

    with SlackServer(token=TOKEN) as slack:
        register(engine, [_message(1)], SLACK_NOW)
        slack.fail_next("webhook", f"refuse:{status}:{refusal}")
        (outcome,) = deliver(engine, WebhookSender(slack.webhook_url, timeout=5), ["alert"], SLACK_NOW,
                             pacer=_pacer())
    assert (outcome.status, outcome.error) == (
        "failed", f"the Slack webhook refused the message: HTTP {status} {refusal}; {hint}")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_a_self_signed_certificate_is_named_as_one(tmp_path: Path, engine) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with LocalServer(tls=(str(cert), str(key))) as server:
        server.route("GET", "/feed", lambda r: Reply(200, b"<rss/>"))
        adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
        with make_client(timeout=10, backoff=0.01) as client:
            result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == (f"cannot fetch {server.url('/feed')}: the https certificate of 127.0.0.1 is not "
                            "valid (self-signed certificate) (after 3 retries); the site's certificate is "
                            "broken (or a proxy on the way replaces it), report it to the site or the "
                            "network's administrator")


def test_a_damaged_database_file_is_one_line(db_url: str, cli) -> None:
    # a file whose header is SQLite's and whose pages are not (a disk fault, a copy taken mid-write)
    # ended every command in a traceback ending "database disk image is malformed"
    open_database(db_url).dispose()
    path = Path(db_url.removeprefix("sqlite:///"))
    with path.open("r+b") as file:
        file.seek(100)  # past the 100-byte header: the schema's own page and the pages after it
        file.write(b"\xff" * (path.stat().st_size - 100))
    damaged = path.read_bytes()
    result = cli("calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {db_url} is damaged (database disk image is malformed); nothing was "
                             "written: restore it from a backup, or recover what it holds with sqlite3 "
                             f"{path} .recover into a new file and point FUNDRADAR_DB / --db at that\n")
    assert path.read_bytes() == damaged


def test_a_postgresql_database_that_takes_no_writes_is_one_line(pg_url: str) -> None:
    # FUNDRADAR_DB pointed at a standby (a read replica) or at a database with default_transaction_read_only
    # on: every write ended in a traceback ending "cannot execute INSERT in a read-only transaction"
    open_database(pg_url).dispose()
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    assert _cli("--db", pg_url, "calls", "list").exit_code == 0  # reading is fine
    result = _cli("--db", pg_url, "ideas", "add", "Hydrogen ferries")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {pg_url} takes no writes (cannot execute INSERT in a read-only "
                             "transaction: a standby server, or default_transaction_read_only is on); "
                             "nothing was written, point FUNDRADAR_DB / --db at the primary server, or turn "
                             "default_transaction_read_only off for fundradar's database and role\n")


def test_a_search_path_naming_no_schema_is_one_line(pg_url: str) -> None:
    # a URL whose libpq options set a search_path to a schema not made yet (or mistyped) ended in a
    # traceback ending "no schema has been selected to create in"
    url = pg_url + "?options=-csearch_path%3Dfundradar"
    result = _cli("--db", url, "calls", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {url}: its search_path names no schema that exists (no schema has been "
                             "selected to create in); nothing was changed, create the schema (CREATE SCHEMA "
                             "…) or correct the search_path in the URL's options\n")


@pytest.mark.parametrize("command", [["calls", "list"], ["ideas", "add", "Hydrogen ferries"],
                                     ["db", "status"]])
def test_a_database_path_that_is_a_folder_says_so(tmp_path: Path, command: list[str]) -> None:
    # read commands said "no database at data; run fundradar sync first", and sync then "cannot open
    # sqlite:///data; check that its folder exists and is writable": neither said it was a folder
    folder = tmp_path / "data"
    folder.mkdir()
    result = _cli("--db", str(folder), *command)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: {folder} is a folder, not a database file; point FUNDRADAR_DB / --db "
                             f"at a file, such as {folder / 'fundradar.db'} (a new path creates one)\n")
    assert list(folder.iterdir()) == []


def test_a_refused_app_token_is_one_log_line_naming_it(engine, caplog: pytest.LogCaptureFixture) -> None:
    # serve logged slack_sdk's error as it is, over two lines ("The request to the Slack API failed. (url:
    # …)\nThe server responded with: {'ok': False, 'error': 'invalid_auth'}"), naming no token to check
    from pipeline.notify.interact import Interactions
    from pipeline.notify.socket import SocketRunner
    from tests.slack_data import loaded
    from tests.slack_socket import SocketSlack

    caplog.set_level(logging.INFO, logger="fundradar.slack")
    with SocketSlack(token=TOKEN) as slack_api:
        config = loaded()
        runner = SocketRunner("xapp-revoked", Interactions(engine, lambda: config.strategies, lambda s: None),
                              base_url=slack_api.api_url, backoff_start=0.05, backoff_max=0.2)
        failed = threading.Event()
        handler = logging.Handler()
        handler.emit = lambda record: failed.set() if "retrying in" in record.getMessage() else None
        logging.getLogger("fundradar.slack").addHandler(handler)
        runner.start()
        try:
            assert failed.wait(10)
        finally:
            runner.stop()
            logging.getLogger("fundradar.slack").removeHandler(handler)
    said = [r.getMessage() for r in caplog.records if r.name.startswith("fundradar.slack")]
    first = next(line for line in said if "retrying in" in line)
    assert first == ("Slack Socket Mode connection failed (attempt 1: Slack refused the app-level token "
                     "(invalid_auth) in SLACK_APP_TOKEN; set it to the app's xapp-… token with "
                     "connections:write); retrying in 0 s")
    assert [line for line in said if "\n" in line] == []


@pytest.mark.parametrize("command", [["calls", "list"], ["ideas", "add", "Hydrogen ferries"]])
def test_a_server_out_of_connections_says_so_not_to_check_the_url(pg_role, command: list[str]) -> None:
    # a hosted server's per-role limit (serve's jobs hold up to 50 connections) read "…FATAL: too many
    # connections for role "x"; check FUNDRADAR_DB or --db", though the URL was right
    role, url = pg_role
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT 0')
    result = _cli("--db", url, *command)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert f'too many connections for role "{role}"' in result.stderr, result.stderr
    assert result.stderr.endswith(
        "; the server's connection limit is reached (other programs' sessions, or serve's jobs): run the "
        "command again when some have ended, or raise the limit (max_connections, the role's or the "
        "database's CONNECTION LIMIT)\n"), result.stderr


def test_a_refused_connection_names_the_port_nothing_answers_on(engine) -> None:
    # it read "cannot fetch URL (ConnectError: [Errno 111] Connection refused); check the URL and the
    # network", without the retries made
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    adapter = FeedAdapter("news", FeedSource(type="feed", url=url))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.error == (f"cannot fetch {url}: 127.0.0.1 refused the connection on port {port} (nothing "
                            "answers there) (after 3 retries); the site is down, or check the URL's port, "
                            "and try again later")
