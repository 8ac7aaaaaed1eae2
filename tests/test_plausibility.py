"""Sources that never lie: mutated real recordings served by the local server through the real client.

A short but valid answer, a server ignoring ``pageNumber``, a cut or empty euro-access listing and an
empty answer close nothing; one absurd value skips its record (named with page, reference and reason)
and never the source; a store error fails one source's run only."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.config import EuFtSource, EuroAccessSource
from pipeline.core.db import open_database
from pipeline.core.models import Call, CallChange, FetchRun
from pipeline.sources_status import source_status
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.records import CallRecord
from watcher.replay import SediaSearchRecording
from watcher.runner import run_source
from watcher.sources import BuildContext, FetchResult
from watcher.sources.eu_ft import EuFtAdapter
from watcher.sources.euro_access import EuroAccessAdapter

SEARCH = "/search-api/prod/rest/search"
DAY = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)
JSON = {"Content-Type": "application/json;charset=UTF-8"}
WIDE_ID = "".join(chr(0x4E00 + (n * 7919) % 0x5000) for n in range(950))  # 950 CJK letters, little repetition


class Portal:
    """The search API answering from the 2026-08-21 recording, or with a mutation of its pages:
    ``mutate(page_number, data) -> data`` changes the JSON of each answer."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        self.recording = SediaSearchRecording(samples / "eu_ft" / "search_2026-08-21")
        self.mutate: Any = None
        server.route("POST", SEARCH, self.handle)

    def handle(self, request: Request) -> Reply:
        params = {k: v[0] for k, v in request.query.items()}
        status, body = self.recording.answer(request.headers["content-type"], request.body, params)
        if self.mutate is not None:
            body = json.dumps(self.mutate(int(params["pageNumber"]), json.loads(body))).encode()
        return Reply(status, body, JSON)


@pytest.fixture
def portal(server: LocalServer, samples: Path) -> Portal:
    return Portal(server, samples)


def eu_ft(server: LocalServer, **kw: Any) -> EuFtAdapter:
    return EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", url=server.url(SEARCH), programmes={}, **kw),
                       BuildContext())


def run(engine, adapter, now: datetime = DAY):
    with make_client(retries=0) as client:
        return run_source(engine, adapter, client, now)


def statuses(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.external_id: c.status for c in session.exec(select(Call))}


def good_sync(engine, server: LocalServer) -> dict[str, str]:
    first = run(engine, eu_ft(server), datetime(2026, 8, 21, 10, 0, tzinfo=UTC))
    assert (first.outcome, first.complete, first.new, first.closed) == ("ok", True, 731, 0)
    return statuses(engine)


def with_grants(result: dict[str, Any], grants: Any) -> dict[str, Any]:
    """``result`` with its topic's budget entry claiming ``grants`` expected grants."""
    result = copy.deepcopy(result)
    meta = result["metadata"]
    identifier = meta["identifier"][0]
    entry = {"action": f"{identifier} - {meta['typesOfAction'][0]}", "expectedGrants": grants,
             "budgetYearMap": {"2027": "1000000"}}
    meta["budgetOverview"] = [json.dumps({"budgetTopicActionMap": {"1": [entry]}})]
    return result


def with_meta(result: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = copy.deepcopy(result)
    result["metadata"].update(fields)
    return result


# --- completeness and the mass-closure guard ------------------------------------------------------

def test_short_consistent_page_is_suspicious_and_closes_nothing(engine, server, portal) -> None:
    before = good_sync(engine, server)

    def six(number: int, data: dict[str, Any]) -> dict[str, Any]:
        results = data["results"][:6]
        results[4] = with_grants(results[4], 10**30)  # two of the six are malformed
        results[5] = {**results[5], "reference": ["A", "B"]}
        return {**data, "totalResults": 6, "results": results}

    portal.mutate = six
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.closed, result.seen) == ("ok", 0, 4)
    assert result.complete is False  # malformed results: a skipped call must not be closed
    assert "2 malformed result(s) skipped: page 1 of 1 (all programmes), result 5 (" in result.error
    assert "is not a count between 0 and 2,147,483,647" in result.error
    assert "result 6: reference is a list, not text" in result.error
    assert statuses(engine) == before

    portal.mutate = lambda number, data: {**data, "totalResults": 6, "results": data["results"][:6]}
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.complete, result.closed, result.seen) == ("suspicious", True, 0, 6)
    assert "would take away 725 of 731 active calls before their deadlines (more than " \
           "max_close_share=0.2); closed none" in result.error
    assert statuses(engine) == before
    with Session(engine) as session:
        row = session.get(FetchRun, result.run_id)
        assert (row.outcome, row.closed, row.complete) == ("suspicious", 0, True)
        assert session.exec(select(CallChange).where(CallChange.field == "status")).all() == []
    [status] = source_status(engine, ["eu_ft"])
    assert status["outcome"] == "suspicious" and status["last_error"].startswith("suspicious: would take")


