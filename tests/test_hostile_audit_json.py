"""--json output on a terminal: a scraped title's C1 controls (an 8-bit CSI), DEL and bidi overrides
are written as JSON escapes, so the terminal never acts on them and a JSON reader gets the title as
stored (json.dumps escapes only the C0 controls)."""

from __future__ import annotations

import json

from tests.test_applications import bsr_call, sync

AS_OF = "2026-08-22T09:00+02:00"
TITLE = "Ports \x9b2J\x9b31mred \x7f \u202egnp.exe \u2066x\u2069 øresund"


def test_json_output_escapes_what_a_terminal_would_act_on(cli, engine) -> None:
    record = bsr_call()
    sync(engine, "euro_access", [record.__class__(**{**record.__dict__, "title": TITLE})])
    result = cli("--as-of", AS_OF, "calls", "list", "--status", "all", "--json")
    assert result.exit_code == 0, result.stderr
    for ch in ("\x9b", "\x7f", "\u202e", "\u2066", "\u2069"):
        assert ch not in result.stdout
    assert "\\u009b2J" in result.stdout and "øresund" in result.stdout  # other text stays readable
    assert [row["title"] for row in json.loads(result.stdout)] == [TITLE]
