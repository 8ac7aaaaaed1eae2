"""Option values coerced without pydantic (pipeline.cli.params) give what typer's own adapter gives, the
same value or the same error, and a listing takes no TypeAdapter at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from pipeline.cli.common import new_app
from pipeline.cli.params import MAX_NUMBER, PlainValues

ROOT = Path(__file__).resolve().parent.parent

probe = new_app("probe")


@probe.command("one")
def one(
    text: str = typer.Option(None, "--text"),
    count: int = typer.Option(None, "--count", min=1),
    share: float = typer.Option(None, "--share", min=0.0, max=1.0),
    days: int = typer.Option(None, "--days"),
    weeks: float = typer.Option(8, "--weeks"),
    flag: bool = typer.Option(False, "--flag"),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True),
) -> None:
    typer.echo(repr((text, count, share, days, weeks, flag, verbose)))


@probe.command("two")
def two() -> None:
    """A second command, so that "one" is a subcommand as fundradar's are."""


def options() -> dict[str, Any]:
    command = typer.main.get_group(probe).commands["one"]
    return {param.name: param for param in command.params}


VALUES = ["0", "1", "20", "007", "+3", " 4", "5 ", "-1", "1.5", "0.5", "1.0", "2", "1e-1", "0.", ".5",
          "x", "", "1_000", "٣", "9" * 30, "0." + "1" * 20, "é\udcff", None]


@pytest.mark.parametrize("name", ["text", "count", "share", "days", "weeks", "flag"])
def test_every_value_coerces_as_typers_adapter_does(name: str) -> None:
    param = options()[name]
    ctx = typer.Context(typer.main.get_group(probe).commands["one"])
    ours, theirs = PlainValues(param), build_runtime_param(param.type_descriptor)
    for value in [*VALUES, True, False, 3, 0, 8, 0.25, 1.5, 2**60, float("nan")]:
        try:
            expected: Any = theirs.coerce(value, param=param, ctx=ctx)
        except typer.BadParameter as exc:
            with pytest.raises(typer.BadParameter) as raised:
                ours.coerce(value, param=param, ctx=ctx)
            assert raised.value.format_message() == exc.format_message(), value
            continue
        if type(expected) is int and not abs(expected) <= MAX_NUMBER:  # ours has a limit
            with pytest.raises(typer.BadParameter, match="is too large; give a number up to 2,147,483,647"):
                ours.coerce(value, param=param, ctx=ctx)
            continue
        got = ours.coerce(value, param=param, ctx=ctx)
        assert (repr(got), type(got)) == (repr(expected), type(expected)), value


def test_a_command_line_gives_the_same_values_and_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(probe, ["one", "--text", "a b", "--count", "20", "--share", "0.25", "--days",
                                   "-3", "--weeks", "2.5", "--flag", "-vv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "('a b', 20, 0.25, -3, 2.5, True, 2)\n"
    result = runner.invoke(probe, ["one"])
    assert result.stdout == "(None, None, None, None, 8.0, False, 0)\n"
    result = runner.invoke(probe, ["one", "--count", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--count': Input should be greater than or equal to 1" in result.output


def test_a_listing_builds_no_type_adapter(tmp_path: Path) -> None:
    probe_code = (
        "import sys\n"
        "sys.argv = ['fundradar', '--db', sys.argv[1], 'calls', 'list', '--top', '3', '--min-score', '0.5']\n"
        "from pipeline.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('typer._adapters' in sys.modules, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", probe_code, str(tmp_path / "none.db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == "False"
