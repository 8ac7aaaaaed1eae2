"""What the notifications follow: the changes of calls we follow, read once for the digest and the
alerts alike, so both report the same moves the same way.

A change counts when it is a deadline move whose shown (Brussels time) value differs, or a status
change; ``kind`` is ``deadline``, ``withdrawn`` (the call was withdrawn or removed), ``back`` (a call
withdrawn or removed is listed again, open or forthcoming: who was told it was gone is told it is
back) or ``status``.
Applications in one of :data:`DONE_APPLICATION_STATUSES` no longer get reminders or deadlines.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pipeline.core.clock import as_utc
from pipeline.core.models import Call, CallChange
from pipeline.notify.blocks import fmt_deadline

DONE_APPLICATION_STATUSES = ("submitted", "granted", "rejected", "withdrawn")
DEADLINE_FIELDS = ("deadlines", "deadline")

GONE_STATUSES = ("withdrawn", "removed")
BACK_STATUSES = ("announced", "forthcoming", "open")


@dataclass(frozen=True)
class FollowedChange:
    """One change of a followed call, with its old and new value as shown (deadlines in Brussels time)."""

    change: CallChange
    call: Call
    kind: str  # deadline | status | withdrawn | back
    old: str | None
    new: str | None

    @property
    def at(self) -> datetime:
        return as_utc(self.change.changed_at)


def followed_changes(session: Session, call_ids: Collection[int], since: datetime,
                     now: datetime) -> list[FollowedChange]:
    """Deadline moves, status changes and withdrawals of ``call_ids`` in ``since``..``now``, oldest
    first."""
    if not call_ids:
        return []
    rows = session.exec(select(CallChange, Call).join(Call, Call.id == CallChange.call_id).where(
        CallChange.call_id.in_(call_ids),
        CallChange.field.in_((*DEADLINE_FIELDS, "status")),
        CallChange.changed_at > since, CallChange.changed_at <= now)
        .order_by(CallChange.changed_at, CallChange.id)).all()
    found = []
    for change, call in rows:
        if change.field in DEADLINE_FIELDS:
            kind, old, new = "deadline", deadline_text(change.old), deadline_text(change.new)
            if old == new:
                continue
        else:
            kind = "withdrawn" if change.new in GONE_STATUSES else \
                "back" if change.old in GONE_STATUSES and change.new in BACK_STATUSES else "status"
            old, new = change.old, change.new
        found.append(FollowedChange(change, call, kind, old, new))
    return found


def deadline_text(value: str | None) -> str | None:
    """A stored deadline value (ISO text, or the JSON list of ``{"at": …}``) as Brussels time."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        data = value
    items = data if isinstance(data, list) else [data]
    shown = []
    for item in items:
        raw = item.get("at") if isinstance(item, dict) else item
        try:
            shown.append(fmt_deadline(as_utc(datetime.fromisoformat(str(raw)))))
        except ValueError:
            shown.append(str(raw))
    return ", ".join(shown) or None
