"""Scraped text on its way out, sixth round: what earlier rounds left open. Through the real CLI
against a real SQLite file, exact output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.text import csv_cell, printable
from tests.localserver import LocalServer, Reply
from tests.test_applications import bsr_call, seed, sync

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "strategy.example.yaml"
FIXTURES = ROOT / "tests" / "fixtures"

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


def test_unicode_line_separators_are_line_breaks_to_the_terminal() -> None:
    assert printable("ports\u2028wind\u2029hydrogen\x85end") == "ports\nwind\nhydrogenend"


def _calendar_with_a_forged_log_line(line_break: str = "\\n") -> bytes:
    """The recorded interreg.no calendar (tests/fixtures/ical) with one event whose UID (an iCal text
    value, where ``\\n`` is a line break) carries a log line of its own, and whose summary is too long
    to store, so the run names the skipped event by its UID in its log line."""
    calendar = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_text(encoding="utf-8")
    start = calendar.index("BEGIN:VEVENT")
    event = calendar[start:calendar.index("END:VEVENT") + len("END:VEVENT")]
    event = (event.replace("UID:18098-1710921600-1717675200@interreg.no",
                           f"UID:evil{line_break}ERROR fundradar.sync: source eu_ft failed: forged")
             .replace("20240320T080000", "20260820T080000").replace("20240606T120000", "20261206T120000")
             .replace("SUMMARY:Interreg Aurora: Utlysning av hovedprosjekter 2024",
                      "SUMMARY:Interreg Aurora: " + "x" * 25_000))
    return f"{calendar[:start]}{event}\r\nEND:VCALENDAR\r\n".encode()


@pytest.mark.parametrize("line_break", ["\\n", "\u2028", "\u2029"])
def test_a_line_break_in_scraped_text_forges_no_log_line(tmp_path: Path, server: LocalServer,
                                                         line_break: str) -> None:
    """Every line a log record writes after its first is indented, so no scraped text (nor an
    exception's message) can put a line in the log that passes for a record of its own; Unicode's line
    and paragraph separators (a line break to log viewers and str.splitlines) are line breaks too."""
    body = _calendar_with_a_forged_log_line(line_break)
    server.route("GET", "/calendar.ics", lambda request: Reply(200, body, {"Content-Type": "text/calendar"}))
    config = tmp_path / "strategy.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        "https://interreg.no/?post_type=tribe_events&ical=1&eventDisplay=list", server.url("/calendar.ics")),
        encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "--config", str(config), "--db", str(tmp_path / "f.db"),
         "--as-of", AS_OF, "-v", "sync", "--source", "interreg_no_calendar"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\u2028" not in proc.stderr and "\u2029" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert [line for line in lines if line.startswith("ERROR")] == []
    at = next(i for i, line in enumerate(lines) if line.startswith("INFO pipeline.sync: source interreg_no"))
    assert lines[at].endswith("(1 malformed record(s) skipped: evil")
    assert lines[at + 1] == ("  ERROR fundradar.sync: source eu_ft failed: forged: title has 25,000 "
                             "characters, more than 20,000)")


def test_a_typed_text_that_is_not_utf8_is_a_usage_error(run, engine, tmp_path: Path) -> None:
    """A byte that is not UTF-8 in an argument (a Latin-1 terminal's "ø", 0xf8) reaches Python as a
    lone surrogate, which no database can store: `ideas add` failed with a UnicodeEncodeError
    traceback. Such a text is now refused before anything is written, naming it and what to do."""
    hint = ("is not UTF-8 text (byte 0xf8 in 'Gr\ufffdn shipping'); set the terminal to UTF-8 "
            "(LANG=da_DK.UTF-8, for one) and type it again\n")
    code, out, err = run("ideas", "add", "Gr\udcf8n shipping")
    assert (code, out) == (2, "") and err.startswith("Usage: "), err
    assert err.endswith(f"\n\nError: title {hint}"), err
    code, out, err = run("partners", "add", "RISE", "--country", "SE", "--type", "sme",
                         "--competence", "hydrogen", "--competence", "Gr\udcf8n")
    assert (code, out) == (2, "") and err.endswith(
        "Error: --competence " + hint.replace("Gr\ufffdn shipping", "Gr\ufffdn")), err
    assert run("ideas", "list") == (0, "", "No ideas yet; add one with `fundradar ideas add TITLE`.\n")
    # a file name is not text: any bytes the file system has are a name
    code, out, err = run("partners", "import", str(tmp_path / "Gr\udcf8n.csv"))
    assert code == 2 and "not UTF-8" not in err


def test_a_user_name_from_the_environment_that_is_not_utf8_is_a_usage_error(cli, engine) -> None:
    """FUNDRADAR_USER names who acts; set by a Latin-1 shell profile ("J\\xf8rgen") it reached the
    database as a lone surrogate and `applications add` failed with a UnicodeEncodeError traceback."""
    ids = seed(engine)
    result = cli("--as-of", AS_OF, "applications", "add", str(ids["idea"]), str(ids["bsr"]),
                 env={"FUNDRADAR_USER": "J\udcf8rgen", "NO_COLOR": "1"})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: FUNDRADAR_USER is not UTF-8 text (byte 0xf8 in 'J\ufffdrgen'); "
                             "write it in UTF-8\n")


def test_a_programme_label_in_brackets_is_text_on_the_progress_bar(monkeypatch, capsys) -> None:
    """The progress bar of a sync on a terminal names the query being read, a programme's label of the
    config; rich read it as markup, so "Horizon Europe [/cluster 5]" stopped the sync with a
    MarkupError and "[bold]" restyled the line."""
    from pipeline.cli.common import source_progress
    from pipeline.sync import Progress

    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # stderr a terminal, as rich reads it
    with source_progress() as update:
        update(Progress("eu_ft", "Horizon Europe [/cluster 5] [bold]x", 1, 2))
    assert "eu_ft: Horizon Europe [/cluster 5] [bold]x" in capsys.readouterr().err


def test_a_webhook_at_an_address_of_its_own_never_reaches_the_log(cli, engine, caplog) -> None:
    """A webhook URL is the credential itself; one of a relay or a proxy (not hooks.slack.com, nor a
    /services/T…/B…/ path) was written whole by slack_sdk's -vv request log and its retry lines. The
    values of the Slack variables read are now redacted wherever they appear."""
    import logging

    from tests.slack_data import CONFIG, NOW, add_application, add_call

    caplog.set_level(logging.DEBUG)
    call = add_call(engine, 2, days=2)
    add_application(engine, call, idea="Port electrification")
    hook = "http://127.0.0.1:1/relay/hook-Zq8relaysecret"  # nothing listens on port 1: refused at once
    result = cli("--config", str(CONFIG), "--as-of", NOW.isoformat(), "-vv", "alerts",
                 env={"SLACK_WEBHOOK_URL": hook})
    assert result.exit_code == 1, result.stderr
    assert any(r.name.startswith("slack_sdk") and "[redacted]" in r.getMessage() for r in caplog.records)
    assert "Zq8relaysecret" not in caplog.text + result.stdout + result.stderr


@pytest.mark.parametrize(("line", "shown"), [
    ("proxy http://anna:p@ss@proxy.example:8080 failed",
     "proxy http://anna:[redacted]@proxy.example:8080 failed"),
    ("postgresql+psycopg://u:s3@cr3t@127.0.0.1:5432/x", "postgresql+psycopg://u:[redacted]@127.0.0.1:5432/x"),
    ("http://u:pw@host/a@b and c@d", "http://u:[redacted]@host/a@b and c@d"),
])
def test_a_password_written_with_an_at_sign_is_redacted_whole(line: str, shown: str) -> None:
    """A password with an "@" left unencoded (HTTPS_PROXY=http://anna:p@ss@proxy…) is read up to the
    host's "@"; the redaction stopped at the first one and logged the rest of the password."""
    from pipeline.core.redact import redact

    assert redact(line) == shown
