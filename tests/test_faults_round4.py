"""Source faults met for real, through the real client against the local server into a real SQLite
file: a source slow on every page past its run's time limit, retries that would pass it, host names that
are none or do not resolve, https handshakes and certificates that fail, a refused port, a public
address redirecting into the machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline.core.config import FeedSource, HtmlListSource
from pipeline.core.db import open_database
from pipeline.core.models import FetchRun
from tests.conftest import FIXTURES, ROOT
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter
from watcher.sources.html_list import HtmlListAdapter

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
    assert result.error == (f"HTTP 503 from {server.url('/feed')} (not retried: its wait of 60 s would pass "
                            "the run's limit of 3 s, max_run_minutes); the source is failing, try again "
                            "later")
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


def test_headers_too_long_for_the_client_are_named_as_such(server: LocalServer, engine) -> None:
    # it read "cannot fetch URL (RemoteProtocolError: Receive buffer too long); check the URL and the network"
    server.route("GET", "/feed", lambda r: Reply(200, b"<rss/>", {"X-Filler": "a" * 200_000}))
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.error == (f"cannot fetch {server.url('/feed')}: its status line and headers are longer "
                            "than any web page's (more than the client reads) (after 3 retries); the site "
                            "answers wrongly, try again later or report it to the site")
