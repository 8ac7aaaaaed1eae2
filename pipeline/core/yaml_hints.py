"""What to write instead of a value as people write it, for the one-line config errors of
:mod:`pipeline.core.yaml`: a percentage or a thousands separator where a plain number is meant, a
lead time with its unit, a number or date where text is meant, a list without its brackets."""

from __future__ import annotations

import datetime
import re
from typing import Any


def weeks_hint(text: str) -> str:
    """What to write for a lead time given with its unit ("2 weeks", "14d", "6w")."""
    found = re.fullmatch(r"\s*(\d{1,4}(?:[.,]\d+)?)\s*(w|weeks?|uger?|d|days?|dage?)\s*", text, re.IGNORECASE)
    if found is None:
        return "a number of weeks without a unit: write 6 for six weeks"
    number = float(found.group(1).replace(",", "."))
    weeks = number if found.group(2).lower().startswith(("w", "u")) else number / 7
    return f"a number of weeks without a unit: write {round(weeks, 2):g} for {text.strip()!r}"


# how a secretariat writes "no such rule" in English or Danish, Swedish, Norwegian
_NO_VALUE = frozenset("none no nothing n/a na - – — ingen intet inget inga ingenting ubegrænset unlimited "
                      "nil".split())


def no_rule_hint(value: Any) -> str:
    """What to write for a rule given as 'none' ('ingen'): a rule left out is not applied."""
    if isinstance(value, str) and value.strip().casefold() in _NO_VALUE:
        return "; for no such rule leave the line out (or write null)"
    return ""


def list_hint(value: str, *, rule: bool) -> str:
    """What to write for a list given as one word: in brackets, or for a rule written 'none' nothing."""
    return (rule and no_rule_hint(value)) or f"; {as_list(value)}"


def text_hint(kind: str, value: Any) -> str:
    """What to write where text is wanted and YAML read a number, a date or true/false (a keyword
    ``2030``, a label ``true``): the same in quotes."""
    if kind != "string_type" or not isinstance(value, int | float | datetime.date):
        return ""
    if isinstance(value, bool):
        return f'; it is read as true/false: put it in quotes to keep it as text: "{str(value).lower()}"'
    what = "a date" if isinstance(value, datetime.date) else "a number"
    # 0x1F, 012 and 1e3 come back as 31, 12 and 1000.0: only a plain int is shown as written
    shown = f'"{value}"' if type(value) is int or isinstance(value, datetime.date) else "as you wrote it"
    return f"; it is read as {what}: put it in quotes to keep it as text: {shown}"


def as_list(text: str) -> str:
    """How to write ``text`` as the list the key takes: YAML reads a bare line as one string."""
    items = [item.strip() for item in text.split(",") if item.strip()] or [text]
    shown = "[" + ", ".join(items) + "]"
    return f"write it in brackets: {shown if len(shown) <= 80 else shown[:77] + '...'}"


OVER_100 = "; a rate is at most 100 %: write a fraction up to 1, 0.7 for 70 %"


def number_hint(kind: str, ctx: dict[str, Any], value: Any) -> str:
    """What to write instead of a number as people write it: a percentage where a fraction is meant,
    thousands separators; and instead of yes or no in words ('ja', 'nej')."""
    if kind == "bool_parsing":
        return "; write true or false"
    if kind == "less_than_equal" and ctx.get("le") == 1 and isinstance(value, int | float) \
            and value > 1:
        # 1.5 is a fraction over 1 (150 %), not 1.5 %: only a value from 2 to 100 reads as a percentage
        if 2 <= value <= 100:
            return f"; rates and scores are fractions: write {value / 100:g} for {value:g} %"
        return OVER_100
    if kind in ("float_parsing", "int_parsing") and isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            number = text.removesuffix("%").strip().replace(",", ".")
            try:
                percent = float(number)
            except ValueError:
                return "; rates are fractions: write 0.7 for 70 %"
            if percent > 100:
                return OVER_100
            return f"; rates are fractions: write {percent / 100:g} for {number} %"
        digits = re.fullmatch(r"\d{1,3}(?:([.,' ])\d{3})+", text)
        if digits:
            return f"; write the number without thousands separators: {re.sub(r'[^0-9]', '', text)}"
        if re.fullmatch(r"\d+,\d+", text):  # the Danish decimal comma: 0,3 for 0.3
            return f"; YAML writes decimals with a point: write {text.replace(',', '.')}"
    return ""
