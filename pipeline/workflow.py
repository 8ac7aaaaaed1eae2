"""An application's statuses, in workflow order: the ones it may still move from, and the final ones.

Apart from :mod:`pipeline.applications` (which moves applications between them) so that listings that
only read, such as ``fundradar deadlines``, know them without importing the models.
"""

from __future__ import annotations

STATUSES = ("draft", "consortium", "writing", "submitted", "granted", "rejected", "withdrawn")
FINAL = ("granted", "rejected", "withdrawn")
