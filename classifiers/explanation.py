"""A Score row's explanation as the JSON text stored, written directly rather than through ``json.dumps``.

Writing a full rescore's ~250,000 explanations through ``json.dumps`` of lists of dicts took a good part
of its time; this writes the same text (``json.dumps``'s default separators and ASCII escaping, a float
as its ``repr``) from the (term, weight) pairs, each term's quoted form computed once per process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

_quoted: dict[str, str] = {}


def _quote(term: str) -> str:
    found = _quoted.get(term)
    if found is None:
        found = _quoted[term] = json.dumps(term)
    return found


def _number(value: float) -> str:
    # json.dumps writes a finite float as float.__repr__; NaN and infinities by its own spelling
    return float.__repr__(value) if math.isfinite(value) else json.dumps(value)


def terms_json(terms: Sequence[tuple[str, float]]) -> str:
    """``json.dumps([{"term": t, "weight": w} for t, w in terms])``, byte for byte."""
    return "[" + ", ".join(f'{{"term": {_quote(t)}, "weight": {_number(w)}}}' for t, w in terms) + "]"


def excluded_json(phrase: str) -> str:
    """``json.dumps([{"term": phrase, "weight": 0.0, "excluded": True}])``, byte for byte."""
    return f'[{{"term": {_quote(phrase)}, "weight": 0.0, "excluded": true}}]'
