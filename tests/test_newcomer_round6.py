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
