"""The CLI's start-up: ``--version`` answered without typer or the app, each command's module imported
only when it runs, and the lazy command table naming exactly what the modules register."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.argv = ["fundradar", *sys.argv[1:]]
from pipeline.cli.main import run
try:
    run()
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in ("typer", "click", "rich", "sqlalchemy", "sqlmodel",
                                                             "numpy", "scipy", "slack_sdk", "ruamel")
             or m.startswith("pipeline.cli.")), file=sys.stderr)
"""


def loaded(*args: str) -> tuple[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    modules = eval(proc.stderr.strip().splitlines()[-1])  # noqa: S307 - our own probe's output
    return proc.stdout, modules


def test_version_imports_nothing_heavy() -> None:
    out, modules = loaded("--version")
    assert out.startswith("fundradar ")
    assert modules == ["pipeline.cli.main"]


def test_a_command_imports_only_its_own_module() -> None:
    _, modules = loaded("calls", "--help")
    commands = [m for m in modules if m.endswith("_cmd")]
    assert commands == ["pipeline.cli.calls_cmd"]
    assert not any(m.split(".")[0] in ("numpy", "scipy", "slack_sdk", "ruamel") for m in modules)


def test_the_lazy_table_is_what_the_modules_register() -> None:
    from pipeline.cli.app import COMMANDS, module_commands

    for module in sorted(set(COMMANDS.values())):
        names = set(module_commands(module))
        assert names == {n for n, m in COMMANDS.items() if m == module}, module
    registered = set(COMMANDS.values())
    on_disk = {f"pipeline.cli.{p.stem}" for p in (ROOT / "pipeline" / "cli").glob("*_cmd.py")}
    assert on_disk == registered


def test_version_from_the_app_matches_the_fast_path(cli) -> None:
    from pipeline.cli.main import version_line

    result = cli("--version")
    assert result.exit_code == 0 and result.stdout == version_line() + "\n"
