"""``calls list`` and ``calls show`` as a fundraiser acts on them: one documented order, the columns that
decide (rules, status, programme, focus), filters, a CSV that equals the view, ids and URLs never split,
Brussels time with the zone named. Exit codes and exact output, through typer's CliRunner on SQLite."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest

from pipeline.core.config import load_config
from pipeline.core.db import session_scope
from pipeline.follow import set_state
from pipeline.sync import follow_and_score
from tests.test_applications import NOW, bsr_call, seed, sync
from tests.test_newcomer_round5 import NO_FOLLOWED

AS_OF = "2026-08-22T09:00+02:00"
HEADER = "ID  Topic                      Title"


@pytest.fixture
def run(cli):
    def invoke(*args: str, columns: int = 200) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"NO_COLOR": "1", "COLUMNS": str(columns)})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.fixture
def ids(engine):
    ids = seed(engine)
    follow_and_score(engine, load_config(), NOW)
    return ids


def listed(out: str) -> list[int]:
    """The ids of a table's rows, in order."""
    return [int(line.split()[0]) for line in out.splitlines()[1:] if line[:4].strip().isdigit()]


def test_the_list_shows_rules_status_programme_and_focus_on_one_line_each(run, ids) -> None:
    assert (ids["bsr"], ids["horizon"], ids["closed"]) == (1, 3, 2)
    assert run("calls", "list", "--status", "all") == (0, "".join(line + "\n" for line in (
        "ID  Topic                      Title                                                              "
        "Programme                   Focus           Score  Rules  Status  Deadline  ",
        " 1                             Small projects: green shipping and ports in the Baltic Sea Region  "
        "Interreg Baltic Sea Region  green_maritime   1.00    ?    open    2026-10-15",
        " 3  HORIZON-CL5-2027-03-D5-05  Zero-emission waterborne transport demonstrators                   "
        "Horizon Europe              green_maritime   0.76    ✓    open    2026-11-04",
        " 2                             A call that closed                                                 "
        "Interreg North Sea                                   ✗    closed  2026-06-01")), "")


NARROW = (
    "ID  Topic                      Title          Programme  Focus           "
    "Score  Rules  Status  Deadline  ",
    " 1                             Small          Interreg   green_maritime  "
    " 1.00    ?    open    2026-10-15",
    "                               projects:      Baltic                     "
    "                                ",
    "                               green          Sea                        "
    "                                ",
    "                               shipping and   Region                     "
    "                                ",
    "                               ports in the                              "
    "                                ",
    "                               Baltic Sea                                "
    "                                ",
    "                               Region                                    "
    "                                ",
    " 3  HORIZON-CL5-2027-03-D5-05  Zero-emission  Horizon    green_maritime  "
    " 0.76    ✓    open    2026-11-04",
    "                               waterborne     Europe                     "
    "                                ",
    "                               transport                                 "
    "                                ",
    "                               demonstrators                             "
    "                                ")


@pytest.mark.parametrize("columns", [60, 80])
def test_narrow_terminal_wraps_titles_but_never_an_id(run, ids, columns: int) -> None:
    # ids, topics, focus areas, scores and dates alone need more than 80 columns here: the words of
    # titles, programmes and statuses wrap, nothing is split, and the table is that much wider
    assert run("calls", "list", columns=columns) == (0, "".join(line + "\n" for line in NARROW), "")
    assert NARROW[0].startswith(HEADER)


WIDE_HEADER = ("ID  Topic  Title                                                              "
               "Programme                   Focus           Score  Rules  Status  Deadline  ")
BSR_ROW = (" 1         Small projects: green shipping and ports in the Baltic Sea Region  "
           "Interreg Baltic Sea Region  green_maritime   1.00    ?    open    2026-10-15")


def without_focus(lines: tuple[str, ...] | list[str]) -> str:
    """The table's lines without its Focus column (the span from its header to the next column's)."""
    start, end = lines[0].index("Focus"), lines[0].index("Score")
    return "".join(line[:start] + line[end:] + "\n" for line in lines)


