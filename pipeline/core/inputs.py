"""What people type, parsed and checked: short ids ("12" or "#12"), euro amounts, country codes and
lists of names.

Shared by ideas, partners and applications; each error is one line saying what to type instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from pipeline.core.errors import ValidationError
from pipeline.core.text import not_utf8, one_line, printable, shorten

# Codes EU documents use instead of the ISO ones.
COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}
# Babel's territories also hold regions and groupings that are not countries, and ZZ, "Unknown Region"
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"}
# The id columns are INTEGER, 32 bits on PostgreSQL: a larger id failed its query there with a traceback
# ('integer out of range') where SQLite said there was no such row
MAX_ID = 2**31 - 1


def parse_id(text: str | int, what: str) -> int:
    """A short id as typed: ``12`` or ``#12``."""
    value = str(text).strip().removeprefix("#").strip()
    if not value.isdecimal():  # isdigit() takes "²", which int() refuses
        raise ValidationError(f"{what} id {str(text)!r} is not a number; give it as 12 or #12")
    if int(value) == 0:
        raise ValidationError(f"{what} id {str(text)!r} is not an id (ids start at 1); give it as 12 or #12")
    if int(value) > MAX_ID:
        raise ValidationError(f"{what} id {str(text)[:40]!r} is larger than any id; give it as 12 or #12")
    return int(value)


@cache
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → English name (from babel's CLDR data, not a hand-kept list)."""
    from babel import Locale

    return {code: name for code, name in Locale("en").territories.items()
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES}


def country_code(text: str) -> str:
    """``"dk"`` → ``"DK"``; EU's ``EL``/``UK`` become ``GR``/``GB``; anything else is an error."""
    code = text.strip().upper()
    code = COUNTRY_ALIASES.get(code, code)
    if code not in country_names():
        raise ValidationError(f"country {text.strip()!r} is not an ISO 3166 country code; use two "
                              "letters such as DK, SE or DE")
    return code


def country_codes(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for part in value.replace(";", ",").split(","):
            if part.strip():
                code = country_code(part)
                if code not in out:
                    out.append(code)
    return out


MAX_NAME = 300  # a title or organisation name; longer is a paste gone wrong (a partner CSV's limit too)


def name_line(text: str, what: str = "the name") -> str:
    """A typed name or title as stored: on one line, without control characters or terminal escape
    sequences, so that text of nothing else counts as empty rather than as an invisible name; at most
    :data:`MAX_NAME` characters."""
    name = one_line(printable(text))
    if (problem := not_utf8(name)) is not None:
        raise ValidationError(f"{what} is not UTF-8 text ({problem}); write it in UTF-8")
    if len(name) > MAX_NAME:
        raise ValidationError(f"{what} is {len(name):,} characters long, more than {MAX_NAME}; shorten it "
                              f"(it starts {shorten(name, 40)!r})")
    return name


def split_list(values: Iterable[str]) -> list[str]:
    """Repeated options and comma/semicolon separated text as one list, blanks and repeats dropped."""
    out: list[str] = []
    for value in values:
        for part in value.replace(";", ",").split(","):
            item = " ".join(part.split())
            if item and item.casefold() not in (o.casefold() for o in out):
                out.append(item)
    return out


# "450000", "450,000" (as fundradar prints amounts), "450k", "1.5M", "2 mio", with "EUR" or "€" around
_AMOUNT = re.compile(r"(?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)\s*"
                     r"(?P<unit>k|m|mio\.?|million)?", re.IGNORECASE)
_UNITS = {"k": 1e3, "m": 1e6, "mio": 1e6, "mio.": 1e6, "million": 1e6}
AMOUNT_FORMS = "450000, 450,000, 450k or 1.5M"


def parse_amount(text: str | None, what: str) -> float | None:
    """A euro amount as typed: ``450000``, ``450,000``, ``EUR 450,000``, ``€450k``, ``1.5M``, ``2 mio``;
    None for None. Anything ``float`` reads (``-5``, ``1e30``, ``nan``) is returned for the caller's
    range check; other text (another currency, ``1,5`` or ``1.500.000``) is an error saying what to
    write."""
    if text is None:
        return None
    value = text.strip()
    bare = re.sub(r"^(?:eur|€)\s*|\s*(?:eur|€)$", "", value, flags=re.IGNORECASE)
    match = _AMOUNT.fullmatch(bare)
    if match:
        unit = (match["unit"] or "").lower()
        return float(match["number"].replace(",", "")) * _UNITS.get(unit, 1)
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{what} {shorten(text, 40)!r} is not an amount in euros; write it as "
                              f"{AMOUNT_FORMS} (other currencies converted to euros)") from None
