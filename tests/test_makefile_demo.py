"""`make demo` says which data it runs on: the recorded samples, or, when they are not where it looks,
the live sources (a clone not beside shared/ otherwise spent minutes failing to reach them, unexplained).

The Makefile runs with VENV pointing at a folder whose bin/fundradar is a script printing its
arguments, newer than pyproject.toml, so make installs nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _demo(tmp_path: Path, samples: Path) -> subprocess.CompletedProcess[str]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    stub = venv / "bin" / "fundradar"
    stub.write_text('#!/bin/sh\necho "fundradar $*"\n', encoding="utf-8")
    stub.chmod(0o755)
    later = (ROOT / "pyproject.toml").stat().st_mtime + 60
    os.utime(stub, (later, later))
    env = {k: v for k, v in os.environ.items() if k != "FUNDRADAR_SAMPLES"}
    return subprocess.run(["make", "-s", "-C", str(ROOT), "demo", f"VENV={venv}", f"SAMPLES={samples}"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_demo_without_the_samples_says_it_runs_against_the_live_sources(tmp_path: Path) -> None:
    result = _demo(tmp_path, tmp_path / "shared" / "samples")
    assert (result.returncode, result.stdout) == (0, "fundradar run\n")
    assert result.stderr == (
        f"no recorded samples at {tmp_path}/shared/samples, so the demo runs against the live sources; "
        "make demo FUNDRADAR_SAMPLES=/path/to/shared/samples replays the recordings\n")


def test_demo_with_the_samples_replays_them_without_a_note(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    result = _demo(tmp_path, tmp_path / "samples")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"fundradar run --replay {tmp_path}/samples\n", "")
