"""Short text for people: one-line messages, shortened quotes, money and percentages (pure).

Two money and two percent styles exist because they answer different needs:

* :func:`money_short` / :func:`percent_short` are compact ("€1.5M", "€250k", "40%") for tables and
  chat messages, and give None for an unknown value so the caller decides what to show instead;
* :func:`money_eur` / :func:`percent_precise` are exact enough to check a rule against its minimum
  ("EUR 1,250,000", "12.5 %").
"""

from __future__ import annotations

ELLIPSIS = "…"


def one_line(text: str | None) -> str:
    """Runs of whitespace (newlines included) as one space, trimmed; "" for None."""
    return " ".join((text or "").split())


def shorten(text: str, limit: int = 60) -> str:
    """``text`` on one line and cut to ``limit`` characters, ending with "…" when cut, so a message
    quoting it stays one short line."""
    text = one_line(text)
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def money_short(value: float | None) -> str | None:
    """Euros to one significant step: ``1_500_000`` → "€1.5M", ``250_000`` → "€250k", ``12`` → "€12"."""
    if value is None:
        return None
    if value >= 1_000_000:
        return f"€{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"€{value / 1_000:.0f}k"
    return f"€{value:.0f}"


def percent_short(value: float | None) -> str | None:
    """A fraction as whole percent: ``0.4`` → "40%"."""
    return None if value is None else f"{value * 100:.0f}%"


def money_eur(value: float) -> str:
    """Whole euros with thousands separators: "EUR 1,250,000"."""
    return f"EUR {value:,.0f}"


def percent_precise(value: float) -> str:
    """A fraction as percent to one decimal, trailing zeros dropped: ``0.164`` → "16.4 %", ``1`` → "100 %"."""
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + " %"