def test_within_alone_and_with_focus_as_the_help_says(run, ids) -> None:
    # --within: the next deadline within DAYS days (15 Oct is 54 days on, 4 Nov 74); --focus: only calls
    # scored for that area, with that area's score, and no Focus column (every row would say that area)
    assert run("calls", "list", "--within", "60") == (0, f"{WIDE_HEADER}\n{BSR_ROW}\n", "")
    assert run("calls", "list", "--focus", "green_maritime", "--within", "60") == (
        0, without_focus([WIDE_HEADER, BSR_ROW]), "")
    assert run("calls", "list", "--focus", "offshore_energy") == (0, without_focus((
        "ID  Topic                      Title                                                              "
        "Programme                   Focus            Score  Rules  Status  Deadline  ",
        " 3  HORIZON-CL5-2027-03-D5-05  Zero-emission waterborne transport demonstrators                   "
        "Horizon Europe              offshore_energy   0.44    ✓    open    2026-11-04",
        " 1                             Small projects: green shipping and ports in the Baltic Sea Region  "
        "Interreg Baltic Sea Region  offshore_energy   0.09    ?    open    2026-10-15")), "")
    assert run("calls", "list", "--focus", "offshore_energy", "--within", "60") == (0, without_focus(
        [WIDE_HEADER.replace("Focus     ", "Focus      "),
         BSR_ROW.replace("green_maritime   1.00", "offshore_energy   0.09")]), "")
    assert run("calls", "list", "--within", "10") == (0, "", "No calls match.\n")
    assert run("calls", "list", "--within", "-1") == (
        2, "", "Error: --within must be 0 to 36,500 days, got -1\n")
    help_text = " ".join(run("calls", "list", "--help")[1].split())
    assert "--within DAYS Next deadline within DAYS days." in help_text
    assert "--focus <str> Only calls scored for this focus area (its score shown)." in help_text


def test_one_order_whatever_the_filters(run, ids) -> None:
    best_first = [ids["bsr"], ids["horizon"]]
    for args in ([], ["--within", "120"], ["--focus", "green_maritime"],
                 ["--focus", "green_maritime", "--within", "120"], ["--sort", "score", "--within", "120"]):
        code, out, _ = run("calls", "list", *args)
        assert (code, listed(out)) == (0, best_first), args
    code, out, _ = run("calls", "list", "--sort", "deadline", "--focus", "green_maritime")
    assert (code, listed(out)) == (0, [ids["bsr"], ids["horizon"]])
    code, out, _ = run("calls", "list", "--status", "all", "--sort", "deadline")
    assert (code, listed(out)) == (0, [ids["bsr"], ids["horizon"], ids["closed"]])
    assert run("calls", "list", "--sort", "title") == (
        2, "", "Error: unknown --sort 'title'; use one of score, deadline, opening\n")
    code, out, _ = run("calls", "list", "--help")
    assert code == 0 and "best score first (--sort changes the order; no other option does)" in " ".join(
        out.split())


