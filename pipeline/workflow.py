"""An application's statuses, in workflow order: the ones it may still move from, and the final ones.

Apart from :mod:`pipeline.applications` (which moves applications between them) so that listings that
only read, such as ``fundradar deadlines``, know them without importing the models.
"""

from __future__ import annotations

STATUSES = ("draft", "consortium", "writing", "submitted", "granted", "rejected", "withdrawn")
FINAL = ("granted", "rejected", "withdrawn")
# Not submitted yet: once the call's last deadline has passed, such an application is overdue (submit
# it, or withdraw it); a submitted one past its deadline waits for the decision.
BEFORE_SUBMISSION = ("draft", "consortium", "writing")


def is_overdue(status: str, deadline_passed: bool) -> bool:
    return deadline_passed and status in BEFORE_SUBMISSION
