"""Replay behaves like the live source: recorded pages are served as they are, a recording that
lacks a page or cannot be read is a one-line source failure naming it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.config import EuFtSource, EuroAccessSource
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.replay import ReplayTransport, SediaSearchRecording
from watcher.runner import run_source
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter, search_query
from watcher.sources.euro_access import EuroAccessAdapter, replay_handler

URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
NOW = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)


def _record(folder: Path, results: list[dict], total: int) -> Path:
    """A recording of one page from the real 08-22 results, declaring ``total`` results."""
    folder.mkdir(parents=True)
    page = {"apiVersion": "2.151", "terms": "***", "totalResults": total, "pageNumber": 1, "pageSize": 100,
            "results": results}
    (folder / "page_001.json").write_text(json.dumps(page, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def _first_results(samples: Path, count: int) -> list[dict]:
    page = json.loads((samples / "eu_ft" / "search_2026-08-22" / "page_001.json").read_bytes())
    return page["results"][:count]


def _adapter(url: str = URL) -> EuFtAdapter:
    return EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", url=url), BuildContext())


def _replay(engine, folder: Path):
    adapter = _adapter()
    handler = adapter.replay_handler(folder)
    assert handler is not None
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        return run_source(engine, adapter, client, NOW)


def test_a_recording_declaring_more_than_it_holds_closes_nothing(engine, samples: Path, tmp_path: Path,
                                                                  server: LocalServer) -> None:
    base = _replay(engine, _record(tmp_path / "base", _first_results(samples, 8), 8))
    assert (base.outcome, base.complete, base.new) == ("ok", True, 8)
    lying = _record(tmp_path / "lying", _first_results(samples, 3), 100_000)

    replayed = _replay(engine, lying)
    assert (replayed.outcome, replayed.closed) == ("failed", 0)
    assert replayed.error == (f"page 2 of the search is not in the recording {lying} (it declares 100000 "
                              "results and holds 3)")

    body = (lying / "page_001.json").read_bytes()  # the same bytes, served live

    def live(request: Request) -> Reply:
        if request.query["pageNumber"] == ["1"]:
            return Reply(200, body, {"Content-Type": "application/json;charset=UTF-8"})
        return Reply(404, "Not Found")

    server.route("POST", "/search", live)
    with make_client(retries=0) as client:
        served = run_source(engine, _adapter(server.url("/search")), client, NOW)
    assert (served.outcome, served.closed) == ("failed", 0)


def test_the_recorded_query_is_answered_with_the_recorded_bytes(samples: Path) -> None:
    folder = samples / "eu_ft" / "search_2026-08-22"
    recording = SediaSearchRecording(folder)
    page = recording.response(search_query(None), 3, 100)
    assert page == (folder / "page_003.json").read_bytes()
    narrower = json.loads(recording.response(search_query("43108390"), 1, 100))
    assert narrower["totalResults"] == 509 and len(narrower["results"]) == 100  # Horizon Europe only


def test_an_unreadable_recording_is_a_source_failure_naming_the_file(engine, samples: Path,
                                                                     tmp_path: Path) -> None:
    cut = _record(tmp_path / "cut", _first_results(samples, 3), 3)
    whole = (cut / "page_001.json").read_bytes()
    (cut / "page_001.json").write_bytes(whole[:len(whole) // 2])
    result = _replay(engine, cut)
    assert result.outcome == "failed"
    assert result.error.startswith(f"{cut / 'page_001.json'} is not valid JSON (")
    assert result.error.endswith("); record it again or replay another folder")
    assert "\n" not in result.error

    html = tmp_path / "html"
    html.mkdir()
    (html / "page_001.json").write_bytes(b"<!DOCTYPE html><html><body>Service unavailable</body></html>")
    result = _replay(engine, html)
    assert (result.outcome, result.closed) == ("failed", 0)
    assert result.error.startswith(f"{html / 'page_001.json'} is not valid JSON (")

    folder = tmp_path / "folder"  # a page that is a folder was "unexpected IsADirectoryError: …"
    (folder / "page_001.json").mkdir(parents=True)
    result = _replay(engine, folder)
    assert result.outcome == "failed"
    assert result.error == (f"{folder / 'page_001.json'} cannot be read (Is a directory); record it again or "
                            "replay another folder")


def test_the_cli_reports_an_unreadable_recording_in_one_line(cli, tmp_path: Path) -> None:
    folder = tmp_path / "search_2026-08-22"
    folder.mkdir()
    (folder / "page_001.json").write_bytes(b"<html>Gateway Timeout</html>")
    result = cli("--config", "config/strategy.example.yaml", "sync", "--source", "eu_ft", "--replay",
                 str(folder), "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    [row] = json.loads(result.stdout)
    assert (row["outcome"], row["closed"]) == ("failed", 0)
    assert row["error"] == (f"{folder / 'page_001.json'} is not valid JSON (Expecting value: line 1 column 1 "
                            "(char 0)); record it again or replay another folder")


def test_a_call_page_missing_from_the_recording_reads_not_in_the_recording(samples: Path) -> None:
    handler = replay_handler(samples)
    assert handler is not None
    adapter = EuroAccessAdapter("euro_access", EuroAccessSource(type="euro_access"))
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        result = adapter.fetch(client, NOW)
    assert result.complete is False and result.warning is not None
    first = result.warning.partition("(first: ")[2]
    assert first.startswith("https://www.euro-access.eu/")
    assert first.endswith(f"is not in the recording {samples / 'euro_access'})")
    assert "HTTP 404" not in result.warning


def test_a_sync_error_keeps_its_url_and_path_whole(cli, samples: Path) -> None:
    """The samples' euro-access call pages are not recorded: the sync table's Error column cut the
    first page's URL and the recording's path into 34-character pieces, which no one can copy."""
    result = cli("--config", "config/strategy.example.yaml", "--as-of", "2026-08-22", "sync", "--source",
                 "euro_access", "--replay", str(samples))
    assert result.exit_code == 0, result.output
    url = "https://www.euro-access.eu/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025"
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0].split() == ["Source", "Seen", "New", "Changed", "Closed", "Removed", "Missing",
                                "Outcome", "Error"]
    assert lines[1].split()[:8] == ["euro_access", "4", "4", "0", "0", "0", "0", "partial"]
    text = " ".join(line[lines[0].index("Error"):].strip() for line in lines[1:])
    assert text == ("4 of 4 call pages could not be read, listing data kept (first: "
                    f"{url} is not in the recording {samples / 'euro_access'})")
    assert any(url in line.split() for line in lines)  # one word on one line, whole
    assert any(f"{samples / 'euro_access'})" in line.split() for line in lines)
