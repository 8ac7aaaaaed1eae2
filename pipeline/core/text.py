"""Short text for people: one-line messages, shortened quotes, money and percentages (pure).

Two money and two percent styles exist because they answer different needs:

* :func:`money_short` / :func:`percent_short` are compact ("€1.5M", "€250k", "40%") for tables and
  chat messages, and give None for an unknown value so the caller decides what to show instead;
* :func:`money_eur` / :func:`percent_precise` are exact enough to check a rule against its minimum
  ("EUR 1,250,000", "12.5 %").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ELLIPSIS = "…"


def one_line(text: str | None) -> str:
    """Runs of whitespace (newlines included) as one space, trimmed; "" for None."""
    return " ".join((text or "").split())


def shorten(text: str, limit: int = 60) -> str:
    """``text`` on one line and cut to ``limit`` characters, ending with "…" when cut, so a message
    quoting it stays one short line."""
    text = one_line(text)
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def wait_text(seconds: float) -> str:
    """A wait a server asked for, as a person reads it: "3600 s" under a day, "14 days" under a year,
    else "more than a year" (a Retry-After of a far date or of twenty digits read "1e+23 s")."""
    if seconds < 86_400:
        return f"{seconds:g} s"
    days = seconds / 86_400
    return f"{days:.0f} days" if days < 365 else "more than a year"


# why a host name is none the network can look up, as config check and the watcher say it
NOT_A_HOST_NAME = "a part between its dots is empty or longer than 63 characters"


def host_name_ok(host: str) -> bool:
    """Whether the name resolver can be asked for ``host`` (an IP address always can): a name with an
    empty part ("example..dk") or a part over 63 characters is refused by the IDNA encoding the socket
    applies, with a bare UnicodeError no HTTP client turns into its own error."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def folder_not_database(path: str) -> str:
    """What to say of a SQLite database path that is a folder."""
    return (f"{path} is a folder, not a database file; point FUNDRADAR_DB / --db at a file, such as "
            f"{path.rstrip('/')}/fundradar.db (a new path creates one)")


def money_short(value: float | None) -> str | None:
    """Euros to one significant step: ``1_500_000`` → "€1.5M", ``250_000`` → "€250k", ``12`` → "€12".
    Halves round up, as people round (``1_250_000`` → "€1.3M"; a float's own rounding would give
    "€1.2M" here and "€1.4M" for 1,350,000), and the unit is chosen after rounding, so 999,600 is
    "€1.0M", never "€1000k"."""
    if value is None or not math.isfinite(value):
        return None
    exact = Decimal(repr(float(value)))  # the decimal the number was written as, not its binary value
    if _half_up(exact / 1000, "1") >= 1000:
        return f"€{_half_up(exact / 1_000_000, '0.1')}M"
    if _half_up(exact, "1") >= 1000:
        return f"€{_half_up(exact / 1000, '1')}k"
    return f"€{_half_up(exact, '1')}"


def _half_up(value: Decimal, step: str) -> Decimal:
    return value.quantize(Decimal(step), rounding=ROUND_HALF_UP)


def percent_short(value: float | None) -> str | None:
    """A fraction as whole percent: ``0.4`` → "40%"."""
    return None if value is None else f"{value * 100:.0f}%"


def money_eur(value: float) -> str:
    """Whole euros with thousands separators: "EUR 1,250,000"."""
    return f"EUR {value:,.0f}"


def percent_precise(value: float) -> str:
    """A fraction as percent to one decimal, trailing zeros dropped: ``0.164`` → "16.4 %", ``1`` → "100 %"."""
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + " %"


# Terminal escape sequences: CSI (colours, cursor moves, clear screen), OSC (titles, OSC 8 hyperlinks,
# ended by BEL or ST) and the other two-character ESC sequences, in their 7-bit and 8-bit forms.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|\x1b[ -~]?")
# C0 and C1 controls (newline and tab kept), DEL, and the bidirectional overrides that reorder a line.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# Unicode's line and paragraph separators end a line for str.splitlines, editors and log viewers, but
# for no terminal: written as they are, a line a reader sees as one is two to the tools that read it.
_SEPARATORS = {0x2028: "\n", 0x2029: "\n"}


