"""serve's hot reload and an editor saving in place: nano (and vim without a backup copy) truncates
the strategy file and then writes it, so a check between the two reads an empty or cut-off file. That
read is no edit of the secretariat's: it is reported only if the files stay so (``settle_seconds``),
and the whole file, valid, is applied at once. Real files, read by the real loader."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.config import load_config
from pipeline.reload import ConfigWatch

STRATEGY = """name: t
organisation: T
focus_areas:
  a: {label: A, keywords: [offshore wind]}
"""


def test_a_file_read_mid_save_is_not_reported_and_the_saved_file_is_applied(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="fundradar.serve")
    path = tmp_path / "strategy.yaml"
    path.write_text(STRATEGY, encoding="utf-8")
    watch = ConfigWatch(load_config(path), settle_seconds=3600)  # the save completes long before
    edited = STRATEGY.replace("[offshore wind]", "[offshore wind, hydrogen]")
    for partial in ("", edited[:40]):  # truncated, then written part of the way
        path.write_text(partial, encoding="utf-8")
        assert watch.check() is None
        assert watch.config.strategy.focus_areas["a"].keywords == ["offshore wind"]
    path.write_text(edited, encoding="utf-8")
    fresh = watch.check()
    assert fresh is not None and fresh.strategy.focus_areas["a"].keywords == ["offshore wind", "hydrogen"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_invalid_edit_that_stays_is_reported_once(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="fundradar.serve")
    path = tmp_path / "strategy.yaml"
    path.write_text(STRATEGY, encoding="utf-8")
    watch = ConfigWatch(load_config(path), settle_seconds=0)  # every read has stayed long enough
    path.write_text(STRATEGY.replace("[offshore wind]", "[]"), encoding="utf-8")
    for _ in range(3):
        assert watch.check() is None
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"{path}:4: focus_areas.a.keywords: focus area needs at least one keyword; "
                      "keeping the last good config"]
