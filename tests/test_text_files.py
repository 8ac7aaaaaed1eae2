"""pipeline.core.text (one-line text, money and percent) and pipeline.core.files (atomic writes)."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.files import write_atomically
from pipeline.core.text import money_eur, money_short, one_line, percent_precise, percent_short, shorten


def test_one_line_and_shorten() -> None:
    assert one_line("  Offshore\n wind\tfarms ") == "Offshore wind farms"
    assert one_line(None) == ""
    assert shorten("a  b", 60) == "a b"
    assert shorten("x" * 70) == "x" * 59 + "…" and len(shorten("x" * 70)) == 60
    assert shorten("abcdef", 4) == "abc…"


def test_money_and_percent() -> None:
    assert [money_short(v) for v in (None, 12, 250_000, 1_500_000)] == [None, "€12", "€250k", "€1.5M"]
    assert (percent_short(None), percent_short(0.4)) == (None, "40%")
    assert money_eur(1_250_000) == "EUR 1,250,000"
    assert [percent_precise(v) for v in (0.164, 1.0, 0.5)] == ["16.4 %", "100 %", "50 %"]


def test_money_short_rounds_halves_up_and_never_shows_1000k() -> None:
    """Before: €999,600 read "€1000k", €999.60 "€1000", and halves went either way with the float
    behind them (€1.15M "€1.1M", €1.35M "€1.4M", €1.25M "€1.2M"), so €1.5M + €450k read "€1.9M"."""
    assert [money_short(v) for v in (999_600, 999.6, 999_949, 950_000, 999_400)] == [
        "€1.0M", "€1k", "€1.0M", "€950k", "€999k"]
    assert [money_short(v) for v in (1_150_000, 1_250_000, 1_350_000, 1_950_000, 2_500, 12.5)] == [
        "€1.2M", "€1.3M", "€1.4M", "€2.0M", "€3k", "€13"]


def test_write_atomically_replaces_keeps_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "strategy.yaml"
    write_atomically(target, "name: a\r\nfocus: é\n")
    assert target.read_bytes() == "name: a\r\nfocus: é\n".encode()  # UTF-8, newlines as given
    assert target.stat().st_mode & 0o777 == 0o644
    os.chmod(target, 0o600)
    write_atomically(target, b"name: b\n")
    assert target.read_bytes() == b"name: b\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["strategy.yaml"]
