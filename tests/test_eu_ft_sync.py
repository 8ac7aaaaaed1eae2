"""Syncing the recorded SEDIA searches, served by the local HTTP server through the real client:
the real day's change 2026-08-21 → 2026-08-22, idempotent re-syncs, the longer range from 2026-06-23,
failures mid-run, and ``fundradar sync``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from pipeline.core.config import EuFtSource
from pipeline.core.models import Call, CallChange, FetchRun
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.replay import SediaSearchRecording
from watcher.runner import run_source
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter

SEARCH_PATH = "/search-api/prod/rest/search"
REMOVED = {"50143935TOPICSen", "50144225TOPICSen", "50143814TOPICSen", "50144312TOPICSen",
           "50143989TOPICSen", "50143773TOPICSen", "50144033TOPICSen", "51188707TOPICSen"}


def as_of(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00").astimezone(UTC)


class Portal:
    """The local server answering the search API from one recording at a time, with optional faults."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        self.server, self.samples = server, samples
        self.recording: SediaSearchRecording | None = None
        self.day = ""
        self.fault: dict[int, str] = {}  # page number -> "500" | "slow" | "junk" | "429" | "empty"
        self.calls: dict[int, int] = {}
        self.released = threading.Event()  # a "slow" page answers only once the test is over
        server.route("POST", SEARCH_PATH, self.handle)

    def serve(self, day: str) -> Portal:
        self.recording = SediaSearchRecording(self.samples / "eu_ft" / f"search_{day}")
        self.day = day
        return self

    def handle(self, request: Request) -> Reply:
        assert self.recording is not None
        params = {k: v[0] for k, v in request.query.items()}
        number = int(params["pageNumber"])
        self.calls[number] = self.calls.get(number, 0) + 1
        fault = self.fault.get(number)
        if fault == "500":
            return Reply(500, "Internal Server Error")
        if fault == "slow":  # past any timeout, however late the client's timer fires
            self.released.wait(60)
        if fault == "junk":
            return Reply(200, '{"apiVersion": "2.151", "results": [', {"Content-Type": "application/json"})
        if fault == "429" and self.calls[number] == 1:
            return Reply(429, "Too Many Requests", {"Retry-After": "1"})
        status, body = self.recording.answer(request.headers["content-type"], request.body, params)
        if fault == "empty":  # the result set shrank while the run read it
            body = json.dumps({**json.loads(body), "results": []}).encode()
        return Reply(status, body, {"Content-Type": "application/json;charset=UTF-8"})


@pytest.fixture
def portal(server: LocalServer, samples: Path) -> Iterator[Portal]:
    portal = Portal(server, samples)
    yield portal
    portal.released.set()


def adapter(server: LocalServer, programmes: dict[str, str] | None = None,
            timeout: float = 10) -> EuFtAdapter:
    cfg = EuFtSource(type="eu_ft", url=server.url(SEARCH_PATH), programmes=programmes or {},
                     timeout_seconds=timeout)
    return EuFtAdapter("eu_ft", cfg, BuildContext())


def sync(engine, server: LocalServer, day: str, **kw):
    with make_client(retries=kw.pop("retries", 2), backoff=0.01) as client:
        return run_source(engine, adapter(server, **kw), client, as_of(day))


def table(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text("SELECT * FROM call ORDER BY id"))]


def changes(engine) -> list[CallChange]:
    with Session(engine) as session:
        return list(session.exec(select(CallChange).order_by(CallChange.id)))


