"""The listings' tables: rich lays them out, and the plain ones (output that is not a terminal, as in a
pipe or a file) are built directly, character for character what rich prints, without importing rich's
console or table (a sixth of a listing's time at 100,000 calls).

:func:`print_rich_table` is the layout: each column as wide as its widest cell (a ``max_width`` caps a
wrapped column), shrunk the way rich shrinks a table wider than the console, except that a ``no_wrap``
column (ids, topic identifiers, URLs: what a reader copies) is never split or cut: when the console is
narrower than those columns need, the table is printed wider than the console instead.
:func:`plain_table` gives the same text, or None when rich must render it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    format: Callable[[Any], str] = lambda v: "" if v is None else str(v)
    justify: str = "left"
    max_width: int | None = None
    no_wrap: bool = False
    # on a console too narrow for the table at its natural widths, this wrapped column is capped here
    # too, so that the room goes to the column that needs it (a call's title, not its programme's name)
    narrow_width: int | None = None
    # a wrapped column whose words are never folded (an error naming a URL or a path that a reader
    # copies): it is at least as wide as its longest word, and the table grows wider instead
    whole_words: bool = False


def kept_whole(columns: Sequence[Column], cells: Sequence[Sequence[str]],
               cell_len: Callable[[str], int] = len) -> Sequence[Column]:
    """``columns`` with each ``whole_words`` column's ``max_width`` raised to its longest word."""
    if not any(column.whole_words for column in columns):
        return columns
    return [replace(column, max_width=max(column.max_width, _longest(
                [line[index] for line in cells], True, cell_len)))
            if column.whole_words and column.max_width is not None else column
            for index, column in enumerate(columns)]


def narrowed(columns: Sequence[Column], cells: Sequence[Sequence[str]], room: int,
             cell_len: Callable[[str], int] = len) -> Sequence[Column]:
    """``columns``, with each ``narrow_width`` applied as a ``max_width`` when the table at its natural
    widths (every cell on one line) is wider than ``room``; as given when it fits."""
    if not any(column.narrow_width for column in columns):
        return columns
    natural, _ = _width_bounds(columns, cells, cell_len)
    if sum(natural) + 2 * (len(columns) - 1) <= room:
        return columns
    return [replace(column, max_width=min(column.max_width or column.narrow_width, column.narrow_width))
            if column.narrow_width and not column.no_wrap else column for column in columns]


# A wrapped column is at least as wide as its longest word up to this many cells, so only a longer
# word is split (a long word in a title, never an id: ids are no_wrap columns).
WORD_WIDTH = 16


def print_rich_table(cells: list[list[str]], columns: Sequence[Column], title: str | None, out: Console,
                     wider: Callable[[int], Console]) -> None:
    """The table printed by rich on ``out``, or on ``wider(width)`` when its no_wrap columns need more
    than ``out``'s width."""
    from rich.cells import cell_len

    natural, minimum = _width_bounds(columns, cells, cell_len)
    table = _table(title, columns, cells, [None] * len(columns))
    shared = table._calculate_column_widths(out, out.options)
    padding = [table._get_padding_width(index) for index in range(len(columns))]
    if any(w - p < m for w, p, m in zip(shared, padding, minimum, strict=True)):
        widths = _share(natural, minimum, out.width - sum(padding))
        table = _table(title, columns, cells, widths)
        if sum(widths) + sum(padding) > out.width:
            out = wider(sum(widths) + sum(padding))
    out.print(table)


def _longest(texts: Sequence[str], words: bool, cell_len: Callable[[str], int] = len) -> int:
    parts = [part for text in texts for part in (text.split() if words else text.splitlines())]
    return max((cell_len(part) for part in parts), default=0)


def _table(title: str | None, columns: Sequence[Column], cells: list[list[str]],
           widths: Sequence[int | None]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column.header, justify=column.justify, width=width,
                         max_width=None if column.no_wrap else column.max_width, no_wrap=column.no_wrap,
                         overflow="ellipsis" if column.no_wrap else "fold")
    for line in cells:
        table.add_row(*[Text(cell) for cell in line])
    return table