def test_short_first_page_against_declared_total_is_partial(engine, server, portal) -> None:
    before = good_sync(engine, server)
    portal.mutate = lambda number, data: {**data, "results": data["results"][:6]} if number == 1 else data
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert "page 1 of 8 (all programmes) has 6 results, fewer than the page size 100" in result.error
    assert "all programmes: read 637 results of the 731 declared by totalResults" in result.error
    assert statuses(engine) == before


def test_server_ignoring_page_number_closes_nothing(engine, server, portal, samples) -> None:
    before = good_sync(engine, server)
    page_one = json.loads((samples / "eu_ft" / "search_2026-08-21" / "page_001.json").read_bytes())
    portal.mutate = lambda number, data: {**page_one, "totalResults": 250}
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.complete, result.closed, result.seen) == ("ok", False, 0, 100)
    assert "page 2 of 3 (all programmes) repeats 100 of its 100 references from earlier pages" in result.error
    assert statuses(engine) == before


def test_empty_answer_from_a_source_with_active_calls_is_never_complete(engine, server, portal) -> None:
    before = good_sync(engine, server)
    portal.mutate = lambda number, data: {**data, "totalResults": 0, "results": []}
    result = run(engine, eu_ft(server))
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert result.error.startswith("the source answered with no calls although 731 were active")
    assert statuses(engine) == before


def test_guard_limits_are_per_source_config(engine, server, portal) -> None:
    good_sync(engine, server)
    portal.mutate = lambda number, data: {**data, "totalResults": 6, "results": data["results"][:6]}
    result = run(engine, eu_ft(server, max_close_share=1.0))  # the operator allows it for this run
    assert (result.outcome, result.closed + result.missing) == ("ok", 725)  # missing: removed if the next
    confirmed = run(engine, eu_ft(server, max_close_share=1.0))             # answer lacks them too
    assert (confirmed.outcome, confirmed.closed, confirmed.missing) == ("ok", result.missing, 0)
    portal.mutate = None
    assert run(engine, eu_ft(server, max_close=10)).closed == 0  # all back
    # 31 calls gone from a complete answer: 700 declared, and the page after the full 7th one empty
    portal.mutate = lambda number, data: {**data, "totalResults": 700, "results": data["results"][:100]} \
        if number == 1 else {**data, "totalResults": 700, "results": [] if number == 8 else data["results"]}
    capped = run(engine, eu_ft(server, max_close=10))
    assert capped.outcome == "suspicious" and "or max_close=10" in capped.error


# --- euro-access listings ---------------------------------------------------------------------------

def _listing(samples: Path, server: LocalServer) -> str:
    html = (samples / "euro_access" / "calls_list_2025-10.html").read_text(encoding="utf-8")
    return html.replace("https://www.euro-access.eu", server.base_url)


def _serve_euro_access(server: LocalServer, html: dict[str, str]) -> None:
    detail = (Path(__file__).parent / "fixtures" / "euro_access" / "call_detail_2374.html").read_bytes()
    server.route("GET", "/en/calls", lambda r: Reply(200, html["listing"], {"Content-Type": "text/html"}))
    for path in ("/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025"):
        server.route("GET", path, lambda r: Reply(200, detail, {"Content-Type": "text/html"}))


def _euro_access(server: LocalServer, **kw: Any) -> EuroAccessAdapter:
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"),
                           programmes=["Interreg Germany-Denmark", "Interreg Baltic Sea Region"], **kw)
    return EuroAccessAdapter("euro_access", cfg)


NOV = datetime(2025, 10, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("cut", ["half", "empty"])
def test_cut_or_empty_listing_closes_nothing(engine, server, samples, cut) -> None:
    full = _listing(samples, server)
    html = {"listing": full}
    _serve_euro_access(server, html)
    first = run(engine, _euro_access(server), NOV)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 2)
    head, _, rest = full.partition("<tbody>")
    if cut == "half":  # the answer stops in the middle of the table, before the DE-DK row
        html["listing"] = full[:full.index("/calls/2374/")]
    else:
        html["listing"] = head + "<tbody></tbody>" + rest.partition("</tbody>")[2]
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    expected = "declares 142 calls but 1 page(s) held" if cut == "half" else "has no rows although it " \
        "declares 142 calls"
    assert expected in result.error
    assert set(statuses(engine).values()) == {"open"}


def test_call_pages_only_from_the_listing_host(engine, server, samples) -> None:
    full = _listing(samples, server)
    other = server.base_url.replace("127.0.0.1", "localhost")
    html = {"listing": full.replace(f"{server.base_url}/en/calls/2374/", f"{other}/en/calls/2374/")}
    _serve_euro_access(server, html)
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.complete, result.seen) == ("ok", True, 2)
    assert "1 call link(s) point to hosts other than the listing's, not fetched" in result.error
    assert not any("/2374/" in r.path for r in server.requests)
    allowed = run(engine, _euro_access(server, detail_hosts=["localhost"]), NOV)
    assert allowed.error is None and any("/2374/" in r.path for r in server.requests)


