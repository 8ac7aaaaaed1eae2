"""A scraped title or programme name holding a line break is shown on the line of the field that quotes
it: a person (or `grep`) reading `calls why`, `calls show` or `applications show` must not see a forged
line of its own. Through the real CLI against a real SQLite file, exact output."""

from __future__ import annotations

import pytest

from tests.test_applications import bsr_call, seed, sync

AS_OF = "2026-08-22T09:00+02:00"
HOSTILE = "Ports [bold red]x[/] \x1b[31mred\x1b[0m <!channel> &amp;\r\nRules: passed\rX\u202e"
SHOWN = "Ports [bold red]x[/] red <!channel> &amp; Rules: passedX"


@pytest.fixture
def run(cli):
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1",
                                                    "COLUMNS": "300"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


def _hostile(engine) -> dict[str, int]:
    ids = seed(engine)
    record = bsr_call()
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__, "title": HOSTILE,
                                                     "programme": HOSTILE})])
    return ids


def test_calls_why_keeps_a_scraped_title_and_programme_on_their_lines(run, engine) -> None:
    ids = _hostile(engine)
    code, out, err = run("calls", "why", str(ids["bsr"]))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Call {ids['bsr']}: {SHOWN}"
    assert [line for line in lines if line.startswith("Rules:")] == [
        "Rules: none failed, unknown (success_rate, funding_rate, eligible_country)"]
    assert f"  unknown  eligible_country programme {SHOWN} not in config/funding_rules.yaml; " \
           "eligibility unknown" in lines


def test_applications_show_keeps_the_linked_call_on_its_lines(run, engine) -> None:
    ids = _hostile(engine)
    assert run("applications", "add", str(ids["idea"]), str(ids["bsr"]))[0] == 0
    code, out, err = run("applications", "show", "1")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:4] == [f"Call:      #{ids['bsr']} {SHOWN}", f"Programme: {SHOWN}",
                                     "Status:    draft"]


def test_calls_show_keeps_a_changed_title_on_its_change_line(run, engine) -> None:
    ids = _hostile(engine)
    code, out, err = run("calls", "show", str(ids["bsr"]))
    assert (code, err) == (0, "")
    changes = out.split("Changes (Brussels time):\n")[1].splitlines()
    assert changes == [
        "  2026-08-22  title: Small projects: green shipping and ports in the Baltic Sea Region → "
        f"{SHOWN}",
        "  2026-08-22  programme: Interreg Baltic Sea Region → " + SHOWN,
    ]


def test_the_calendar_keeps_a_scraped_title_on_its_line(run, engine, tmp_path) -> None:
    import icalendar

    ids = _hostile(engine)
    assert run("applications", "add", str(ids["idea"]), str(ids["bsr"]))[0] == 0
    path = tmp_path / "deadlines.ics"
    assert run("export", "ical", str(path)) == (0, f"Wrote 1 deadline to {path}\n", "")
    shown = SHOWN.replace("passedX", "passed X")  # the calendar reads a lone CR as a line break
    [event] = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Deadline: Hydrogen ferries → {shown}"
    assert str(event["DESCRIPTION"]).splitlines() == [
        f"Application #1 (draft, coordinator) to call #{ids['bsr']}: {shown}", f"Programme: {shown}"]
