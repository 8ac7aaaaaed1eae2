"""What every command shares: the global options' state, the strategy scope, output (tables, JSON, CSV,
Slack outcomes) and errors.

Data goes to stdout, logs and progress to stderr. Listing commands take ``--json`` and ``--csv``.

Every value printed is data, never markup: the consoles here show strings as plain text (rich markup such
as ``[/bold]`` or ``[link=…]`` stays literal) with control characters and escape sequences removed
(:func:`pipeline.core.text.printable`); :func:`echo` does the same for plain lines, and CSV cells are
neutralised against spreadsheet formulas (:func:`pipeline.core.text.csv_cell`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from pipeline.cli.params import plain_values, utf8_texts
from pipeline.cli.tables import Column, kept_whole, narrowed, plain_table, plain_width, print_rich_table
from pipeline.core import clock
from pipeline.core.errors import (
    BadRowsError,
    ConfigError,
    DeliveryError,
    FundradarError,
    StoreError,
    UserInputError,
    ValidationError,
)
from pipeline.core.text import csv_cell, folder_not_database, money_short, percent_short, printable

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine

    from pipeline.config_view import StrategyView
    from pipeline.core.sql import Database
    from pipeline.notify.delivery import Outcome
    from pipeline.sync import Progress

log = logging.getLogger("fundradar")


@functools.cache
def _data_console() -> type[Console]:
    """A rich console class whose strings are plain text: no markup, no emoji codes, no control
    characters. Styled output is built from :class:`rich.text.Text`, which it leaves as it is. Made on
    first use, so that commands which print no table never import rich."""
    from rich.console import Console
    from rich.text import Text

    class DataConsole(Console):
        def print(self, *objects: Any, **kw: Any) -> None:
            kw.pop("markup", None)
            kw.pop("emoji", None)
            super().print(*[Text(printable(o)) if isinstance(o, str) else o for o in objects], **kw)

    return DataConsole


def stdout() -> Console:
    return _data_console()(soft_wrap=False)


def stderr() -> Console:
    return _data_console()(stderr=True)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """A plain line (or lines) on stdout, or stderr with ``err``, with control characters removed."""
    typer.echo(printable(message), err=err, nl=nl)


def confirm(question: str, *, thing: str, skip: str) -> bool:
    """A ``[y/N]`` question on stderr. Closed or empty standard input (a script, cron, CI) is no answer:
    a usage error saying how to skip the question, not click's bare "Aborted!" with exit 1, which
    reads as a runtime failure. ``thing`` names what was asked about, ``skip`` how to go without."""
    import click

    try:
        return typer.confirm(question, default=False, err=True)
    except (click.exceptions.Abort, typer.Abort):
        if not _no_terminal():
            raise  # Ctrl-C: the person stopped it
        echo("", err=True)
        raise UserInputError(f"{thing}: no answer, standard input is closed; nothing changed; {skip}") \
            from None


def _no_terminal() -> bool:
    """Standard input is no terminal: an Abort there is the end of its input, not Ctrl-C."""
    import sys

    stream = sys.stdin
    try:
        return stream is None or stream.closed or not stream.isatty()
    except ValueError:
        return True


@dataclass
class State:
    """Global options, and the config and database opened on first use."""

    config_path: str | None = None
    strategy_name: str | None = None  # --strategy: the selected strategy (default: the first)
    db_url: str | None = None
    as_of: datetime | None = None
    _config: Any = None
    _engine: Engine | None = None

    def config(self):
        from pipeline.core.config import load_config

        if self._config is None:
            self._config = load_config(self.config_path, strategy=self.strategy_name)
        return self._config

    def strategy_view(self) -> StrategyView:
        """The selected strategy's name, focus areas and scoring identities, without loading the config
        when an earlier command kept them for the same files and code (:mod:`pipeline.config_view`)."""
        from pipeline.config_view import strategy_view

        return strategy_view(self.config_path, self.strategy_name, self.config)

    def scoped(self):
        """The config that commands covering every strategy (score, digest, alerts, sync, run, serve)
        work on: all strategies, or only the one named by --strategy."""
        config = self.config()
        return config.only(self.strategy_name) if self.strategy_name else config

    def engine(self) -> Engine:
        from pipeline.core.db import open_database

        if self._engine is None:
            self._engine = open_database(self._url())
        return self._engine

    def _url(self) -> str:
        from pipeline.core.sql import kept_database_url

        return kept_database_url(self.db_url)

    def existing_engine(self) -> Engine | None:
        """The database if it exists, else None: for commands that only read and must not create one."""
        url = self._url()
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            return None
        return self.engine()

    def require_database(self) -> None:
        """Raises UserInputError when the database is an SQLite file that does not exist: a mistyped
        --db path is an error, never a new empty database (or folder) that answers "nothing found"."""
        url = self._url()
        if url.startswith("sqlite:///") and Path(url.removeprefix("sqlite:///")).is_dir():
            raise StoreError(folder_not_database(url.removeprefix("sqlite:///")))
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            raise UserInputError(f"no database at {url.removeprefix('sqlite:///')}; run fundradar sync first")

    def read_engine(self) -> Engine:
        """The existing database, for commands that read (or change rows that must exist)."""
        self.require_database()
        return self.engine()

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """The existing database on a read-only connection of its own (:mod:`pipeline.core.sql`), for
        commands that only read: neither SQLAlchemy nor the models are imported. The engine is opened
        only when it has something to do first (a schema to migrate) or the URL is one only it opens
        (then the read goes through its connection, the same queries)."""
        from pipeline.core.sql import Database, at_head, connect, database_url

        self.require_database()
        url = database_url(self.db_url)
        db = connect(url)
        if db is not None and not at_head(db):
            db.close()
            self.engine()  # migrates, as every command does on an older schema
            db = connect(url)
        if db is None:
            raw = self.engine().raw_connection()
            try:
                yield Database(raw.driver_connection, self.engine().dialect.name)
            finally:
                raw.close()
            return
        try:
            yield db
        finally:
            db.close()

    def now(self) -> datetime:
        return self.as_of or clock.now()


_current = State()


def set_state(value: State) -> None:
    """Called by the root callback at the start of every invocation."""
    global _current
    _current = value


def state() -> State:
    """The State of the running command (set by the root callback)."""
    return _current


class FundradarGroup(TyperGroup):
    """Turns fundradar's own errors into one line on stderr and the error's exit code; its options and
    its commands' options coerce plain values without pydantic (:mod:`pipeline.cli.params`)."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FundradarError as exc:
            lines = [*exc.problems, str(exc)] if isinstance(exc, BadRowsError) \
                else [str(exc), *(exc.more if isinstance(exc, ConfigError) else [])]
            for line in lines:
                typer.echo("Error: " + printable(" ".join(line.split())), err=True)
            raise typer.Exit(exc.exit_code) from None

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        plain_values(self.get_params(ctx))
        return super().parse_args(ctx, args)


