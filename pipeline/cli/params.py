"""Option values turned into Python values without building a pydantic TypeAdapter for each option.

typer coerces every option's value, the default and an absent ``None`` included, through a pydantic
TypeAdapter it builds on first use; importing typer's adapter module and building an adapter for each
of a command's options (its flags too) is a fifth of what ``fundradar calls list`` takes. fundradar's
options are flags, text, whole numbers and decimals, some with a range: for such a value given in its
plain form (``20``, ``0.5``, any text) the result is the one the adapter gives, so it is computed here.
Anything else (another type, a sign or spaces around a number, a value outside its range, a list) goes
to typer's own adapter, so its result and its error messages stay exactly typer's.

A text argument or option must be UTF-8 (:func:`utf8_texts`): a byte that is not reaches Python as a
lone surrogate no database can store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, get_args

from typer import _click as click

from pipeline.core.text import not_utf8

# A whole-number option or argument without a maximum of its own goes up to this: an id is an INTEGER
# column, --top a LIMIT, --jitter seconds handed to C; past it each failed with
# an OverflowError traceback ("Python int too large to convert to SQLite INTEGER").
MAX_NUMBER = 2**31 - 1
# short enough that int() and float() take them as pydantic does (int() refuses thousands of digits)
_WHOLE = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")


class PlainValues:
    """What typer's parameter asks of its coercion (``coerce``), for the values of one option."""

    def __init__(self, param: Any) -> None:
        self.param = param
        info = param.type_descriptor.parameter_info
        self.annotation = param.type_descriptor.annotation
        self.low, self.high = info.min, info.max
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: click.Context) -> Any:
        if self.annotation is float and type(value) is str and value.strip().lstrip("+-").lower() == "nan":
            # pydantic takes "nan" for a float and then reads it as above any maximum
            from typer._click.exceptions import BadParameter

            bounded = None not in (self.low, self.high)
            span = f"one from {self.low:g} to {self.high:g}" if bounded else "a number"
            raise BadParameter(f"{value!s:.40} is not a number; give {span}", ctx=ctx, param=param)
        result = self._plain(value)
        if result is _UNSURE:
            if self._typer is None:
                from typer._coercion import build_runtime_param

                self._typer = build_runtime_param(self.param.type_descriptor)
            result = self._typer.coerce(value, param=param, ctx=ctx)
        if self.high is None and type(result) is int and not abs(result) <= MAX_NUMBER:
            from typer._click.exceptions import BadParameter

            raise BadParameter(f"{value!s:.40} is too large; give a number up to {MAX_NUMBER:,}",
                               ctx=ctx, param=param)
        return result

    def _plain(self, value: Any) -> Any:
        if value is None:
            return None
        if self.annotation is str:
            return value if type(value) is str else _UNSURE
        if self.annotation is bool:  # a flag not given (None), or given
            return value if type(value) is bool else _UNSURE
        if self.annotation is int:
            if type(value) is str and _WHOLE.fullmatch(value):
                value = int(value)
            return value if type(value) is int and self._in_range(value) else _UNSURE
        if self.annotation is float:
            if type(value) is str and _DECIMAL.fullmatch(value):
                value = float(value)
            elif type(value) is int and abs(value) < 2**53:  # a default written as a whole number
                value = float(value)
            return value if type(value) is float and self._in_range(value) else _UNSURE
        return _UNSURE

    def _in_range(self, number: float) -> bool:
        return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)


_UNSURE = object()  # a value left to typer's adapter


def plain_values(params: Iterable[click.Parameter]) -> None:
    """Text, flag and number options among ``params`` coerced by :class:`PlainValues`; options of other
    kinds (choices, paths, lists, a parser of their own), and parameters that are not typer's as typer
    0.29 builds them, keep typer's coercion."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if getattr(param, "_runtime_param", False) is not None or descriptor is None:
            continue
        info = descriptor.parameter_info
        if (descriptor.annotation in (str, bool, int, float) and not (param.multiple or param.nargs != 1)
                and info.parser is None and not info.clamp):
            param._runtime_param = PlainValues(param)


def utf8_texts(params: Iterable[click.Parameter], ctx: click.Context) -> None:
    """Refuse a text argument or option holding a byte that is not UTF-8 (a Latin-1 terminal's "ø"),
    naming it, before the command stores or compares it; a file name may hold any bytes and is kept."""
    from typer._click.exceptions import UsageError

    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        annotation = getattr(descriptor, "annotation", None)
        if annotation is not str and str not in get_args(annotation):
            continue
        value = ctx.params.get(param.name or "")
        for text in value if isinstance(value, list | tuple) else [value]:
            problem = not_utf8(text) if isinstance(text, str) else None
            if problem is not None:
                name = param.opts[0] if param.param_type_name == "option" else param.name
                raise UsageError(f"{name} is not UTF-8 text ({problem}); set the terminal to UTF-8 "
                                 "(LANG=da_DK.UTF-8, for one) and type it again", ctx=ctx)