# --- one record, one source ------------------------------------------------------------------------

BAD_VALUES = [
    ("grants", lambda r: with_grants(r, 10**30), "is not a count between 0 and 2,147,483,647"),
    ("deadline", lambda r: with_meta(r, deadlineDate=["9999-12-31T23:00:00.000-2300"]),
     "deadlineDate '9999-12-31T23:00:00.000-2300' cannot be read as a date"),
    ("far deadline", lambda r: with_meta(r, deadlineDate=["9999-12-31T00:00:00.000+0000"]),
     "is outside the years 1980-2999"),
    ("reference object", lambda r: {**r, "reference": {"id": 1}}, "reference is a dict, not text"),
    ("reference list", lambda r: {**r, "reference": ["x"]}, "reference is a list, not text"),
    ("nul", lambda r: with_meta(r, title=["Smart\x00grids"]), "title contains a NUL byte"),
    ("huge reference", lambda r: {**r, "reference": "R" * 10_000_000},
     "external_id has 10,000,000 characters"),
    # under 1,000 characters, but more bytes than PostgreSQL's index on (source, external_id) holds
    ("wide reference", lambda r: {**r, "reference": WIDE_ID}, "external_id has 2,850 bytes, more than 1,000"),
]


def _one_bad(make: Any) -> Any:
    def mutate(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number != 3:
            return data
        results = list(data["results"])
        results[6] = make(results[6])
        return {**data, "results": results}
    return mutate


def _bad_value_run(engine, server, portal, make, reason) -> None:
    portal.mutate = _one_bad(make)
    feed = _StaticAdapter("after_eu_ft", [CallRecord(external_id="x1", title="still fetched")])
    with make_client(retries=0) as client:
        results = [run_source(engine, a, client, DAY) for a in (eu_ft(server), feed)]
    [eu, after] = results
    assert (eu.outcome, eu.complete, eu.seen, eu.closed) == ("ok", False, 730, 0)
    assert "1 malformed result(s) skipped: page 3 of 8 (all programmes), result 7" in eu.error
    assert reason in eu.error and len(eu.error) < 1000
    assert (after.outcome, after.seen) == ("ok", 1)
    with Session(engine) as session:
        assert {r.outcome for r in session.exec(select(FetchRun))} == {"ok"}


@pytest.mark.parametrize("name,make,reason", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_value_skips_its_record_only(engine, server, portal, name, make, reason) -> None:
    _bad_value_run(engine, server, portal, make, reason)


@pytest.mark.parametrize("name", ["nul", "huge reference", "wide reference", "grants"])
def test_bad_value_skips_its_record_only_on_postgresql(pg_url, server, portal, name) -> None:
    engine = open_database(pg_url)
    try:
        _, make, reason = next(b for b in BAD_VALUES if b[0] == name)
        _bad_value_run(engine, server, portal, make, reason)
    finally:
        engine.dispose()


class _StaticAdapter:
    """A source answering fixed records (a source whose parser let something through)."""

    type = "feed"
    url = None

    def __init__(self, name: str, records: list[CallRecord]) -> None:
        self.name, self.records = name, records

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        return FetchResult(records=list(self.records))


def test_values_a_store_cannot_hold_are_skipped_by_the_runner(engine) -> None:
    bad = _StaticAdapter("raw", [CallRecord(external_id="ok", title="fine"),
                                 CallRecord(external_id="big", title="x", expected_grants=10**30),
                                 CallRecord(external_id="nul", title="a\x00b")])
    with make_client(retries=0) as client:
        result = run_source(engine, bad, client, DAY)
    assert (result.outcome, result.complete, result.seen) == ("ok", False, 1)
    assert result.error == ("2 malformed record(s) skipped: big: expectedGrants "
                            "1000000000000000000000000000000 is not a count between 0 and 2,147,483,647; "
                            "nul: title contains a NUL byte")


def test_store_error_fails_that_source_only(engine) -> None:
    with engine.begin() as conn:  # the database itself refuses this source's calls
        conn.execute(sa.text("CREATE TRIGGER refuse BEFORE INSERT ON call WHEN NEW.source = 'refused' "
                             "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"))
    refused = _StaticAdapter("refused", [CallRecord(external_id="a", title="A")])
    fine = _StaticAdapter("fine", [CallRecord(external_id="b", title="B")])
    with make_client(retries=0) as client:
        first, second = [run_source(engine, a, client, DAY) for a in (refused, fine)]
    assert first.outcome == "failed"
    assert first.error == ("storing the run failed: the database refused the write (IntegrityError: refused "
                           "by the database); nothing of this run was stored")
    assert (second.outcome, second.seen) == ("ok", 1)
    with Session(engine) as session:
        rows = {r.source: r.outcome for r in session.exec(select(FetchRun))}
        assert rows == {"refused": "failed", "fine": "ok"}
        assert [c.source for c in session.exec(select(Call))] == ["fine"]