class FundradarCommand(TyperCommand):
    """A command whose options coerce plain values without pydantic (:mod:`pipeline.cli.params`)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        from typer._click.exceptions import NoSuchOption, UsageError

        plain_values(self.get_params(ctx))
        try:
            rest = super().parse_args(ctx, args)
        except NoSuchOption as exc:
            # "-1" typed as an id, or a name starting with "-": click's "No such option: -1" says neither
            if not _NEGATIVE.fullmatch(exc.option_name):
                raise
            name = printable(exc.option_name)
            command = " ".join(["fundradar", *ctx.command_path.split()[1:]])
            raise UsageError(f"{name} is not an option; ids start at 1 (12 or #12), and a text that starts "
                             f"with '-' goes last, after --: {command} [OPTIONS] -- {name}",
                             ctx=ctx) from None
        utf8_texts(self.get_params(ctx), ctx)
        if ctx.params.get("as_json") and ctx.params.get("as_csv"):
            # one would win silently, and a script asking for both could not tell which it got
            raise UsageError("--json and --csv are two formats of the same output; give one of them", ctx=ctx)
        return rest


_NEGATIVE = re.compile(r"-[0-9][0-9.,]*")
class FundradarTyper(typer.Typer):
    """A typer app whose commands are :class:`FundradarCommand` unless they name a class of their own."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kw: Any) -> Any:
        return super().command(*args, cls=cls or FundradarCommand, **kw)


