"""Run the fundradar CLI in this process and freeze it at an exact SQL statement, so a test can kill it
there with SIGKILL: a deterministic crash point instead of a sleep.

    python -m tests.crashpoint FD PATTERN COUNT -- --db ... sync ...

Before the COUNT-th SQL statement matching the regular expression PATTERN (as SQLite receives it,
seen through ``sqlite3.Connection.set_trace_callback``) the process writes one line to the file
descriptor FD and waits forever. ``PATTERN`` may be ``commit-after:REGEX``: freeze at the first
COMMIT following the COUNT-th statement matching REGEX (i.e. with that transaction written but not
committed). Nothing of fundradar is replaced: the trace callback only observes, and the CLI runs as
``fundradar`` would.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any


def install(fd: int, pattern: str, count: int) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    commit_after = pattern.startswith("commit-after:")
    regex = re.compile(pattern.removeprefix("commit-after:"), re.IGNORECASE)
    state = {"seen": 0, "armed": False}

    def freeze(statement: str) -> None:
        os.write(fd, f"frozen before: {statement[:80]}\n".encode())
        while True:  # until the test's SIGKILL
            time.sleep(60)

    def trace(statement: str) -> None:
        text = statement.lstrip()
        if state["armed"] and text.upper().startswith("COMMIT"):
            freeze(text)
        if regex.search(text):
            state["seen"] += 1
            if state["seen"] == count:
                if commit_after:
                    state["armed"] = True
                else:
                    freeze(text)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(trace)

    sa.event.listen(Engine, "connect", on_connect)


def main() -> None:
    fd, pattern, count, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: python -m tests.crashpoint FD PATTERN COUNT -- ARGS"
    install(int(fd), pattern, int(count))
    from pipeline.cli.main import app

    app(args, prog_name="fundradar")


if __name__ == "__main__":
    main()
