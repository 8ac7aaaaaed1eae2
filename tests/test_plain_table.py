"""The plain renderer of big listings (:func:`pipeline.cli.common.plain_table`) prints exactly what rich
prints for the same table, or declines (None) and leaves it to rich: checked on the listing columns of
every command shape and on random cells (ASCII, Danish letters, markup, emoji codes, wide characters,
too-long cells) at several console widths."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console
from rich.table import Table

from pipeline.cli.common import Column, plain_table

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
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in columns:
        table.add_column(column.header, justify=column.justify,
                         max_width=column.max_width, no_wrap=column.no_wrap, overflow="fold")
    for line in cells:
        table.add_row(*line)
    console.print(table)
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
