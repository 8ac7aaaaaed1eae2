"""The plain renderer of big listings (:func:`pipeline.cli.common.plain_table`) prints exactly what rich
prints for the same table, or declines (None) and leaves it to rich: checked on the listing columns of
every command shape and on random cells (ASCII, Danish letters, markup, emoji codes, wide characters,
too-long cells) at several console widths."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console

from pipeline.cli.common import Column, plain_table
from pipeline.cli.tables import print_rich_table

COLUMNS = [
    Column("kind", "What", no_wrap=True),
    Column("id", "ID", justify="right", no_wrap=True),
    Column("title", "Title", max_width=28),
    Column("deadline", "Deadline (Brussels)", no_wrap=True),
    Column("days_left", "Days", justify="right", no_wrap=True),
    Column("status", "Status", no_wrap=True),
]
SAFE = ["call", "Offshore wind", "ø", "Æblegrød", "2026-08-22 17:00", "2026-08-22 17:00!", "42", "",
        "energy islands and grids", "a  b", "x" * 30, "Interreg North Sea", "10:00",
        "Advanced Distribution Management Systems for flexible grids",
        "Innovative Solutions for  sustainable   ports and inland waterways (AFIF) - works",
        "HORIZON-CL5-2027-03-D5-17-two", "word " * 9, " leading and trailing "]
RICH = ["[bold]x[/bold]", ":smile:", "10:00:00", "漢字", "e\u0301", "tab\there"]


def rich_text(cells: list[list[str]], columns: list[Column], console: Console) -> str:
    """What print_rows prints through rich: its layout, a console widened when ids need it."""
    print_rich_table(cells, columns, None, console,
                     lambda width: Console(file=console.file, width=width, soft_wrap=False))
    return console.file.getvalue()


def console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, soft_wrap=False)


@pytest.mark.parametrize("seed", range(60))
def test_plain_table_is_rich_or_declines(seed: int) -> None:
    rng = random.Random(seed)
    columns = rng.sample(COLUMNS, rng.randint(1, len(COLUMNS)))
    pieces = SAFE if seed % 2 else SAFE + RICH  # half the tables plain, half with something rich reads
    cells = [[rng.choice(pieces) for _ in columns] for _ in range(rng.randint(1, 40))]
    width = rng.choice([40, 80, 120])
    plain = plain_table(cells, columns, console=console(width))
    if plain is not None:
        assert plain == rich_text(cells, columns, console(width))


def test_plain_table_takes_the_common_case() -> None:
    cells = [["app", "12", "Energy island pilot", "2026-09-01 17:00", "10", "draft"],
             ["call", "7", "Æblegrød og havvind", "2026-10-06 17:00!", "45", "open"],
             ["call", "8", "Advanced Distribution Management Systems (ADSM) for more efficient grids",
              "2026-10-06 17:00", "45", "forthcoming"]]
    plain = plain_table(cells, COLUMNS, console=console(80))
    assert plain is not None and plain == rich_text(cells, COLUMNS, console(80))


def test_plain_table_declines_a_terminal_and_a_title() -> None:
    cells = [["app", "1", "x", "2026-09-01 17:00", "1", "draft"]]
    assert plain_table(cells, COLUMNS, console=Console(file=io.StringIO(), force_terminal=True)) is None
    assert plain_table(cells, COLUMNS, title="Deadlines", console=console(80)) is None


def test_emoji_codes_and_markup_in_cells_print_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    # a Slack delivery key such as alert:new:2 is data: rich must not turn ":new:" into an emoji
    from pipeline.cli.common import print_rows

    columns = [Column("key", "Message", no_wrap=True), Column("status", "Status")]
    print_rows([{"key": "alert:new:2", "status": "[closed] sent"}], columns)
    assert [line.rstrip() for line in capsys.readouterr().out.splitlines()] == [
        "Message      Status", "alert:new:2  [closed] sent"]


# the listing's columns (calls list): wrapped ones without a cap, a centred one, ids that never wrap
LISTING = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("topic_id", "Topic", no_wrap=True),
    Column("title", "Title"),
    Column("programme", "Programme"),
    Column("focus_area", "Focus", no_wrap=True),
    Column("score", "Score", justify="right", no_wrap=True),
    Column("rules", "Rules", justify="center", no_wrap=True),
    Column("status", "Status"),
    Column("deadline", "Deadline", no_wrap=True),
]
MARKS = ["✓", "✗", "?", "0.71", "", "open (opens 2026-09-01)", "offshore_energy",
         "a01_culture_creative_society"]


@pytest.mark.parametrize("seed", range(120))
def test_a_table_wider_than_the_console_is_plain_too(seed: int) -> None:
    """Shrunk the way rich shrinks it (wrapped columns narrowed, every column reduced, or ids kept
    whole and the console widened), character for character."""
    rng = random.Random(1000 + seed)
    pool = LISTING + COLUMNS
    columns = rng.sample(pool, rng.randint(2, 9)) if seed % 3 else LISTING
    cells = [[rng.choice(SAFE + MARKS) for _ in columns] for _ in range(rng.randint(1, 25))]
    width = rng.randint(20, 150)
    plain = plain_table(cells, columns, console=console(width))
    assert plain is not None
    assert plain == rich_text(cells, columns, console(width))


PROBE = """
from rich.console import Console
from pipeline.cli.tables import plain_width
console = Console(soft_wrap=False)
plain = console.width if not console.is_terminal and console.color_system is None else None
print(plain_width(), plain)
"""


@pytest.mark.parametrize("env", [{}, {"COLUMNS": "123"}, {"COLUMNS": "wide"}, {"TERM": "dumb"},
                                 {"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}, {"NO_COLOR": "1"}])
@pytest.mark.parametrize("stdin_terminal", [False, True])
def test_plain_width_is_the_width_rich_gives_a_pipe(env: dict[str, str], stdin_terminal: bool) -> None:
    """Without importing rich's console, the same width for stdout in a pipe (stdin a terminal of 97
    columns, or not), and None whenever rich would style the output."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    clean = {k: v for k, v in os.environ.items()
             if k not in ("COLUMNS", "LINES", "TERM", "FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    leader, follower = pty.openpty() if stdin_terminal else (None, None)
    try:
        if follower is not None:
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 97, 0, 0))
        stdin = follower if follower is not None else subprocess.DEVNULL
        proc = subprocess.run([sys.executable, "-c", PROBE], cwd=root,
                              env={**clean, **env, "PYTHONPATH": str(root)}, stdin=stdin,
                              capture_output=True, text=True, timeout=60, check=True)
    finally:
        for fd in (leader, follower):
            if fd is not None:
                os.close(fd)
    ours, theirs = proc.stdout.split()
    assert ours == theirs


def test_narrow_widths_apply_only_to_a_table_wider_than_the_console() -> None:
    from pipeline.cli.tables import narrowed

    columns = [Column("id", "ID", no_wrap=True), Column("title", "Title"),
               Column("programme", "Programme", narrow_width=10), Column("code", "Code", no_wrap=True,
                                                                          narrow_width=3)]
    cells = [["1", "Offshore wind and energy islands", "Interreg North Sea", "HORIZON-CL5"]]
    assert narrowed(columns, cells, 80) == columns  # every cell fits on one line
    assert [c.max_width for c in narrowed(columns, cells, 50)] == [None, None, 10, None]  # ids never wrap
    for width in (30, 50):
        wide = narrowed(columns, cells, width)
        assert plain_table(cells, wide, console=console(width)) == rich_text(cells, wide, console(width))