def printable(text: object) -> str:
    """``text`` safe to write to a terminal: escape sequences removed whole, other control characters
    (carriage return, backspace, bell, bidi overrides) dropped; newlines and tabs kept, and the line and
    paragraph separators written as newlines. Scraped text is data and must never move the cursor,
    recolour, clear the screen or plant a hyperlink."""
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    value = value.replace("\r\n", "\n").translate(_SEPARATORS)
    return _CONTROLS.sub("", _ESCAPES.sub("", value))


# a byte of a typed text (an argument, an environment variable) that is not UTF-8 reaches Python as a
# lone surrogate (U+DC80-U+DCFF for byte 0x80-0xff), which no database stores and no terminal shows
_SURROGATE = re.compile("[\ud800-\udfff]")


def not_utf8(text: str) -> str | None:
    """What makes ``text`` no UTF-8 text ("byte 0xf8 in 'Gr\ufffdn'"), or None when it is."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "a lone surrogate"
    return f"{byte} in {_SURROGATE.sub(chr(0xFFFD), printable(text))!r}"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"), also
# behind spaces or invisible characters: LibreOffice ("trim spaces") and Google Sheets drop those first.
_FORMULA_START = re.compile("[\\s\u200b\u2060\ufeff]*[=+\\-@\t\r\n]")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string starting with ``= + - @`` (or tab, CR, LF),
    after any leading spaces, gets a leading apostrophe, the OWASP rule; numbers stay numbers (``-3`` is
    a value, not a formula)."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if _FORMULA_START.match(value) else value


# æ, ø and å (and their Swedish and German kin) as a name of a-z writes them: "ældre" → "aeldre"
_SPELT_OUT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                            "é": "e", "è": "e", "á": "a", "à": "a", "í": "i", "ó": "o", "ú": "u"})


def spelt_out(text: str) -> str:
    """``text`` in lower case with æ, ø, å … written as a-z writes them ("Velfærd" → "velfaerd")."""
    return text.casefold().translate(_SPELT_OUT)


def unknown_focus_area(area: str, known: Iterable[str] | Mapping[str, Any],
                       have: str = "the strategy has") -> str:
    """The one line for a focus area name that is not one: the known name it is closest to, also when
    it was typed in another case or with æ, ø or å ("velfærd_ældre" for velfaerd_aeldre), or is the
    area's label (``known`` the focus areas by name: "Bæredygtig turisme" for turisme), then them all."""
    import difflib

    names = list(known)
    labelled = {}
    if isinstance(known, Mapping):
        for name, value in known.items():
            label = value.get("label") if isinstance(value, Mapping) else getattr(value, "label", None)
            if isinstance(label, str) and label.strip():
                labelled.setdefault(spelt_out(" ".join(label.split())), name)
    folded = {spelt_out(name): name for name in names}
    close = difflib.get_close_matches(spelt_out(area), list(folded), n=1, cutoff=0.75)
    named = labelled.get(spelt_out(" ".join(area.split())))
    if named is not None and spelt_out(area) not in folded:
        hint = f" (that is the label of focus area {named!r}: give its name)"
    else:
        hint = f" (did you mean {folded[close[0]]!r}?)" if close else ""
    return f"unknown focus area {area!r}{hint}; {have} {', '.join(names) or 'none'}"


def terms_shown(terms: Sequence[str], limit: int = 60) -> str:
    """"underwater drones, unmanned underwater vehicles and 1 more": whole terms while they fit in
    ``limit`` characters (the first always), the rest counted, so no term is cut in the middle."""
    shown: list[str] = []
    for term in terms:
        if shown and len(", ".join([*shown, term])) > limit:
            break
        shown.append(term)
    rest = len(terms) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest else "")


_NOT_INITIALLED = {"and", "of", "for", "the", "og", "i"}  # "Research Fund for Coal & Steel": RFCS


def initials(name: str) -> str:
    """"European Defence Fund" → "edf": the acronym a programme goes by, lower case (the small words
    and the parts in brackets left out: "Research Fund for Coal & Steel (RFCS)" → "rfcs")."""
    said = re.sub(r"\([^)]*\)", " ", name)
    return "".join(word[0] for word in re.findall(r"\w+", said.casefold()) if word not in _NOT_INITIALLED)


def one_edit_apart(a: str, b: str) -> bool:
    """One letter added, dropped, changed, or two neighbours swapped ("hydrogne"): a slip of the hand,
    where difflib's ratio also takes two dropped letters ("coupling", "coping") for one."""
    if a == b or abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        # a slip of the hand rarely hits the first letter, and two real words often differ just
        # there ("medtech", "edtech"): a hint to such a word would be a false alarm
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