def test_real_day_change_0821_to_0822(engine, server, portal) -> None:
    first = sync(engine, server, portal.serve("2026-08-21").day)
    assert (first.outcome, first.complete, first.seen, first.new, first.closed) == ("ok", True, 731, 731, 0)
    assert max(portal.calls) == 8  # one query, eight pages of 100
    second = sync(engine, server, portal.serve("2026-08-22").day)
    assert (second.outcome, second.complete, second.seen, second.new, second.changed, second.closed,
            second.missing) == ("ok", True, 723, 0, 2, 0, 8)  # one answer lacking them only marks them
    third = sync(engine, server, "2026-08-22")  # the next complete answer lacking them removes them
    assert (third.outcome, third.seen, third.changed, third.closed, third.missing) == ("ok", 723, 0, 8, 0)
    with Session(engine) as session:
        gone = session.exec(select(Call).where(Call.status.in_(["removed", "closed"]))).all()
        assert {c.external_id for c in gone} == REMOVED
        assert {c.status for c in gone} == {"removed"}  # all still had future deadlines
        by_ref = {c.id: c.external_id for c in session.exec(select(Call))}
        shared_topic = Call.topic_id == "HORIZON-EIE-2021-INNOVSMES-01-01"
        innovsmes = session.exec(select(Call).where(shared_topic)).all()
        assert len(innovsmes) == 3
        assert sorted(c.title for c in innovsmes) == [
            "European Partnership on Innovative SMEs/Eurostars: joint transnational call for proposals "
            "(CALL 11 of Eurostars-3)",
            "European Partnership on Innovative SMEs/Eurostars: joint transnational call for proposals "
            "(CALL 12 of Eurostars-3)",
            "European Partnership on Innovative SMEs/Innowwide CALL 5"]
    recorded = [(by_ref[c.call_id], c.field, c.old, c.new) for c in changes(engine)]
    date_changes = [r for r in recorded if r[1] != "status"]
    assert date_changes == [
        ("186358PROSPECTSEN", "deadlines", '[{"at": "2026-09-01T16:00:43+00:00", "time_assumed": false}]',
         '[{"at": "2026-09-01T16:00:01+00:00", "time_assumed": false}]'),
        ("186824PROSPECTSEN", "opening_date", "2026-06-17T10:00:20+00:00", "2026-06-17T10:00:00+00:00"),
        ("186824PROSPECTSEN", "deadlines", '[{"at": "2026-08-31T10:00:00+00:00", "time_assumed": false}]',
         '[{"at": "2026-10-12T10:00:00+00:00", "time_assumed": false}]'),
    ]
    assert sorted((r[0], r[2], r[3]) for r in recorded if r[1] == "status") == \
        sorted((ref, "forthcoming" if ref != "51188707TOPICSen" else "open", "removed") for ref in REMOVED)
    assert len(recorded) == 11


