"""Amounts as project managers type them, and as fundradar itself prints them ("requested 400,000 EUR →
420,000 EUR"): `--amount 1,500,000` failed with "Input should be a valid number, unable to parse string
as a number", naming no form that works. The forms the help names are taken; another currency or an
ambiguous separator is one line saying what to write."""

from __future__ import annotations

import json

import pytest

from tests.test_applications import seed
from tests.test_newcomer_round5 import NO_APPLICATIONS


@pytest.fixture
def run(cli, engine):
    ids = seed(engine)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", "2026-08-22T09:00+02:00", *args,
                     env={"NO_COLOR": "1", "FUNDRADAR_USER": "anna"})
        return result.exit_code, result.stdout, result.stderr
    invoke.bsr = ids["bsr"]
    return invoke


@pytest.mark.parametrize("typed, euros", [
    ("450000", 450_000), ("450,000", 450_000), ("1,500,000", 1_500_000), ("1,500,000.50", 1_500_000.5),
    ("EUR 450,000", 450_000), ("450,000 EUR", 450_000), ("€450k", 450_000), ("1.5M", 1_500_000),
    ("1.5m", 1_500_000), ("2 mio", 2_000_000),
])
def test_typed_amounts(run, typed: str, euros: float) -> None:
    assert run("applications", "add", "1", str(run.bsr), "--amount", typed)[0] == 0
    code, out, _ = run("applications", "show", "1", "--json")
    assert code == 0 and json.loads(out)["requested_amount"] == euros


@pytest.mark.parametrize("typed", ["DKK 2 mio", "1,5", "1.500.000", "", "lots"])
def test_other_text_is_one_line(run, typed: str) -> None:
    assert run("applications", "add", "1", str(run.bsr), "--amount", typed) == (
        2, "", f"Error: --amount {typed!r} is not an amount in euros; write it as 450000, 450,000, 450k or "
               "1.5M (other currencies converted to euros)\n")
    assert run("applications", "list") == (0, "", NO_APPLICATIONS)


def test_edit_and_move_take_the_same_forms(run) -> None:
    assert run("applications", "add", "1", str(run.bsr), "--amount", "400,000")[0] == 0
    assert run("applications", "edit", "1", "--amount", "420,000 EUR") == (
        0, "Application #1: requested 400,000 EUR → 420,000 EUR\n", "")
    for status in ("consortium", "writing", "submitted"):
        assert run("applications", "move", "1", status)[0] == 0
    assert run("applications", "move", "1", "granted", "--granted", "380k") == (
        0, "Application #1: submitted -> granted\n", "")
    assert run("applications", "edit", "1", "--granted", "1,2") == (
        2, "", "Error: --granted '1,2' is not an amount in euros; write it as 450000, 450,000, 450k or 1.5M "
               "(other currencies converted to euros)\n")
    code, out, _ = run("applications", "show", "1", "--json")
    assert code == 0 and json.loads(out)["granted_amount"] == 380_000