def _width_bounds(columns: Sequence[Column], cells: Sequence[Sequence[str]],
                  cell_len: Callable[[str], int] = len) -> tuple[list[int], list[int]]:
    """Each column's natural width (its widest cell, capped by ``max_width`` unless no_wrap) and the
    narrowest it may be: a no_wrap column's widest cell, else its longest word up to WORD_WIDTH."""
    natural, minimum = [], []
    for index, column in enumerate(columns):
        texts = [column.header, *(line[index] for line in cells)]
        widest = max(_longest(texts, False, cell_len), 1)
        if column.no_wrap:
            natural.append(widest)
            minimum.append(widest)
            continue
        cap = min(widest, column.max_width or widest)
        natural.append(cap)
        longest_word = _longest(texts, True, cell_len)
        minimum.append(min(longest_word, cap) if column.whole_words else min(longest_word, WORD_WIDTH, cap))
    return natural, minimum


def _share(natural: list[int], minimum: list[int], room: int) -> list[int]:
    """Widths from the minimums, sharing what ``room`` leaves in proportion to what each column lacks of
    its natural width (the sum exceeds ``room`` when the minimums alone do)."""
    spare = max(room - sum(minimum), 0)
    lacking = [n - m for n, m in zip(natural, minimum, strict=True)]
    if spare >= sum(lacking):
        return natural
    return [m + spare * gap // (sum(lacking) or 1) for m, gap in zip(minimum, lacking, strict=True)]


def _padding(count: int) -> list[int]:
    """Each column's padding in the table of :func:`_table`: one space each side, none at the edges."""
    return [(index > 0) + (index < count - 1) for index in range(count)]


def _collapse(widths: list[int], wrapable: list[bool], room: int) -> list[int]:
    """rich's ``Table._collapse_widths``: the widest wrapable columns narrowed together, step by step,
    until the table fits ``room`` or they are as narrow as the next. Restated here (with rich's own
    ``ratio_reduce``) so that a plain table is laid out without importing rich's table."""
    from rich._ratio import ratio_reduce

    total = sum(widths)
    excess = total - room
    if any(wrapable):
        while total and excess > 0:
            widest = max(width for width, wrap in zip(widths, wrapable, strict=True) if wrap)
            second = max(width if wrap and width != widest else 0
                         for width, wrap in zip(widths, wrapable, strict=True))
            ratios = [1 if (width == widest and wrap) else 0
                      for width, wrap in zip(widths, wrapable, strict=True)]
            if not any(ratios) or not widest - second:
                break
            widths = ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
            total = sum(widths)
            excess = total - room
    return widths


def _fitted(natural: list[int], columns: Sequence[Column], cells: Sequence[Sequence[str]],
            room: int) -> list[int]:
    """The widths of the cells' text that :func:`print_rich_table` gives a table wider than ``room``
    (ASCII text: one character, one cell): rich's ``Table._calculate_column_widths`` for a table wider
    than the console (wrapable columns collapsed, then every column reduced evenly, then measured
    again within those widths), or :func:`_share`'s widths when that cuts into a column's minimum."""
    from rich._ratio import ratio_reduce

    pads = _padding(len(columns))
    widths = [min(n + p, room) or 1 for n, p in zip(natural, pads, strict=True)]
    if sum(widths) > room:
        widths = _collapse(widths, [not column.no_wrap for column in columns], room)
        if sum(widths) > room:
            widths = ratio_reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        widths = [0 if w < 1 else w if w - p < 1 else min(n + p, w)
                  for w, n, p in zip(widths, natural, pads, strict=True)]
    _, minimum = _width_bounds(columns, cells)
    if any(w - p < m for w, p, m in zip(widths, pads, minimum, strict=True)):
        return _share(natural, minimum, room - sum(pads))
    return [w - p for w, p in zip(widths, pads, strict=True)]


def plain_width() -> int | None:
    """The width rich's console gives stdout when stdout is not a terminal and nothing asks rich to
    style it: ``COLUMNS``, else the size of the terminal that stdin, stdout or stderr is, else 80.
    None when rich would (or might) see a terminal, a notebook or a forced colour, or on Windows:
    rich's console decides those. Restated from ``rich.console.Console`` (its ``is_terminal``,
    ``color_system`` and ``size``) because importing it costs a plain listing more than printing it."""
    env = os.environ
    if sys.platform == "win32" or "IPython" in sys.modules or any(
            name in env for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "JUPYTER_COLUMNS")):
        return None
    stdin = getattr(sys.stdin, "__module__", "") or ""
    try:
        if stdin.startswith("idlelib") or sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    columns = env.get("COLUMNS")
    if columns is not None and columns.isascii() and columns.isdigit():
        return int(columns) or None
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        try:
            return os.get_terminal_size(stream.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            continue
    return 80


_MARKUP_OR_EMOJI = re.compile(r"\[|:\S*?:")  # what rich would read as markup or an emoji code


def plain_table(cells: Sequence[Sequence[str]], columns: Sequence[Column], title: str | None = None,
                console: Console | None = None) -> str | None:
    """The text :func:`print_rich_table` prints, built directly, when that text is plain: output that
    is not a terminal (no styles; ``console``, else stdout as :func:`plain_width` sees it), no title,
    every cell and header free of markup, emoji codes, control and non-ASCII wide characters. rich's
    layout is then simple: the column widths (:func:`_fitted` when the table is wider than the
    console), a cell longer than its column word-wrapped by rich's own line breaker (a word longer
    than the column folded), two spaces between columns, a row as tall as its tallest cell, every line
    padded to the table's width (a right-justified or centred cell without trailing spaces). None
    otherwise: rich renders it. A table of thousands of rows prints many times faster this way,
    character for character the same."""
    if console is not None:
        if console.is_terminal or console.color_system is not None:
            return None
        room: int | None = console.width
    else:
        room = plain_width()
    if room is None or title is not None \
            or any(c.justify not in ("left", "right", "center") for c in columns):
        return None
    from rich._wrap import divide_line

    headers = [column.header for column in columns]
    widths = [0] * len(columns)
    for line in (headers, *cells):
        for index, text in enumerate(line):
            # ASCII or letters such as ø and ✓ that take one cell each (not combining, not wide)
            if not text.isprintable() or (not text.isascii() and not _narrow(text)):
                return None
            if _MARKUP_OR_EMOJI.search(text):
                return None
            if len(text) > widths[index]:
                widths[index] = len(text)
    for index, column in enumerate(columns):
        if column.max_width is not None and widths[index] > column.max_width:
            if column.no_wrap:
                return None
            widths[index] = column.max_width
    if sum(widths) + 2 * (len(widths) - 1) > room:
        widths = _fitted(widths, columns, cells, room)
    how = [column.justify for column in columns]
    out = []
    for line in (headers, *cells):
        if all(len(text) <= width for text, width in zip(line, widths, strict=True)):
            out.append("  ".join(_justified(text, width, j)
                                 for text, width, j in zip(line, widths, how, strict=True)))
            continue
        parts = []
        for text, width, j in zip(line, widths, how, strict=True):
            if len(text) <= width:
                parts.append([_justified(text, width, j)])
                continue
            offsets = [0, *divide_line(text, width, fold=True), len(text)]
            pieces = [text[a:b] for a, b in zip(offsets, offsets[1:], strict=False) if b > a]
            pieces = [p.rstrip() if len(p) > width or j != "left" else p for p in pieces]
            parts.append([_justified(p, width, j) for p in pieces])
        height = max(len(p) for p in parts)
        for row in range(height):
            out.append("  ".join(p[row] if row < len(p) else " " * width
                                 for p, width in zip(parts, widths, strict=True)))
    return "\n".join(out) + "\n"


def _justified(text: str, width: int, how: str) -> str:
    """``text`` in ``width`` cells as rich justifies a line: a right-justified or centred line loses
    its trailing spaces first; centring puts the odd space on the right."""
    if how == "left":
        return text.ljust(width)
    text = text.rstrip()
    if how == "right":
        return text.rjust(width)
    return (" " * ((width - len(text)) // 2) + text).ljust(width)


def _narrow(text: str) -> bool:
    """Every character takes one cell, as rich measures it (no wide or zero-width character)."""
    from rich.cells import cell_len

    return cell_len(text) == len(text)
