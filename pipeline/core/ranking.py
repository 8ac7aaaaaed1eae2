"""The one order of calls by score that every view shares (pure): ``calls list``, the digest, the
new-call alerts and ``eval --judged`` (which reads the listing) rank the same calls alike.

A score is capped at 1 (:mod:`classifiers.matcher`), so several calls of an area can show 1.000; among
equal scores the one with more evidence before the caps (``Score.evidence``) ranks first, then the
sooner next deadline, then the call id. The shown score, the thresholds and the explanations are the
capped score's; the evidence only orders what the score cannot tell apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

NO_DEADLINE = datetime.max.isoformat()  # a call without a next deadline ranks after those with one


def score_order(score: float | None, evidence: float | None, next_deadline: str | None,
                call_id: int) -> tuple[Any, ...]:
    """The sort key of a call by its score (None ranks as 0), its evidence (None: a row stored before
    evidence was kept ranks as its score), its next deadline (ISO UTC) and its id."""
    value = score or 0.0
    return -value, -(value if evidence is None else evidence), next_deadline or NO_DEADLINE, call_id