def test_same_recording_twice_writes_nothing(engine, server, portal) -> None:
    portal.serve("2026-08-22")
    sync(engine, server, "2026-08-22")
    before, before_changes = table(engine), len(changes(engine))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(statement))
    again = sync(engine, server, "2026-08-22")
    assert (again.outcome, again.seen, again.new, again.changed, again.unchanged, again.closed) == \
        ("ok", 723, 0, 0, 723, 0)
    assert table(engine) == before and len(changes(engine)) == before_changes == 0
    writes = [" ".join(s.split()[:3]).lower() for s in statements
              if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes  # the run itself is recorded ...
    assert all("fetch_run" in w for w in writes), writes  # ... and nothing else


def test_0623_to_0822(engine, server, portal) -> None:
    first = sync(engine, server, portal.serve("2026-06-23").day)
    assert (first.seen, first.new) == (693, 693)
    second = sync(engine, server, portal.serve("2026-08-22").day)
    # the 83 whose last deadline passed close at once, the 3 still ahead are marked missing
    assert (second.outcome, second.seen, second.new, second.closed, second.missing) == ("ok", 723, 116, 83, 3)
    assert sync(engine, server, "2026-08-22").closed == 3  # the next answer lacking them removes them
    with Session(engine) as session:
        calls = session.exec(select(Call)).all()
        gone = [c for c in calls if c.status in ("closed", "removed")]
        assert len(calls) == 693 + 116 and len(gone) == 86
        now = as_of("2026-08-22")
        for call in gone:  # closed if its last deadline passed, removed otherwise
            last = max((datetime.fromisoformat(d["at"]) for d in call.deadlines), default=None)
            assert call.status == ("closed" if last is not None and last < now else "removed")
        renamed = session.exec(select(Call).where(Call.external_id == "51349583TOPICSen")).one()
        assert renamed.topic_id == "HORIZON-EIC-2026-PATHFINDERCHALLENGES-01-02"  # same reference, new id


def test_per_programme_queries(engine, server, portal) -> None:
    portal.serve("2026-08-22")
    result = sync(engine, server, "2026-08-22", programmes={"Horizon Europe": "43108390",
                                                            "European Defence Fund": "44181033"})
    assert (result.outcome, result.complete, result.seen) == ("ok", True, 509 + 36)
    queries = [json.loads(_part(r, b"query")) for r in server.requests]
    assert {q["bool"]["must"][2]["terms"]["frameworkProgramme"][0] for q in queries} == {"43108390",
                                                                                          "44181033"}
    assert queries[0]["bool"]["must"][:2] == [{"terms": {"type": ["1", "2", "8"]}},
                                              {"terms": {"status": ["31094501", "31094502"]}}]
    assert server.requests[0].query == {"apiKey": ["SEDIA"], "text": ["***"], "pageSize": ["100"],
                                        "pageNumber": ["1"]}
    assert b'name="sort"' in server.requests[0].body and b'{"field":"startDate","order":"DESC"}' in \
        server.requests[0].body
    with Session(engine) as session:
        edf = session.exec(select(Call).where(Call.external_id == "51188737TOPICSen")).one()
        assert edf.programme == "European Defence Fund"  # the config's label for the id


def _part(request: Request, name: bytes) -> bytes:
    body = request.body
    start = body.index(b'name="' + name + b'"')
    content = body.index(b"\r\n\r\n", start) + 4
    return body[content:body.index(b"\r\n--", content)]


@pytest.mark.parametrize("fault,message", [
    ("500", "HTTP 500 from {url} (page 5 of 8, all programmes) (after 2 retries); the source is "
            "failing, try again later"),
    ("slow", "timed out fetching {url} (page 5 of 8, all programmes) (after 2 retries); try again "
             "later or raise timeout_seconds"),
    ("junk", "page 5 of 8 (all programmes) is not valid JSON (Expecting value: line 1 column 37 (char 36)); "
             "the API answered something unexpected, try again later"),
])
def test_failure_on_page_5_of_8(engine, server, portal, fault, message) -> None:
    portal.serve("2026-08-21")
    sync(engine, server, "2026-08-21")
    before = table(engine)
    portal.serve("2026-08-22").fault[5] = fault
    # the good pages before it must answer within the timeout too, on a loaded machine as well
    failed = sync(engine, server, "2026-08-22", timeout=1 if fault == "slow" else 10)
    assert failed.outcome == "failed"
    assert failed.error == message.format(url=server.url(SEARCH_PATH))
    assert "\n" not in failed.error
    assert table(engine) == before and changes(engine) == []  # nothing closed, rows intact
    with Session(engine) as session:
        run = session.get(FetchRun, failed.run_id)
        assert (run.outcome, run.complete, run.error) == ("failed", False, failed.error)
    portal.fault.clear()
    good = sync(engine, server, "2026-08-22")
    assert (good.outcome, good.complete, good.seen, good.changed, good.closed, good.missing) == \
        ("ok", True, 723, 2, 0, 8)


def test_429_on_a_page_is_retried(engine, server, portal) -> None:
    portal.serve("2026-08-22").fault[3] = "429"
    result = sync(engine, server, "2026-08-22")
    assert (result.outcome, result.complete, result.seen) == ("ok", True, 723)
    assert portal.calls[3] == 2


def test_empty_page_mid_run_is_partial(engine, server, portal) -> None:
    portal.serve("2026-08-21")
    sync(engine, server, "2026-08-21")
    portal.serve("2026-08-22").fault[8] = "empty"
    partial = sync(engine, server, "2026-08-22")
    assert (partial.outcome, partial.complete, partial.closed) == ("ok", False, 0)
    assert partial.error.startswith("page 8 of 8 (all programmes) was empty although totalResults is 723")


# --- the command --------------------------------------------------------------------------------

def test_cli_sync_replay(cli, samples: Path) -> None:
    config = "config/strategy.example.yaml"
    result = cli("--config", config, "sync", "--source", "eu_ft", "--replay",
                 str(samples / "eu_ft" / "search_2026-08-21"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"source": "eu_ft", "outcome": "ok", "complete": True, "seen": 618,
                                          "new": 618, "changed": 0, "unchanged": 0, "closed": 0,
                                          "run_id": 1, "error": None, "removed": 0, "missing": 0}]
    result = cli("--config", config, "sync", "--source", "eu_ft", "--replay",
                 str(samples / "eu_ft" / "search_2026-08-22"))
    assert result.exit_code == 0
    # the 7 calls gone from the next day's listing are only missing: one answer may be short
    assert result.stdout == ("Source  Seen  New  Changed  Closed  Removed  Missing  Outcome  Error\n"
                             "eu_ft    611    0        0       0        0        7  ok            \n")
    result = cli("--config", config, "sync", "--source", "eu_ft", "--replay",
                 str(samples / "eu_ft" / "search_2026-08-22"))
    # the next answer lacking them too: removals, told apart from closings
    assert result.stdout == ("Source  Seen  New  Changed  Closed  Removed  Missing  Outcome  Error\n"
                             "eu_ft    611    0        0       0        7        0  ok            \n")
    # and so in the source's status, which counted the 7 removals as closed
    result = cli("--config", config, "sources", "status", "--json")
    [status] = [row for row in json.loads(result.stdout) if row["source"] == "eu_ft"]
    assert (status["seen"], status["closed"], status["removed"]) == (611, 0, 7)
    result = cli("--config", config, "sources", "status")
    assert result.stdout.splitlines()[0].split()[:10] == [
        "Source", "Last", "run", "Secs", "Seen", "New", "Chg", "Clo", "Rem", "Fails"]
    assert next(line for line in result.stdout.splitlines() if line.startswith("eu_ft")).split()[4:10] == \
        ["611", "0", "0", "0", "7", "0"]


def test_cli_sync_replay_samples_root_uses_newest(cli, samples: Path, engine) -> None:
    result = cli("--config", "config/strategy.example.yaml", "sync", "--source", "eu_ft", "--replay",
                 str(samples), "--csv")
    assert result.exit_code == 0
    assert result.stdout == ("source,seen,new,changed,closed,removed,missing,outcome,error\n"
                             "eu_ft,611,611,0,0,0,0,ok,\n")
    with Session(engine) as session:
        run = session.exec(select(FetchRun)).one()
        assert run.started_at == datetime(2026, 8, 22, 10, 0, tzinfo=UTC)  # noon Brussels that day


def test_cli_sync_errors(cli, tmp_path: Path) -> None:
    result = cli("--config", "config/strategy.example.yaml", "sync", "--replay", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --replay {tmp_path / 'nope'}: no such folder; give a recording folder "
                             "such as samples/eu_ft/search_2026-08-22 or the samples root\n")
    result = cli("--config", "config/strategy.example.yaml", "sync", "--source", "nosuch")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no source named 'nosuch' in the strategy config; known sources:")
    result = cli("--config", "config/strategy.example.yaml", "sync", "--source", "eu_ft", "--replay",
                 str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: --replay {tmp_path}: no recording for source 'eu_ft'\n")


def test_cli_sync_failure_exits_1(cli, tmp_path: Path, server: LocalServer) -> None:
    server.route("POST", SEARCH_PATH, lambda request: Reply(200, "<html>maintenance</html>"))
    strategy = Path("config/strategy.example.yaml").read_text(encoding="utf-8")
    start = strategy.index("sources:")
    end = strategy.index("\nslack:")
    config = tmp_path / "strategy.yaml"
    config.write_text(strategy[:start] + "sources:\n  eu_ft:\n    type: eu_ft\n"
                      f"    url: {server.url(SEARCH_PATH)}\n" + strategy[end:], encoding="utf-8")
    result = cli("--config", str(config), "sync", "--json")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert row["outcome"] == "failed"
    assert row["error"] == ("page 1 (Horizon Europe) is not valid JSON (Expecting value: line 1 column 1 "
                            "(char 0)); the API answered something unexpected, try again later")


def test_stores_no_funding_rate_the_portal_did_not_state(engine, server, portal, samples) -> None:
    """A source stores only what the source says: the SEDIA results state no funding rate, so no stored
    call has one (the programme's rate from funding_rules.yaml applies when the call is scored)."""
    folder = samples / "eu_ft" / "search_2026-08-21"
    stated = set()
    for page in sorted(folder.glob("page_*.json")):
        for result in json.loads(page.read_bytes()).get("results") or []:
            keys = (result.get("metadata") or {}).keys()
            if any("fundingrate" in key.lower().replace("_", "") for key in keys):
                stated.add(result["reference"])
    result = sync(engine, server, portal.serve("2026-08-21").day)
    assert result.outcome == "ok" and result.seen == 731
    with Session(engine) as session:
        calls = session.exec(select(Call)).all()
    assert calls
    assert [c.external_id for c in calls if c.funding_rate is not None and c.external_id not in stated] == []
