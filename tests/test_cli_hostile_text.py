"""Scraped and typed text is data on every output: rich markup stays literal, escape sequences and control
characters never reach the terminal, and no CSV cell becomes a spreadsheet formula (OWASP rule). Through
the real CLI against a real SQLite file, exact output."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.text import csv_cell, printable
from tests.test_applications import bsr_call, sync

AS_OF = "2026-08-22T09:00+02:00"
HOSTILE = "Ports [/bold] [closed] [link=https://evil.example]x[/link] \x1b[2J\x1b[31mred\x1b[0m " \
          "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ back\x08\rend\u202e"
SHOWN = "Ports [/bold] [closed] [link=https://evil.example]x[/link] red click backend"


@pytest.fixture
def run(cli):
    def invoke(*args: str) -> tuple[int, str, str]:
        result = cli("--as-of", AS_OF, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1",
                                                    "COLUMNS": "300"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.mark.parametrize(("text", "shown"), [
    ("plain [b]x[/b]", "plain [b]x[/b]"),
    ("\x1b[2Jclear", "clear"),
    ("\x1b]8;;http://e.example\x07link\x1b]8;;\x07", "link"),
    ("\x9b31mc1", "c1"),
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("a\r\nb\tc", "a\nb\tc"),
    ("\u202egnp.exe", "gnp.exe"),
])
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://e\")", "'=HYPERLINK(\"http://e\")"), ("+1", "'+1"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("'=1", "'=1"), ("plain", "plain"), (-3, -3), (0.5, 0.5),
])
def test_csv_cell(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_hostile_call_title_in_list_show_and_csv(run, engine) -> None:
    record = bsr_call()
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__, "title": HOSTILE})])
    code, out, err = run("calls", "list", "--status", "all")
    assert (code, err) == (0, "") and "Ports [/bold] [closed]" in out
    assert "\x1b" not in out and "\r" not in out and "\x08" not in out
    code, out, err = run("calls", "show", "1")
    assert (code, err) == (0, "") and out.startswith(SHOWN + "\n") and "\x1b" not in out
    code, out, err = run("calls", "why", "1")
    assert (code, err) == (0, "") and out.startswith(f"Call 1: {SHOWN}\n") and "\x1b" not in out


def test_formula_titles_are_neutralised_in_csv(run, engine) -> None:
    record = bsr_call()
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__, "title": "=cmd|'/c calc'!A1"})])
    code, out, err = run("calls", "list", "--status", "all", "--csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split(",")[2] == "'=cmd|'/c calc'!A1"


def test_hostile_idea_and_partner_names(run, tmp_path: Path) -> None:
    assert run("ideas", "add", "Robots [/x] \x1b[31mred") == (0, "Added idea #1: Robots [/x] red\n", "")
    code, out, err = run("ideas", "list")
    assert (code, err) == (0, "") and "Robots [/x] red" in out and "\x1b" not in out
    code, out, err = run("ideas", "show", "1")
    assert (code, err) == (0, "") and out.startswith("Idea #1: Robots [/x] red\n")
    assert run("partners", "add", "[/x]=Evil", "--country", "SE", "--type", "sme") == (
        0, "Added partner #1: [/x]=Evil (SE, sme)\n", "")
    csv_file = tmp_path / "partners.csv"
    csv_file.write_text("organisation,country,type,competences\n"
                        "'=HYPERLINK(\"http://e.example\"),DK,sme,=ports;@wind\n"
                        "-Minus Org,NO,rto,\n", encoding="utf-8")
    assert run("partners", "import", str(csv_file)) == (0, f"Imported 2 partners from {csv_file}\n", "")
    code, out, err = run("partners", "list")
    assert (code, err) == (0, "") and "[/x]=Evil" in out and "'=HYPERLINK" in out
    code, out, err = run("partners", "list", "--csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        "1,[/x]=Evil,SE,sme,,unknown,",
        "2,\"'=HYPERLINK(\"\"http://e.example\"\")\",DK,sme,,unknown,'=ports; @wind",
        "3,'-Minus Org,NO,rto,,unknown,",
    ]


def test_calls_show_takes_the_id_as_tables_print_it(run, engine) -> None:
    sync(engine, "euro_access", [bsr_call()])
    code, out, err = run("calls", "show", "#1")
    assert (code, err) == (0, "") and out.startswith("Small projects: green shipping")
    assert run("calls", "show", "#2") == (2, "", "Error: no call with id '#2'; see `fundradar calls list`\n")


def test_calls_show_keeps_every_field_on_one_line(run, engine) -> None:
    """`calls show` promises one line per field (so `| grep URL` prints the URL); a programme or title
    with a newline printed a line of its own, here a fake "URL:" line."""
    record = bsr_call()
    spoof = "Interreg\nURL:             https://evil.example/"
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__, "programme": spoof,
                                                     "title": "Small\r\nprojects"})])
    code, out, err = run("calls", "show", "1")
    assert (code, err) == (0, "")
    assert out.startswith("Small projects\n")
    assert [line for line in out.splitlines() if line.startswith("URL:")] == [
        f"URL:             {record.url}"]
    assert "Programme:       Interreg URL: https://evil.example/" in out.splitlines()
