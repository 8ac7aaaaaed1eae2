"""What a newcomer meets walking the README and every `--help` on a fresh clone (round six), each on a
real SQLite file through the real CLI."""

from __future__ import annotations

import pytest

from tests.test_applications import bsr_call, sync


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [("calls", "list"), ("deadlines",), ("sources", "status"),
                                     ("ideas", "list"), ("pipeline", "report")])
def test_json_and_csv_together_are_refused(cli, engine, command: tuple[str, ...]) -> None:
    """`calls list --json --csv` printed JSON and said nothing of the --csv it ignored: a script asking
    for both got one of them without knowing which."""
    sync(engine, "euro_access", [bsr_call()])
    code, out, err = _run(cli, *command, "--json", "--csv")
    prog = err.split()[1]  # the test runner's program name, fundradar when installed
    path = " ".join([prog, *command])
    assert (code, out, err) == (
        2,
        "",
        f"Usage: {path} [OPTIONS]\nTry '{path} --help' for help.\n\n"
        "Error: --json and --csv are two formats of the same output; give one of them\n",
    )


def test_a_chart_into_a_folder_that_is_not_there_is_refused(cli, engine, tmp_path) -> None:
    """`strategy report --png nowhere/chart.png` made the folder `nowhere` (and every missing folder
    above it) for a mistyped path, where `export ical` refuses such a path; a folder given as the file
    was told to name a file "such as deadlines.ics"."""
    sync(engine, "euro_access", [bsr_call()])
    missing = tmp_path / "nowhere" / "deeper"
    assert _run(cli, "strategy", "report", "--png", str(missing / "chart.png")) == (
        2,
        "",
        f"Error: folder {missing} does not exist; create it or give a file in an existing folder\n",
    )
    assert not (tmp_path / "nowhere").exists()
    folder = tmp_path / "charts.png"
    folder.mkdir()
    assert _run(cli, "strategy", "report", "--png", str(folder)) == (
        2,
        "",
        f"Error: {folder} is a folder; give a file name such as strategy-report.png\n",
    )


def test_the_digest_writes_its_days_as_its_calls_do(cli, engine) -> None:
    """The digest's period and source line wrote "01 Sep 2026 08:00 – 02 Sep 2026 08:00" and "failing
    since 02 Sep 07:00" above call lines that say "closes 15 Oct 2026": one message, two ways of writing a
    day. Every day is now written without a leading zero."""
    from datetime import UTC, datetime

    from watcher.store import begin_run, fail_run

    sync(engine, "euro_access", [bsr_call()], now=datetime(2026, 9, 1, 5, 0, tzinfo=UTC))
    failed = datetime(2026, 9, 2, 5, 0, tzinfo=UTC)
    fail_run(engine, begin_run(engine, "eu_ft", failed, type_="eu_ft"), "cannot fetch", failed)
    code, out, _ = _run(cli, "--as-of", "2026-09-02T08:00+02:00", "digest", "--dry-run",
                        "--channel", "#energy-projects")
    lines = out.splitlines()
    assert code == 0
    assert lines[2].startswith("1 Sep 2026 08:00 – 2 Sep 2026 08:00 (Europe/Copenhagen) · "), lines[2]
    assert lines[3].startswith("Sources: 1 of 5 fine · eu_ft failing since 2 Sep 07:00 (1 run; last good "
                               "never)"), lines[3]


def test_a_wide_terminal_keeps_a_title_on_one_line(cli, engine) -> None:
    """On a 120-column terminal `applications list` split the README's idea "Floating wind O&M robots"
    over two lines (its Idea column was capped at 18 characters whatever the width), and so did
    `ideas list`, `deadlines` and `partners list` their titles and names; the caps now apply only when
    the table does not fit the terminal."""
    sync(engine, "euro_access", [bsr_call()])
    wide = {"NO_COLOR": "1", "COLUMNS": "120"}
    at = ("--as-of", "2026-08-22T09:00+02:00")
    assert cli(*at, "ideas", "add", "Floating wind O&M robots and drones", "--focus", "green_maritime",
               "--owner", "mette-louise", env=wide).exit_code == 0
    assert cli(*at, "partners", "add", "RISE Research Institutes of Sweden AB", "--country", "SE",
               "--type", "rto", env=wide).exit_code == 0
    added = cli(*at, "applications", "add", "1", "ea-bsr-small-2026", "--partner", "1", env=wide)
    assert added.exit_code == 0
    listed = cli(*at, "applications", "list", env=wide)
    assert listed.stdout == (
        "ID  Idea                                 Call  Status  Role         Amount  Deadline    Days\n"
        " 1  Floating wind O&M robots and drones     1  draft   coordinator          2026-10-15    54\n")
    ideas = cli(*at, "ideas", "list", env=wide)
    assert ideas.stdout == (
        "ID  Title                                Status  Focus areas     Countries  Owner       \n"
        " 1  Floating wind O&M robots and drones  idea    green_maritime             mette-louise\n")
    partners = cli(*at, "partners", "list", env=wide)
    assert partners.stdout.splitlines()[1].startswith(" 1  RISE Research Institutes of Sweden AB  SE ")
    deadlines = cli(*at, "deadlines", env=wide)
    assert deadlines.stdout.splitlines()[1].startswith("app    1  Floating wind O&M robots and drones  ")


