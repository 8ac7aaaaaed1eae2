"""Scraped text on its way out, sixth round: what earlier rounds left open. Through the real CLI
against a real SQLite file, exact output."""

from __future__ import annotations

import pytest

from pipeline.core.text import csv_cell
from tests.test_applications import bsr_call, sync

AS_OF = "2026-08-22T09:00+02:00"


@pytest.fixture
def run(cli):
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1",
                                                    "COLUMNS": "300"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.mark.parametrize(("value", "cell"), [
    (" =1+1", "' =1+1"), ("   @SUM(A1)", "'   @SUM(A1)"), ("\u00a0-2+3", "'\u00a0-2+3"),
    ("\u3000+1", "'\u3000+1"), ("\ufeff=1", "'\ufeff=1"), ("\u200b=1", "'\u200b=1"),
    (" plain", " plain"), ("a =1", "a =1"), ("  ", "  "),
])
def test_a_formula_after_leading_spaces_is_text(value: str, cell: str) -> None:
    """Spreadsheets (LibreOffice with "trim spaces", Google Sheets on import) drop leading spaces and
    then run the cell as a formula, so the spaces do not make it text."""
    assert csv_cell(value) == cell


def test_a_scraped_title_with_a_formula_after_a_space_is_text_in_the_csv(run, engine) -> None:
    record = bsr_call()
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__,
                                                     "title": "  =HYPERLINK(\"http://e.example\",\"x\")"})])
    code, out, err = run("calls", "list", "--status", "all", "--csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split(",")[2] == "\"'  =HYPERLINK(\"\"http://e.example\"\""
