"""``applications add|edit|list|consortium`` through the CLI against a real SQLite file: corrections
with ``edit``, one coordinator, partners given twice, the warnings an addition gets (deadline passed,
failed rules, the consortium rule per type of action) and ``list --call`` by topic identifier. Exit
codes and exact output."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.test_applications import brussels, seed, sync
from watcher.records import CallRecord, Deadline

AS_OF = "2026-08-22T09:00+02:00"
HORIZON_IA = ("Horizon Europe IA needs ≥ 3 from 3 countries (Horizon Europe General Annexes, B "
              "(Eligibility); Regulation (EU) 2021/695, art. 22(2))")
NORTH_SEA = ("the consortium has 1 entity from 1 country; Interreg North Sea needs ≥ 3 from 3 countries "
             "(Interreg North Sea Programme Manual: at least three partners from three countries)")


@pytest.fixture
def run(cli):
    """The CLI at a fixed moment, acting as anna: run("applications", "list") -> (code, stdout, stderr)."""
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.fixture
def ids(engine):
    return seed(engine)


def rows_in(db_url: str, table: str) -> int:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_edit_corrects_amounts_role_and_owner_also_after_the_grant(run, ids) -> None:
    bsr = ids["bsr"]
    assert run("applications", "add", "1", str(bsr), "--amount", "400000", "--partner", "1",
               "--partner", "2")[0] == 0
    for status in ("consortium", "writing", "submitted", "granted"):
        assert run("applications", "move", "1", status)[0] == 0
    assert run("applications", "edit", "1", "--amount", "420000", "--granted", "380000", "--owner", "bo",
               "--note", "contract signed") == (
        0, "Application #1: requested 400,000 EUR → 420,000 EUR; granted 400,000 EUR → 380,000 EUR; "
           "owner anna → bo\n", "")
    assert run("applications", "edit", "#1", "--role", "partner") == (
        0, "Application #1: role coordinator → partner\n", "")
    assert run("applications", "edit", "1", "--owner", "bo") == (
        0, "", "Application #1: nothing changed; it already has these values\n")
    code, out, _ = run("applications", "show", "1", "--json")
    shown = json.loads(out)
    assert code == 0
    assert (shown["status"], shown["requested_amount"], shown["granted_amount"], shown["owner"],
            shown["role"]) == ("granted", 420000.0, 380000.0, "bo", "partner")
    assert [e["note"] for e in shown["events"][-2:]] == [
        "corrected: requested 400,000 EUR → 420,000 EUR; granted 400,000 EUR → 380,000 EUR; owner anna → bo; "
        "contract signed",
        "corrected: role coordinator → partner"]
    # edit leaves the workflow alone: granted stays final for move
    assert run("applications", "move", "1", "submitted") == (
        2, "", "Error: application #1 cannot move from granted to submitted; granted is final\n")


def test_edit_bad_input(run, ids) -> None:
    assert run("applications", "add", "1", str(ids["bsr"]), "--amount", "400000")[0] == 0
    assert run("applications", "edit", "1") == (
        2, "", "Error: nothing to change; give at least one of --amount, --granted, --role, --owner (e.g. "
               "--amount 420000)\n")
    assert run("applications", "edit", "1", "--granted", "5") == (
        2, "", "Error: application #1 is draft, not granted; a granted amount is recorded once it is "
               "submitted and granted: `fundradar applications move 1 granted --granted AMOUNT` after "
               "`fundradar applications move 1 submitted`\n")
    assert run("applications", "edit", "1", "--amount", "nan") == (
        2, "", "Error: the requested amount must be a number of euros from 0 to 1,000,000,000,000, got nan; "
               "e.g. 250000\n")
    assert run("applications", "edit", "1", "--role", "lead") == (
        2, "", "Error: unknown role 'lead'; use one of coordinator, partner\n")
    assert run("applications", "edit", "7", "--owner", "bo") == (
        2, "", "Error: no application with id 7; see `fundradar applications list`\n")
    code, out, _ = run("applications", "show", "1", "--json")
    assert json.loads(out)["requested_amount"] == 400000.0  # nothing changed by the refusals


def test_one_coordinator(run, ids, db_url) -> None:
    bsr = ids["bsr"]
    assert run("applications", "add", "1", str(bsr), "--partner", "2", "--partner", "1:coordinator") == (
        2, "", "Error: an application has one coordinator, but our role is coordinator and so is partner "
               "#1's; give #1 another role (1:partner) or make our role partner\n")
    assert run("applications", "add", "1", str(bsr), "--role", "partner", "--partner", "1:coordinator",
               "--partner", "2:coordinator") == (
        2, "", "Error: an application has one coordinator, but partners #1 and #2 are both given as "
               "coordinator; give one of them another role\n")
    assert (rows_in(db_url, "application"), rows_in(db_url, "application_event")) == (0, 0)
    assert run("applications", "add", "1", str(bsr), "--role", "partner", "--partner", "1:coordinator") == (
        0, f"Added application #1: idea #1 -> call #{bsr} (draft)\n",
        "Warning: the consortium has 2 entities from 2 countries; Interreg Baltic Sea Region needs ≥ 3 from "
        "3 countries (Interreg Baltic Sea Region Programme Manual 2021-2027: at least three partners from "
        "three countries of the programme area)\n")
    assert run("applications", "consortium", "1", "--add", "2:coordinator") == (
        2, "", "Error: an application has one coordinator, but partners #1 and #2 are both given as "
               "coordinator; give one of them another role\n")
    assert run("applications", "edit", "1", "--role", "coordinator") == (
        2, "", "Error: an application has one coordinator, but our role is coordinator and so is partner "
               "#1's; give #1 another role (1:partner) or make our role partner\n")
    # removals come first: the coordinator becomes a partner, then we take the role
    assert run("applications", "consortium", "1", "--remove", "1", "--add", "1:partner", "--add", "2") == (
        0, "Application #1: 2 partners besides us\n", "")
    assert run("applications", "edit", "1", "--role", "coordinator") == (
        0, "Application #1: role partner → coordinator\n", "")


def test_a_partner_given_twice_creates_nothing(run, ids, db_url) -> None:
    for twice in (["--partner", "2", "--partner", "2"], ["--partner", "#2", "--partner", "2:associated"]):
        assert run("applications", "add", "1", str(ids["bsr"]), "--partner", "1", *twice) == (
            2, "", "Error: partner #2 is given twice; give each partner once\n")
    # a later step failing (an unknown partner after known ones) leaves nothing half-written either
    assert run("applications", "add", "1", str(ids["bsr"]), "--partner", "1", "--partner", "9") == (
        2, "", "Error: no partner with id 9; see `fundradar partners list`\n")
    assert [rows_in(db_url, t) for t in ("application", "application_event", "application_partner")] == [
        0, 0, 0]
    assert run("applications", "add", "1", str(ids["bsr"]), "--partner", "1", "--partner", "2")[0] == 0
    assert run("applications", "consortium", "1", "--add", "2") == (
        2, "", "Error: partner #2 is already in application #1's consortium\n")


def test_adding_warns_about_a_passed_deadline_and_failed_rules_but_stores(run, ids, engine) -> None:
    closed = ids["closed"]
    assert run("applications", "add", "1", str(closed)) == (
        0, f"Added application #1: idea #1 -> call #{closed} (draft)\n",
        f"Warning: call #{closed}'s deadline 2026-06-01 12:00 (Brussels) has passed\n"
        f"Warning: {NORTH_SEA}\n")
    # an EIC call three weeks before its deadline fails the strategy's action type and deadline rules
    sync(engine, "eu_ft", [CallRecord(
        external_id="HORIZON-EIC-2026-ACCELERATOR-01", topic_id="HORIZON-EIC-2026-ACCELERATOR-01",
        programme="Horizon Europe", title="EIC Accelerator", type_of_action="HORIZON EIC Grants",
        deadlines=(Deadline(brussels("2026-09-12T17:00")),), max_contribution=2_500_000)])
    assert run("applications", "add", "1", "HORIZON-EIC-2026-ACCELERATOR-01") == (
        0, "Added application #2: idea #1 -> call #4 (draft)\n",
        "Warning: call #4 fails the strategy's deadline rule: deadline 2026-09-12 is less than 6 weeks "
        "away\n"
        "Warning: call #4 fails the strategy's action_type rule: type of action EIC is not in RIA, IA, CSA, "
        "INTERREG, IE, NATIONAL\n")
    code, out, _ = run("applications", "list", "--json")
    assert (code, [r["call_id"] for r in json.loads(out)]) == (0, [closed, 4])


def test_horizon_consortium_counts_us_and_beneficiaries(run, ids) -> None:
    horizon = ids["horizon"]
    assert run("applications", "add", "1", str(horizon), "--partner", "1", "--partner", "2:associated") == (
        0, f"Added application #1: idea #1 -> call #{horizon} (draft)\n",
        f"Warning: the consortium has 2 entities from 2 countries; {HORIZON_IA}\n")
    assert run("applications", "list") == (0, (
        "ID  Idea              Call  Status  Role         Amount  Deadline    Days\n"
        f" 1  Hydrogen ferries     {horizon}  draft   coordinator          2026-11-04    74\n"),
        f"Warning: application #1: the consortium has 2 entities from 2 countries; {HORIZON_IA}\n")
    code, out, err = run("applications", "list", "--json")
    assert (code, err, json.loads(out)[0]["warnings"]) == (
        0, "", [f"the consortium has 2 entities from 2 countries; {HORIZON_IA}"])
    # Kiel University (DE) as a beneficiary makes three entities from three countries
    assert run("applications", "consortium", "1", "--remove", "2", "--add", "2:partner")[0] == 0
    code, out, err = run("applications", "list")
    assert (code, err) == (0, "")
    code, out, _ = run("applications", "show", "1")
    assert code == 0 and "Warning" not in out


def test_list_by_call_takes_a_topic_identifier(run, ids) -> None:
    bsr, horizon = ids["bsr"], ids["horizon"]
    assert run("applications", "add", "1", str(bsr), "--partner", "1", "--partner", "2")[0] == 0
    assert run("applications", "add", "1", str(horizon), "--partner", "1", "--partner", "2")[0] == 0
    header = "ID  Idea              Call  Status  Role         Amount  Deadline    Days\n"
    assert run("applications", "list", "--call", "HORIZON-CL5-2027-03-D5-05") == (0, (
        header + f" 2  Hydrogen ferries     {horizon}  draft   coordinator          2026-11-04    74\n"), "")
    assert run("applications", "list", "--call", f"#{bsr}") == (0, (
        header + f" 1  Hydrogen ferries     {bsr}  draft   coordinator          2026-10-15    54\n"), "")
    assert run("applications", "list", "--call", "HORIZON-CL5-2099-01") == (
        2, "", "Error: no call with id 'HORIZON-CL5-2099-01'; see `fundradar calls list`\n")

