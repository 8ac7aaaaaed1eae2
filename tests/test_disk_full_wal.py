"""A SQLite database on a file system that is really full (a tmpfs of a few MB, filled up): in WAL
mode SQLite must write its -shm and -wal files before it reads or writes anything, and on a full disk it
reports that as "disk I/O error", which fundradar passed on as "check the disk". Now a disk I/O error
on a file system with no space left is named what it is: the disk is full, free some space. Mounting
the tmpfs needs root; where that is not allowed the test is skipped."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.db import open_database


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    with open(folder / "fill", "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


@pytest.mark.parametrize("command", [["calls", "list"], ["ideas", "add", "Robots"]])
def test_a_full_disk_is_named_so_not_a_disk_i_o_error(small_disk: Path, command: list[str]) -> None:
    url = f"sqlite:///{small_disk / 'fundradar.db'}"
    open_database(url).dispose()
    _fill(small_disk)
    result = CliRunner().invoke(app, ["--db", url, *command], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: the disk holding {url} is full; nothing of this write was stored, free some space and run "
        "the command again"]
    (small_disk / "fill").unlink()
    again = CliRunner().invoke(app, ["--db", url, "calls", "list", "--json"], catch_exceptions=False)
    assert again.exit_code == 0, again.output


def test_a_job_lock_is_taken_on_a_full_disk_without_its_pid_note(small_disk: Path) -> None:
    """serve's first run of a job makes its lock file; on a full disk writing the holder's pid into it
    (a note for people, not the lock) raised ENOSPC out of the job instead of the database's one line."""
    from pipeline.core.locks import JobLock

    engine = open_database(f"sqlite:///{small_disk / 'fundradar.db'}")
    with engine.connect():  # as serve holds the database open
        _fill(small_disk)
        lock = JobLock(engine, "source:new_source")
        assert lock.acquire()
        assert not JobLock(engine, "source:new_source").acquire()  # the flock holds all the same
        lock.release()
    engine.dispose()