def new_app(help_text: str, **kw: Any) -> typer.Typer:
    return FundradarTyper(cls=FundradarGroup, help=help_text, no_args_is_help=True,
                          rich_markup_mode=None, pretty_exceptions_enable=False, **kw)


def known_focus(*areas: str | None) -> None:
    """Refuse a focus area the selected strategy does not have, in one line (naming the strategy that
    has it, with several); for the commands that take --focus or an area, before they read anything."""
    config = state().config()
    for area in areas:
        if area is not None and area not in config.strategy.focus_areas:
            raise ValidationError(config.unknown_area(area))


def scope() -> str | None:
    """The strategy whose ideas and applications this command sees: with a config folder the selected
    one (--strategy, default the first); None (every idea) for a single strategy file, whose config is
    then not even read."""
    from pipeline.core.config_files import strategy_path
    from pipeline.tenancy import scope_of

    st = state()
    path = strategy_path(st.config_path)
    if not path.is_dir():
        if st.strategy_name or not path.is_file():
            # a --strategy the file does not have, or a --config that is not there, is its error here
            # too, not a listing of every cluster's ideas
            st.config()
        return None
    return scope_of(st.config())


def note_view_scores(db: Database, view: StrategyView, by_score: bool = False) -> None:
    """:func:`note_stored_scores` for the selected strategy, from its view (``by_score``: the listing
    keeps only scored calls, so a strategy without scores is named too)."""
    from pipeline.trial import view_scores_note

    note = view_scores_note(db, view, by_score)
    if note:
        echo(note, err=True)


def note_stored_scores(engine: Engine | Database, config: Any) -> None:
    """A line on stderr when the stored scores a command reads were not computed from ``config`` as it
    is now (a trial file, or an edit or marks not scored yet): the command shows them all the same."""
    from pipeline.trial import stored_scores_note

    note = stored_scores_note(engine, config)
    if note:
        echo(note, err=True)


def note_scratch_scores(config: Any) -> None:
    """The line on stderr when a reading command scored ``config`` in a scratch database: why it did,
    and that ``fundradar score`` is what stores the scores it showed."""
    from pipeline.trial import config_name

    echo(f"scored with {config_name(config)} in a scratch database (the stored scores were computed "
         "from other focus areas, rules or marks); stored scores unchanged, `fundradar score` stores "
         "new ones", err=True)


# --- output --------------------------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """Values as JSON has them: dates as ISO text, and a non-finite number (which JSON cannot hold:
    ``Infinity`` breaks every strict parser) as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# what json.dumps leaves as it is and a terminal acts on: DEL, the C1 controls (an 8-bit CSI), the bidi
# marks and overrides, and the line separators; they occur only inside strings, so all are escaped
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def print_json(data: Any) -> None:
    """``data`` as JSON: the values exactly as stored (nothing removed, unlike the tables), with the
    characters a terminal would act on written as ``\\uXXXX`` escapes."""
    text = json.dumps(jsonable(data), ensure_ascii=False, indent=2)
    typer.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def flat(rows: list[dict[str, Any]], as_csv: bool) -> list[dict[str, Any]]:
    """For CSV, list cells become "a; b" (JSON keeps real lists)."""
    if not as_csv:
        return rows
    return [{k: "; ".join(str(x) for x in v) if isinstance(v, list) else v for k, v in row.items()}
            for row in rows]


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *, as_json: bool = False,
               as_csv: bool = False, title: str | None = None, empty: str = "Nothing to show.",
               csv_zone: Any = None) -> None:
    """A listing as a rich table, JSON (all fields) or CSV (the columns given, raw values; with
    ``csv_zone`` its moments in that time zone, as the table shows them, offset included).

    The table takes the terminal's width (80 columns in a pipe, or ``COLUMNS``). A ``no_wrap`` column
    (ids, topic identifiers, URLs: what a reader copies) is never split or cut: when the terminal is
    narrower than those columns need, the table is printed wider than the terminal instead
    (:mod:`pipeline.cli.tables`)."""
    if as_json:
        print_json(list(rows))
        return
    if as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        def cell(value: Any) -> Any:
            if csv_zone is not None and isinstance(value, datetime):
                value = value.astimezone(csv_zone)
            return "" if value is None else csv_cell(jsonable(value))

        for row in rows:
            writer.writerow([cell(row.get(c.key)) for c in columns])
        typer.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        echo(empty, err=True)  # one plain line: a console would wrap it at 80 columns in a pipe
        return
    cells = [[printable(column.format(row.get(column.key))) for column in columns] for row in rows]
    room = plain_width()
    if room is not None:
        plain = plain_table(cells, kept_whole(narrowed(columns, cells, room), cells), title)
        if plain is not None:
            typer.echo(plain, nl=False)
            return
    # rich lays out what is not plain; a table too wide for the terminal is printed wider than it
    from rich.cells import cell_len

    out = stdout()
    laid_out = kept_whole(narrowed(columns, cells, out.width, cell_len), cells, cell_len)
    print_rich_table(cells, laid_out, title, out, lambda width: _data_console()(soft_wrap=False, width=width))


