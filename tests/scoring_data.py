"""Calls for the scoring tests, inserted with the models into the test's real database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pipeline.core.db import session_scope
from pipeline.core.models import Call

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()


def insert_calls(engine: Any, texts: list[tuple[str, str]], start: int = 0, *,
                 hashed: bool = False) -> list[int]:
    """One Horizon Europe call per (title, text), numbered from ``start``, deadline 2027-01-20; with
    ``hashed`` each gets the content hash a sync gives it (else none, as after an ORM edit)."""
    ids = []
    with session_scope(engine) as session:
        for number, (title, text) in enumerate(texts, start):
            call = Call(source="eu_ft", external_id=f"ref-{number}", topic_id=f"HORIZON-CL5-2027-{number:03}",
                        programme="Horizon Europe", title=title, text=text,
                        content_hash=content_hash(title, text) if hashed else "",
                        type_of_action="HORIZON  Research and Innovation Actions", max_contribution=3e6,
                        deadlines=[{"at": "2027-01-20T16:00:00+00:00", "time_assumed": False}],
                        first_seen=NOW, last_seen=NOW)
            session.add(call)
            session.flush()
            ids.append(call.id)
    return ids
