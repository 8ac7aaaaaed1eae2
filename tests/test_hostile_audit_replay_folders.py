"""Recording folders as people leave them: a dated folder made for a recording that never came, next
to real ones (the shared samples, linked, not copied)."""

from __future__ import annotations

import json
from pathlib import Path


def test_an_empty_newer_search_folder_replays_the_newest_recording(cli, samples: Path,
                                                                   tmp_path: Path) -> None:
    """An empty ``search_<date>`` folder newer than the recordings stopped ``run --replay`` and
    ``sync --replay`` with a traceback ("FileNotFoundError: no page_*.json in …"); the newest folder
    that holds pages is replayed."""
    root = tmp_path / "samples" / "eu_ft"
    root.mkdir(parents=True)
    (root / "search_2026-08-22").symlink_to(samples / "eu_ft" / "search_2026-08-22")
    (root / "search_2026-08-23").mkdir()
    result = cli("--config", "config/strategy.example.yaml", "sync", "--source", "eu_ft", "--replay",
                 str(tmp_path / "samples"), "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["source"], row["outcome"], row["seen"]) == ("eu_ft", "ok", 611)  # as replayed alone


def test_an_unreadable_recording_of_one_source_fails_that_source_only(cli, samples: Path,
                                                                      tmp_path: Path) -> None:
    """A garbled ``facets.json`` in the portal's recording stopped the whole replay in one line, so
    the euro-access recording beside it was never read; the portal's run fails with that line and
    the other sources run."""
    folder = tmp_path / "samples" / "eu_ft" / "search_2026-08-22"
    folder.mkdir(parents=True)
    for page in (samples / "eu_ft" / "search_2026-08-22").glob("page_*.json"):
        (folder / page.name).symlink_to(page)
    (folder / "facets.json").write_bytes(b"<html>Gateway Timeout</html>")
    (tmp_path / "samples" / "euro_access").symlink_to(samples / "euro_access")
    result = cli("--config", "config/strategy.example.yaml", "--as-of", "2026-08-22", "sync", "--replay",
                 str(tmp_path / "samples"), "--json")
    assert result.exit_code == 1, result.output
    rows = {row["source"]: row for row in json.loads(result.stdout)}
    assert (rows["eu_ft"]["outcome"], rows["eu_ft"]["seen"]) == ("failed", 0)
    assert rows["eu_ft"]["error"] == (f"{folder / 'facets.json'} is not valid JSON (Expecting value: line 1 "
                                      "column 1 (char 0)); record it again or replay another folder")
    assert (rows["euro_access"]["outcome"], rows["euro_access"]["seen"]) == ("partial", 4)


def test_a_recorded_file_that_cannot_be_read_is_named_with_what_to_do(cli, samples: Path,
                                                                      tmp_path: Path) -> None:
    """A euro-access listing "file" that is a folder (or a link in a loop) failed the source with
    "unexpected IsADirectoryError: [Errno 21] Is a directory: '…'"; it is named as the portal's
    unreadable pages are, with what to do."""
    folder = tmp_path / "samples" / "euro_access"
    folder.mkdir(parents=True)
    for path in (samples / "euro_access").iterdir():
        (folder / path.name).symlink_to(path)
    (folder / "calls_list_2025-11.html").mkdir()  # newer than the recorded listing
    result = cli("--config", "config/strategy.example.yaml", "--as-of", "2025-10-20", "sync", "--source",
                 "euro_access", "--replay", str(tmp_path / "samples"), "--json")
    assert result.exit_code == 1, result.output
    [row] = json.loads(result.stdout)
    assert (row["outcome"], row["error"]) == (
        "failed", f"{folder / 'calls_list_2025-11.html'} cannot be read (Is a directory); record it again or "
                  "replay another folder")


def test_a_listing_recorded_in_latin1_is_replayed(engine, tmp_path: Path) -> None:
    """A funder's listing served in ISO-8859-1 (as older Danish sites are) is read live, but its
    recording stopped the replay: the handler read it as UTF-8 ("'utf-8' codec can't decode byte
    0xf8"). The recording is decoded as a live answer is. The listing is the Innovationsfonden
    fixture, its charset declaration changed and its bytes encoded in Latin-1."""
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from pipeline.core.config import HtmlListSource
    from pipeline.core.models import Call
    from tests.conftest import FIXTURES
    from watcher.http import make_client
    from watcher.replay import ReplayTransport
    from watcher.runner import run_source
    from watcher.sources.html_list import HtmlListAdapter

    text = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in text and "ø" in text
    folder = tmp_path / "ifd"
    folder.mkdir()
    (folder / "list.html").write_bytes(text.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
                                       .encode("latin-1"))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url="https://innovationsfonden.dk/da/programmer", programme="Innovationsfonden",
        item=".views-row", title="h3", link="h3 a[href]",
        text=".teaser__dates, .teaser__amount, .teaser__text"))
    handler = adapter.replay_handler(tmp_path)
    assert handler is not None
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        result = run_source(engine, adapter, client, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 3), result.error
    with Session(engine) as session:
        assert any("ø" in call.text for call in session.exec(select(Call)))
