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
