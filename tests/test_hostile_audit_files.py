"""`export ical` to a path that is no regular file or cannot be written: one line naming the path.
Before, a device or a named pipe was replaced by a regular file (as root, `export ical /dev/full` put a
file where the device was) and a folder that refuses new files failed with a FileNotFoundError
traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


def test_a_named_pipe_is_not_replaced(cli, engine, tmp_path: Path) -> None:
    pipe = tmp_path / "deadlines.ics"
    os.mkfifo(pipe)
    result = cli("export", "ical", str(pipe))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {pipe} is not a regular file; give a file name such as deadlines.ics\n"
    assert stat.S_ISFIFO(pipe.stat().st_mode)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_folder_that_takes_no_files_is_one_line(cli, engine) -> None:
    result = cli("export", "ical", "/proc/fundradar-deadlines.ics")
    assert result.exit_code == 2
    assert result.stderr == ("Error: cannot write /proc/fundradar-deadlines.ics (No such file or directory); "
                             "give a path in a folder you can write to\n")
