"""Scraped text in the log lines a sync writes to stderr: escape sequences and bidi overrides a source
sends never reach the terminal through a warning (tables and error lines drop them already, and so
must the log handler)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.localserver import LocalServer, Reply

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "strategy.example.yaml"
HOSTILE = "\x1b[31mred\u202eevil\x1b[2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"


def _config(tmp_path: Path, url: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "https://interreg.no/?post_type=tribe_events&ical=1&eventDisplay=list", url)
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_calendar_quoted_in_the_warning_log_line_is_made_printable(tmp_path: Path,
                                                                           server: LocalServer) -> None:
    # an event never closed: icalendar's complaint quotes the file's first lines, hostile text included
    body = f"BEGIN:VCALENDAR\r\nPRODID:{HOSTILE}\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VCALENDAR\r\n".encode()
    server.route("GET", "/calendar.ics", lambda request: Reply(200, body, {"Content-Type": "text/calendar"}))
    config = _config(tmp_path, server.url("/calendar.ics"))
    for verbosity in ([], ["-v"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.cli.main", "--config", str(config), "--db",
             str(tmp_path / "f.db"), *verbosity, "sync", "--source", "interreg_no_calendar"],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.splitlines()
        warning = next(line for line in lines if "source interreg_no_calendar failed" in line)
        assert "not a valid iCalendar file" in warning and "red" in warning
        assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr, repr(proc.stderr)
        assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
