"""An application not submitted yet whose call's deadline has passed is overdue: `deadlines` lists it
flagged (before, it vanished from the listing the day after its deadline), `applications list` and
`show` say so, and a submitted one past its deadline is simply waiting for the decision."""

from __future__ import annotations

import json

import pytest

from tests.test_applications import seed

AS_OF = "2026-08-22T09:00+02:00"  # the closed call's deadline, 2026-06-01 12:00 Brussels, 82 days ago


@pytest.fixture
def run(cli):
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.fixture
def ids(engine, run):
    ids = seed(engine)
    assert run("applications", "add", "1", str(ids["closed"]))[0] == 0  # 1: still in writing
    for status in ("consortium", "writing"):
        assert run("applications", "move", "1", status)[0] == 0
    assert run("applications", "add", "1", str(ids["bsr"]))[0] == 0  # 2: due in 54 days
    return ids


def test_deadlines_lists_an_overdue_application_first_and_flagged(run, ids) -> None:
    assert run("deadlines", "--weeks", "12") == (0, (
        "What  ID  Title             Deadline (Brussels)  Days  Status          \n"
        "app    1  Hydrogen ferries  2026-06-01 12:00      -82  writing, overdue\n"
        "app    2  Hydrogen ferries  2026-10-15 12:00       54  draft           \n"), "")
    code, out, _ = run("deadlines", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["id"], r["status"], r["days_left"], r["overdue"]) for r in rows] == [
        (1, "writing", -82, True), (2, "draft", 54, False)]


def test_a_submitted_application_past_its_deadline_is_not_overdue(run, ids) -> None:
    assert run("applications", "move", "1", "submitted")[0] == 0
    assert run("deadlines", "--weeks", "12") == (0, (
        "What  ID  Title             Deadline (Brussels)  Days  Status\n"
        "app    2  Hydrogen ferries  2026-10-15 12:00       54  draft \n"), "")
    code, out, _ = run("applications", "list", "--json")
    assert code == 0 and [r["overdue"] for r in json.loads(out)] == [False, False]


def test_applications_list_and_show_say_overdue(run, ids) -> None:
    code, out, _ = run("applications", "list")
    assert code == 0 and out.splitlines()[1:3] == [
        f" 1  Hydrogen ferries     {ids['closed']}  writing  coordinator          2026-06-01  overdue",
        f" 2  Hydrogen ferries     {ids['bsr']}  draft    coordinator          2026-10-15       54",
    ], out
    code, out, _ = run("applications", "list", "--json")
    assert code == 0 and [(r["days_left"], r["overdue"]) for r in json.loads(out)] == [
        (None, True), (54, False)]
    code, out, _ = run("applications", "show", "1")
    assert code == 0 and "Deadline:  2026-06-01 12:00 Brussels (overdue: passed 82 days ago)\n" in out, out


def test_pipeline_report_names_the_overdue_applications(run, ids) -> None:
    code, out, _ = run("pipeline", "report")
    assert code == 0 and out.splitlines()[2:4] == [
        "Overdue: 1 not submitted by their call's deadline (#1); submit or withdraw them",
        "Success rate: n/a (0 granted of 0 decided)"], out
    code, out, _ = run("pipeline", "report", "--json")
    assert code == 0 and json.loads(out)["overdue"] == [1]
    assert run("applications", "move", "1", "withdrawn")[0] == 0
    code, out, _ = run("pipeline", "report")
    assert code == 0 and "Overdue" not in out
    assert json.loads(run("pipeline", "report", "--json")[1])["overdue"] == []


@pytest.mark.parametrize("as_of, words", [("2026-06-01T19:30+02:00", "passed 7 hours ago"),
                                          ("2026-06-01T12:20+02:00", "passed less than an hour ago"),
                                          ("2026-06-02T12:00+02:00", "passed 1 day ago")])
def test_show_says_how_long_ago_within_the_first_day(cli, ids, as_of: str, words: str) -> None:
    result = cli("--as-of", as_of, "applications", "show", "1", env={"NO_COLOR": "1"})
    assert result.exit_code == 0 and f"Deadline:  2026-06-01 12:00 Brussels (overdue: {words})\n" in \
        result.stdout, result.stdout


def test_deadlines_flags_overdue_on_postgresql(cli, pg_url: str) -> None:
    from pipeline.core.db import open_database

    engine = open_database(pg_url)
    try:
        closed = seed(engine)["closed"]
    finally:
        engine.dispose()
    at = ("--db", pg_url, "--as-of", AS_OF)
    assert cli(*at, "applications", "add", "1", str(closed)).exit_code == 0
    result = cli(*at, "deadlines", "--json")
    assert result.exit_code == 0
    assert [(r["id"], r["days_left"], r["overdue"]) for r in json.loads(result.stdout)] == [(1, -82, True)]
