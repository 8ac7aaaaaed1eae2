"""The ``fundradar`` command line: a thin layer over the library (typer + rich).

Exit codes: 0 success, 1 runtime error (a source, the database or Slack failed), 2 usage error (a
wrong argument, an invalid config, an unknown id, a transition the workflow forbids).

This module is the console script's entry point and stays light: ``fundradar --version`` is answered
from the installed metadata before typer, the app or any command module is imported, and the app
(:mod:`pipeline.cli.app`) imports a command's module only when that command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def installed_version() -> str | None:
    """The installed distribution's version, read from its metadata file on ``sys.path`` (a wheel's
    ``.dist-info`` or a development install's ``.egg-info``); None when not installed. A direct read:
    ``importlib.metadata`` costs more than the rest of ``--version`` together."""
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = [p.name for p in folder.iterdir() if p.name.startswith("fundradar")]
        except OSError:
            continue
        for name in names:
            meta = folder / name / ("METADATA" if name.endswith(".dist-info") else "PKG-INFO")
            if not name.endswith((".dist-info", ".egg-info")) or not meta.is_file():
                continue
            for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("Version:"):
                    return line.removeprefix("Version:").strip()
                if not line:
                    break
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fundradar")
    except PackageNotFoundError:
        return None


def version_line() -> str:
    found = installed_version()
    return f"fundradar {found}" if found else "fundradar (not installed)"


def run() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["--version"]:
        print(version_line())
        return
    from pipeline.cli.app import app

    app(prog_name="fundradar")


def __getattr__(name: str) -> Any:
    """``pipeline.cli.main.app``: the typer app, built on first use."""
    if name == "app":
        from pipeline.cli.app import app

        return app
    raise AttributeError(name)


if __name__ == "__main__":
    run()