def fmt_date(value: datetime | None, tz: Any = clock.BRUSSELS) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d") if value else ""


def fmt_datetime(value: datetime | None, tz: Any = clock.BRUSSELS) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def fmt_money(value: float | None) -> str:
    """For a table cell: :func:`pipeline.core.text.money_short`, empty when unknown."""
    return money_short(value) or ""


def fmt_pct(value: float | None) -> str:
    """For a table cell: :func:`pipeline.core.text.percent_short`, empty when unknown."""
    return percent_short(value) or ""


# --- the main job's progress and digests ---------------------------------------------------------

@contextmanager
def source_progress() -> Iterator[Callable[[Progress], None]]:
    """A progress bar per source on stderr (only on a terminal), fed by :mod:`pipeline.sync`'s
    progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = stderr()
    tasks: dict[str, Any] = {}
    # a description names a source and a query of the config ("Horizon Europe [cluster 5]"): text, not markup
    with Bar(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
             TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:
        def update(step: Progress) -> None:
            if step.source not in tasks:
                tasks[step.source] = bar.add_task(step.source, total=None)
            task = tasks[step.source]
            if step.result is not None:
                bar.update(task, completed=1, total=1)
            elif step.number is not None:
                bar.update(task, description=f"{step.source}: {step.label}", completed=step.number,
                           total=step.pages)
        yield update


OUTCOME_COLUMNS = [
    Column("status", "Status", no_wrap=True),
    Column("channel", "Channel", no_wrap=True),
    Column("key", "Message", max_width=40),
    Column("error", "Error", max_width=30),
]


def report_outcomes(outcomes: Sequence[Outcome], as_json: bool, what: str) -> None:
    """Slack outcomes: JSON, the messages themselves when nothing went to Slack (dry run, no token), else
    a table; a line on stderr says why messages were deferred (not an error: they go on the next run);
    raises DeliveryError when any message failed, so the command exits 1."""
    from pipeline.notify.blocks import render_terminal  # Slack's block models only when reporting

    if as_json:
        print_json([outcome.as_dict() for outcome in outcomes])
    elif not outcomes:
        stderr().print(f"No {what} to send.")
    elif all(o.status in ("dry run", "terminal") for o in outcomes):
        if any(o.status == "terminal" for o in outcomes):
            stderr().print("No Slack token or webhook in the environment; showing the messages here.",
                           highlight=False)
        echo(render_terminal([o.message for o in outcomes]), nl=False)
    else:
        print_rows([o.as_dict() for o in outcomes], OUTCOME_COLUMNS)
    deferred = [o for o in outcomes if o.status == "deferred"]
    if deferred and not as_json:  # not a failure: Slack asked to wait, the next run sends them
        stderr().print(f"{len(deferred)} of {len(outcomes)} Slack messages deferred: {deferred[0].error}",
                       highlight=False, soft_wrap=True)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        from pipeline.notify.delivery import GIVEN_UP

        retried = [o for o in failed if GIVEN_UP not in (o.error or "")]
        first = (retried or failed)[0]
        raise DeliveryError(f"{len(failed)} of {len(outcomes)} Slack messages not sent ({first.error})"
                            + ("; they are retried on the next run" if retried else ""))
