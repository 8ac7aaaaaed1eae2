"""Why a call matched, in words a reader knows: the focus area's keywords found in the call
(:func:`matched_phrases`), else the matcher's top terms in the call's own words
(:func:`terms_in_words`). The digest and the alerts say it alike."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from classifiers.text import call_forms, spoken
from pipeline.core.config import FocusArea
from pipeline.core.models import Call


def matched_phrases(area: FocusArea, text: str, limit: int = 4) -> list[str]:
    """The focus area's keywords (or, for a keyword with synonyms, the translation) that occur in
    ``text`` as whole words (or their plural), in the area's order: why the call matched, in the
    strategy's own words rather than the matcher's stemmed terms."""
    from classifiers.query import with_closed_forms

    found: list[str] = []
    text = unicodedata.normalize("NFKC", text)  # as the matcher reads them: "CO₂" is "CO2"
    for keyword in area.keywords:
        for phrase in [keyword, *area.synonyms_of(keyword)]:
            # plurals too, and a hyphenated phrase written closed ("eco-design" as "ecodesign")
            forms = with_closed_forms((unicodedata.normalize("NFKC", phrase),))
            if any(re.search(rf"(?<!\w){re.escape(form)}(?:s|es)?(?!\w)", text, re.IGNORECASE)
                   for form in forms):
                if phrase not in found:
                    found.append(phrase)
                break
    # "grid" says nothing more once "electricity grid" is there
    found = [p for p in found if not any(p != other and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", other,
                                                                  re.IGNORECASE) for other in found)]
    return found[:limit]


def terms_in_words(explanation: list[dict[str, Any]] | None, call: Call) -> list[str]:
    """The score's top terms in the call's own words ("processes", not the stemmed "processe")."""
    terms = [str(t.get("term")) for t in (explanation or [])[:5] if t.get("term")]
    if not terms:
        return []
    forms = call_forms(call.title, call.text)
    return [spoken(term, forms) for term in terms]
