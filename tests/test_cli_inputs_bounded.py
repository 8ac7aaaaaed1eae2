"""Inputs that were tracebacks or garbage: huge and non-finite numbers, folders and devices given as
files, the same partner imported twice. Through the real CLI on a real SQLite file, exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_applications import seed

AS_OF = "2026-08-22T09:00+02:00"


@pytest.fixture
def run(cli):
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.mark.parametrize("amount", ["nan", "1e400", "-5", "1e13"])
def test_amount_must_be_a_finite_number_of_euros(run, engine, amount: str) -> None:
    ids = seed(engine)
    code, out, err = run("applications", "add", str(ids["idea"]), str(ids["bsr"]), "--amount", amount)
    shown = f"{float(amount):g}"
    assert (code, out, err) == (2, "", "Error: the requested amount must be a number of euros from 0 to "
                                       f"1,000,000,000,000, got {shown}; e.g. 250000\n")
    code, out, _ = run("pipeline", "report", "--json")
    assert code == 0 and "Infinity" not in out and "NaN" not in out
    json.loads(out)


def test_deadlines_weeks_is_bounded(run) -> None:
    code, out, err = run("deadlines", "--weeks", "99999999999")
    assert (code, out) == (2, "")
    assert err.endswith("Invalid value for '--weeks': Input should be less than or equal to 520\n")


def test_partner_import_of_a_folder_or_device(run, tmp_path: Path) -> None:
    assert run("partners", "import", str(tmp_path)) == (
        2, "", f"Error: {tmp_path}: not a regular file; give the path of the partner CSV\n")
    assert run("partners", "import", "/dev/zero") == (
        2, "", "Error: /dev/zero: not a regular file; give the path of the partner CSV\n")
    assert run("partners", "import", str(tmp_path / "partners.csv")) == (
        2, "", f"Error: {tmp_path / 'partners.csv'}: file not found; check the path of the partner CSV\n")


def test_identical_partner_rows_without_a_pic_are_imported_once(run, tmp_path: Path) -> None:
    csv_file = tmp_path / "partners.csv"
    csv_file.write_text("organisation,country,type\nPort of Aarhus,DK,public\nport of aarhus,DK,public\n"
                        "Port of Aarhus,SE,public\n", encoding="utf-8")
    assert run("partners", "import", str(csv_file)) == (
        0, f"Imported 2 partners from {csv_file}; skipped 1 row (line 3) repeating a partner already listed "
           "(same organisation, country, type and PIC, or no PIC)\n", "")
    # before, "Imported 0 partners" and nothing said why
    assert run("partners", "import", str(csv_file)) == (
        0, f"Imported 0 partners from {csv_file}; skipped 3 rows (lines 2, 3, 4) repeating a partner already "
           "listed (same organisation, country, type and PIC, or no PIC)\n", "")
    code, out, _ = run("partners", "list", "--json")
    assert code == 0 and [(p["organisation"], p["country"]) for p in json.loads(out)] == [
        ("Port of Aarhus", "DK"), ("Port of Aarhus", "SE")]


def test_the_sample_partner_file_imported_again_adds_nothing(run) -> None:
    """The README imports tests/fixtures/partners.csv; running that line again (its rows have PICs)
    failed with exit 2, "PIC … already belongs to partner #1", for the very partners the file made."""
    sample = Path(__file__).parent / "fixtures" / "partners.csv"
    assert run("partners", "import", str(sample)) == (0, f"Imported 3 partners from {sample}\n", "")
    assert run("partners", "import", str(sample)) == (
        0, f"Imported 0 partners from {sample}; skipped 3 rows (lines 2, 3, 4) repeating a partner already "
           "listed (same organisation, country, type and PIC, or no PIC)\n", "")
    code, out, _ = run("partners", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 3


def test_a_stored_pic_on_a_bad_or_another_row_is_reported(run, tmp_path: Path) -> None:
    sample = Path(__file__).parent / "fixtures" / "partners.csv"
    assert run("partners", "import", str(sample))[0] == 0
    again = tmp_path / "partners.csv"
    again.write_text("organisation,country,type,pic\n"
                     "RISE Research Institutes of Sweden,Dnmark,rto,999981234\n"
                     "Aalborg Universitet,DK,university,999872345\n", encoding="utf-8")
    assert run("partners", "import", str(again)) == (2, "", (
        f"Error: {again}:2: country: 'Dnmark' is not an ISO 3166 country code; use two letters such as "
        "DK, SE or DE\n"
        f"Error: {again}:2: pic: 999981234 already belongs to partner #1 (RISE Research Institutes of "
        "Sweden); a PIC names one organisation: check it, or see `fundradar partners show 1`\n"
        f"Error: {again}:3: pic: 999872345 already belongs to partner #2 (Kiel University); a PIC names "
        "one organisation: check it, or see `fundradar partners show 2`\n"
        f"Error: {again}: 2 bad rows; nothing was imported; fix them and import the file again\n"))