def test_opening_order_and_status_of_a_forthcoming_call(run, ids, engine) -> None:
    record = bsr_call("2027-01-19T17:00")
    later = record.__class__(**{**record.__dict__, "external_id": "ea-later", "status": "forthcoming",
                                "title": "Later call", "url": "https://www.euro-access.eu/en/calls/77",
                                "opening_date": NOW + timedelta(days=40)})
    sync(engine, "euro_access", [bsr_call(), later])
    code, out, _ = run("calls", "list", "--sort", "opening")
    assert code == 0
    later_id = listed(out)[0]
    assert listed(out) == [later_id, ids["bsr"], ids["horizon"]]  # calls without an opening date last
    assert "forthcoming 2026-10-01" in out
    code, out, _ = run("calls", "list", "--sort", "opening", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["status"] == "forthcoming" and rows[0]["opening_date_brussels"] == "2026-10-01"
    assert rows[0]["deadline_brussels"] == "2027-01-19 17:00"
    # opening dates are days: the sources give no time of day
    moved = replace(later, opening_date=NOW + timedelta(days=47))
    sync(engine, "euro_access", [bsr_call(), moved], NOW + timedelta(days=1))
    assert run("calls", "show", str(later_id)) == (0, (
        "Later call\n"
        f"ID:              {later_id}\n"
        "Source:          euro_access (ea-later)\n"
        "Programme:       Interreg Baltic Sea Region\n"
        "Status:          forthcoming (opens 8 Oct 2026)\n"
        "Type of action:  Interreg\n"
        "Deadlines:       19 Jan 2027 17:00 Brussels time\n"
        "Max per project: €500k\n"
        "URL:             https://www.euro-access.eu/en/calls/77\n"
        "First seen:      2026-08-22\n"
        "\n"
        "Small projects on hydrogen bunkering in ports, zero-emission vessels and alternative fuels for "
        "short sea shipping.\n"
        "\n"
        "Changes (Brussels time):\n"
        "  2026-08-23  opening date 1 Oct 2026 → 8 Oct 2026\n"), "")


def test_passing_min_score_and_followed(run, ids, engine) -> None:
    # ? passes (no rule failed), ✗ does not
    assert run("calls", "list", "--status", "all", "--passing") == (0, "".join(line + "\n" for line in (
        "ID  Topic                      Title                                                              "
        "Programme                   Focus           Score  Rules  Status  Deadline  ",
        " 1                             Small projects: green shipping and ports in the Baltic Sea Region  "
        "Interreg Baltic Sea Region  green_maritime   1.00    ?    open    2026-10-15",
        " 3  HORIZON-CL5-2027-03-D5-05  Zero-emission waterborne transport demonstrators                   "
        "Horizon Europe              green_maritime   0.76    ✓    open    2026-11-04")), "")
    assert run("calls", "list", "--min-score", "0.9") == (0, f"{WIDE_HEADER}\n{BSR_ROW}\n", "")
    assert run("calls", "list", "--min-score", "2")[0] == 2
    assert run("calls", "list", "--followed") == (0, "", NO_FOLLOWED)
    with session_scope(engine) as session:
        set_state(session, load_config().strategy.name, ids["horizon"], "follow", NOW)
    code, out, _ = run("calls", "list", "--followed")
    assert (code, listed(out)) == (0, [ids["horizon"]])


def test_csv_is_the_filtered_view_with_urls_and_brussels_deadlines(run, ids) -> None:
    for args in ([], ["--passing"], ["--status", "all"], ["--sort", "deadline", "--top", "1"],
                 ["--focus", "offshore_energy"], ["--within", "60"], ["--min-score", "0.5", "--top", "1"],
                 ["--status", "all", "--sort", "opening"]):
        code, table, _ = run("calls", "list", *args)
        code_csv, out, err = run("calls", "list", *args, "--csv")
        assert (code, code_csv, err) == (0, 0, "")
        assert [int(r["id"]) for r in csv.DictReader(io.StringIO(out))] == listed(table), args
    code, out, _ = run("calls", "list", "--csv")
    assert out == (
        "id,topic_id,title,programme,status,opening_date_brussels,focus_area,score,rules,deadline_brussels,url\n"
        f"{ids['bsr']},,Small projects: green shipping and ports in the Baltic Sea Region,"
        "Interreg Baltic Sea Region,open,,green_maritime,1.0,unknown,2026-10-15 12:00,"
        "https://www.euro-access.eu/en/calls/1234\n"
        f"{ids['horizon']},HORIZON-CL5-2027-03-D5-05,Zero-emission waterborne transport demonstrators,"
        "Horizon Europe,open,,green_maritime,0.762837,passed,2026-11-04 17:00,\n")


def test_show_in_brussels_time_with_a_readable_history(run, ids, engine) -> None:
    sync(engine, "euro_access", [bsr_call("2026-09-30T17:00")], NOW + timedelta(days=1))
    code, out, err = run("calls", "show", f"#{ids['bsr']}", columns=40)
    assert (code, err) == (0, "")
    assert out == (
        "Small projects: green shipping and ports in the Baltic Sea Region\n"
        f"ID:              {ids['bsr']}\n"
        "Source:          euro_access (ea-bsr-small-2026)\n"
        "Programme:       Interreg Baltic Sea Region\n"
        "Status:          open\n"
        "Type of action:  Interreg\n"
        "Deadlines:       30 Sep 2026 17:00 Brussels time\n"
        "Max per project: €500k\n"
        "URL:             https://www.euro-access.eu/en/calls/1234\n"
        "First seen:      2026-08-22\n"
        "\n"
        "Small projects on hydrogen bunkering in ports, zero-emission vessels and alternative fuels for "
        "short sea shipping.\n"
        "\n"
        "Changes (Brussels time):\n"
        "  2026-08-23  deadline moved 15 Oct 2026 12:00 → 30 Sep 2026 17:00\n")
    [url] = [line for line in out.splitlines() if "URL" in line]
    assert url.split()[-1] == "https://www.euro-access.eu/en/calls/1234"


def test_show_says_once_that_every_closing_time_was_assumed(run, ids, engine) -> None:
    from tests.test_applications import brussels, horizon_call
    from watcher.records import Deadline

    day_only = replace(horizon_call(), external_id="day-only", topic_id="HORIZON-DAY-ONLY",
                       deadlines=(Deadline(brussels("2026-11-04T17:00"), time_assumed=True),))
    mixed = replace(horizon_call(), external_id="mixed", topic_id="HORIZON-MIXED", deadlines=(
        Deadline(brussels("2026-11-04T17:00"), time_assumed=True), Deadline(brussels("2027-03-10T17:00"))))
    sync(engine, "eu_ft", [horizon_call(), day_only, mixed])
    shown = {}
    for topic in ("HORIZON-DAY-ONLY", "HORIZON-MIXED"):
        code, out, err = run("calls", "show", topic)
        assert (code, err) == (0, "")
        [shown[topic]] = [line for line in out.splitlines() if line.startswith("Deadlines:")]
    assert shown == {
        "HORIZON-DAY-ONLY": "Deadlines:       4 Nov 2026 17:00 Brussels time (time assumed: the source gives "
                            "only the day)",
        "HORIZON-MIXED": "Deadlines:       4 Nov 2026 17:00 (time assumed), 10 Mar 2027 17:00 Brussels time"}


def test_a_table_wider_than_the_terminal_gives_the_room_to_the_title(run, ids) -> None:
    # at 130 columns the rows do not fit on one line each: the programme (and the status) wrap at their
    # narrow widths first, so the title keeps the room a reader needs; ids and topics stay whole
    assert run("calls", "list", columns=130) == (0, "".join(line + "\n" for line in (
        "ID  Topic                      Title                          Programme           Focus           "
        "Score  Rules  Status  Deadline  ",
        " 1                             Small projects: green          Interreg Baltic     green_maritime  "
        " 1.00    ?    open    2026-10-15",
        "                               shipping and ports in the      Sea Region                          "
        "                                ",
        "                               Baltic Sea Region                                                  "
        "                                ",
        " 3  HORIZON-CL5-2027-03-D5-05  Zero-emission waterborne       Horizon Europe      green_maritime  "
        " 0.76    ✓    open    2026-11-04",
        "                               transport demonstrators                                            "
        "                                ")), "")


def test_show_tells_money_and_rate_changes_in_euros_and_percent(run, ids, engine) -> None:
    """The history said "budget: 3000000.0 → 6000000.0" (the stored floats)."""
    changed = replace(bsr_call(), budget=6_000_000, max_contribution=750_000, funding_rate=0.8)
    first = replace(bsr_call(), budget=3_000_000, funding_rate=0.65)
    sync(engine, "euro_access", [first], NOW + timedelta(days=1))
    sync(engine, "euro_access", [changed], NOW + timedelta(days=2))
    code, out, err = run("calls", "show", f"#{ids['bsr']}")
    assert (code, err) == (0, "")
    assert out.split("Changes (Brussels time):\n")[1] == (
        "  2026-08-23  budget: none → EUR 3,000,000\n"
        "  2026-08-23  funding rate: none → 65 %\n"
        "  2026-08-24  budget: EUR 3,000,000 → EUR 6,000,000\n"
        "  2026-08-24  max contribution: EUR 500,000 → EUR 750,000\n"
        "  2026-08-24  funding rate: 65 % → 80 %\n")


def test_a_topic_id_in_another_case_finds_its_call(run, ids) -> None:
    """A topic id copied from a portal link ("topic-details/horizon-cl5-2027-03-d5-05") was "no call"."""
    code, out, err = run("calls", "show", "horizon-cl5-2027-03-d5-05")
    assert (code, err) == (0, "") and out.startswith("Zero-emission waterborne transport demonstrators\n"
                                                     f"ID:              {ids['horizon']}\n")
    assert run("calls", "show", "horizon-cl5-2027-03-d5-99") == (
        2, "", "Error: no call with id 'horizon-cl5-2027-03-d5-99'; see `fundradar calls list`\n")


def test_show_says_a_call_is_missing_from_its_source(run, ids, engine) -> None:
    """A call its source's complete answer no longer listed showed as any open call, until the next
    answer removed it."""
    from watcher.store import begin_run, finish_run

    for day, records in ((1, [bsr_call(), replace(bsr_call(), external_id="other")]), (2, [bsr_call()])):
        when = NOW + timedelta(days=day)
        finish_run(engine, begin_run(engine, "euro_access", when), records, when, complete=True)
    code, out, _ = run("calls", "show", "other")
    assert code == 0 and "First seen:      2026-08-23\nMissing since:   2026-08-24 (not in its source's " \
        "complete answer; removed if the next one lacks it too)\n" in out
    code, out, _ = run("calls", "show", "other", "--json")
    assert code == 0 and '"missing_since": "2026-08-24T' in out
    code, out, _ = run("calls", "show", f"#{ids['bsr']}")
    assert code == 0 and "Missing" not in out


def test_a_deadline_whose_time_the_source_now_gives_did_not_move(run, ids, engine) -> None:
    """The history said "deadline moved 30 Sep 2026 17:00 (time assumed) → 30 Sep 2026 17:00"."""
    from tests.test_applications import brussels
    from watcher.records import Deadline

    day_only = replace(bsr_call(), deadlines=(Deadline(brussels("2026-09-30T17:00"), time_assumed=True),))
    sync(engine, "euro_access", [day_only], NOW + timedelta(days=1))
    sync(engine, "euro_access", [bsr_call("2026-09-30T17:00")], NOW + timedelta(days=2))
    code, out, _ = run("calls", "show", f"#{ids['bsr']}")
    assert code == 0 and out.split("Changes (Brussels time):\n")[1] == (
        "  2026-08-23  deadline moved 15 Oct 2026 12:00 → 30 Sep 2026 17:00 (time assumed)\n"
        "  2026-08-24  deadline time given: 30 Sep 2026 17:00\n")