def test_deadlines_of_zero_weeks_is_what_is_overdue(cli, engine) -> None:
    """`deadlines --help` says `--weeks` takes 0 to 520 (`[0<=x<=520]`, and `--weeks nan` is told "give
    one from 0 to 520"), but `--weeks 0` was refused as "must be more than zero". Zero weeks ahead is
    now what it reads as: only what is already overdue."""
    from tests.test_applications import seed

    ids = seed(engine)
    assert _run(cli, "applications", "add", "1", str(ids["closed"]))[0] == 0  # its deadline has passed
    assert _run(cli, "applications", "add", "1", str(ids["bsr"]))[0] == 0  # due in 54 days
    assert _run(cli, "deadlines", "--weeks", "0") == (0, (
        "What  ID  Title             Deadline (Brussels)  Days  Status        \n"
        "app    1  Hydrogen ferries  2026-06-01 12:00      -82  draft, overdue\n"), "")
    assert _run(cli, "applications", "move", "1", "withdrawn")[0] == 0
    assert _run(cli, "deadlines", "--weeks", "0") == (0, "", "Nothing overdue.\n")


def test_a_closed_call_shows_the_deadline_it_closed_on(cli, engine) -> None:
    """`calls list --status closed` left the Deadline column (and the CSV's deadline_brussels) empty for
    every row: it showed the next deadline, which a closed call no longer has. A call with no deadline
    ahead now shows its last one."""
    from tests.test_applications import closed_call

    sync(engine, "euro_access", [bsr_call(), closed_call()])
    code, out, _ = _run(cli, "calls", "list", "--status", "all")
    deadlines = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]
                 if line.split() and line.split()[0].isdigit()}
    assert (code, deadlines) == (0, {"1": "2026-10-15", "2": "2026-06-01"})
    code, out, _ = _run(cli, "calls", "list", "--status", "closed", "--csv")
    assert code == 0 and out.splitlines()[1].split(",")[9] == "2026-06-01 12:00"


def test_a_granted_amount_before_the_grant_is_told_the_steps_that_work(cli, engine) -> None:
    """`applications edit 1 --granted 5` on an application still in consortium was told to record it with
    `applications move 1 granted --granted AMOUNT`, which the workflow then refused (consortium cannot
    move to granted); a rejected one was sent to the same command, which can never work."""
    from tests.test_applications import seed

    seed(engine)
    assert _run(cli, "applications", "add", "1", "ea-bsr-small-2026")[0] == 0
    assert _run(cli, "applications", "move", "1", "consortium")[0] == 0
    assert _run(cli, "applications", "edit", "1", "--granted", "400000") == (
        2, "", "Error: application #1 is consortium, not granted; a granted amount is recorded once it is "
               "submitted and granted: `fundradar applications move 1 granted --granted AMOUNT` after "
               "`fundradar applications move 1 submitted`\n")
    for status in ("writing", "submitted"):
        assert _run(cli, "applications", "move", "1", status)[0] == 0
    assert _run(cli, "applications", "edit", "1", "--granted", "400000") == (
        2, "", "Error: application #1 is submitted, not granted; a granted amount is recorded with "
               "`fundradar applications move 1 granted --granted AMOUNT`\n")
    assert _run(cli, "applications", "move", "1", "rejected")[0] == 0
    assert _run(cli, "applications", "edit", "1", "--granted", "400000") == (
        2, "", "Error: application #1 is rejected, not granted; a rejected application has no granted "
               "amount\n")


def test_config_check_names_the_file_as_its_warnings_do(cli, engine) -> None:
    """`config check` without --config printed its warnings as `config/strategy.example.yaml:22: …` and
    then `/home/…/config/strategy.example.yaml: OK`: the same file by two names."""
    from pathlib import Path

    sync(engine, "euro_access", [bsr_call()])
    code, out, err = _run(cli, "config", "check")
    example = Path(__file__).resolve().parent.parent / "config" / "strategy.example.yaml"
    shown = str(example.relative_to(Path.cwd())) if example.is_relative_to(Path.cwd()) else str(example)
    assert code == 0 and out.splitlines()[0] == f"{shown}: OK"
    assert err.splitlines()[0].startswith(f"Warning: {shown}:")


def test_calls_list_of_a_source_that_is_not_there_says_so(cli, engine) -> None:
    """`calls list --source eu-ft` (the source is eu_ft) answered "No calls match." with exit 0, as if the
    source had no open call, where `sync --source eu-ft` names the sources there are. A configured source
    that has stored nothing yet still lists nothing, and a source no longer configured its stored calls."""
    sync(engine, "retired_feed", [bsr_call()])
    assert _run(cli, "calls", "list", "--source", "eu-ft") == (
        2, "", "Error: no source named 'eu-ft' is configured or has stored calls; the sources are eu_ft, "
               "euro_access, innovation_express, interreg_bsr_news, interreg_no_calendar, retired_feed "
               "(see `fundradar sources list`)\n")
    assert _run(cli, "calls", "list", "--source", "eu_ft", "--json") == (0, "[]\n", "")
    assert _run(cli, "calls", "list", "--source", "retired_feed", "--status", "closed") == (
        0, "", "No calls match.\n")


def test_sources_status_csv_gives_the_time_the_table_shows(cli, engine) -> None:
    """`sources status` showed a run at 2026-08-22 10:00 (Brussels) and its CSV the same run as
    2026-08-22T08:00:00+00:00, where every other CSV gives its times in Brussels time as its table does."""
    from datetime import UTC, datetime

    sync(engine, "euro_access", [bsr_call()], now=datetime(2026, 8, 22, 8, 0, tzinfo=UTC))
    code, table, _ = _run(cli, "sources", "status")
    assert code == 0 and any(line.startswith("euro_access") and "2026-08-22 10:00" in line
                             for line in table.splitlines())
    code, out, _ = _run(cli, "sources", "status", "--csv")
    euro_access = next(line for line in out.splitlines() if line.startswith("euro_access,"))
    assert code == 0 and euro_access.split(",")[1] == "2026-08-22T10:00:00+02:00"
