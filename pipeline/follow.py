"""Following and muting a call, per strategy (library; the CLI is ``calls follow``/``mute`` in
pipeline/cli/calls_cmd.py, Slack's buttons pipeline/notify/interact.py).

- **Follow** is a strategy's promise to watch a call: it gets the strategy's deadline reminders
  (``slack.alerts.reminder_days``) and change alerts (deadline moved, withdrawn, removed) in the alerts
  channel, as a call an application bids for does. It is its own state: a *relevant* mark is a
  judgement for the ranking and follows nothing.
- **Mute** hides the call from that strategy's digests and new-call alerts. Changes to a call that
  one of its applications bids for are still reported: the application needs them. Muting one
  source's copy of a call mutes the call (pipeline.core.duplicates): the copy shown instead stays
  hidden when another source stores the call later, and unmuting it unmutes every copy. So with
  following: the copy shown is followed (its deadlines remind), and unfollowing it unfollows all.

Both are idempotent: following a followed call keeps the first row (who and when it was followed).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.core.errors import ValidationError
from pipeline.core.sql import Database, database

if TYPE_CHECKING:
    from sqlmodel import Session

    from pipeline.core.models import CallFollow

KINDS = ("follow", "mute")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError(f"unknown call state {kind!r}; use follow or mute")
    return kind


def set_state(session: Session, strategy: str, call_id: int, kind: str, now: datetime,
              by: str | None = None) -> bool:
    """Follow or mute ``call_id`` for ``strategy``; False when it already was (nothing changes)."""
    from sqlmodel import select

    from pipeline.core.models import CallFollow

    existing = session.exec(select(CallFollow).where(
        CallFollow.strategy == strategy, CallFollow.call_id == call_id,
        CallFollow.kind == _kind(kind))).first()
    if existing is not None:
        return False
    session.add(CallFollow(strategy=strategy, call_id=call_id, kind=kind, by=by, at=now))
    session.flush()
    return True


def clear_state(session: Session, strategy: str, call_id: int, kind: str) -> bool:
    """Unfollow or unmute; False when the call was not followed (muted)."""
    from sqlmodel import delete

    from pipeline.core.models import CallFollow

    ids = copies_of(session, call_id)  # any copy of the call (pipeline.core.duplicates) is unfollowed
    result = session.execute(delete(CallFollow).where(
        CallFollow.strategy == strategy, CallFollow.call_id.in_(ids), CallFollow.kind == _kind(kind)))
    return bool(result.rowcount)


def copies_of(source: Database | Session, call_id: int) -> list[int]:
    """``call_id`` and the other sources' copies of its call (pipeline.core.duplicates), by id."""
    db = database(source)
    kept = db.first("SELECT COALESCE(c.duplicate_of, c.id) FROM call c WHERE c.id = :id", {"id": call_id})
    if kept is None:
        return [call_id]
    return sorted({call_id, kept[0], *(row[0] for row in db.rows(
        "SELECT c.id FROM call c WHERE c.duplicate_of = :kept", {"kept": kept[0]}))})


def calls_in_state(source: Database | Session, strategy: str, kind: str) -> set[int]:
    """The ids of the calls ``strategy`` follows (``follow``) or has muted (``mute``)."""
    return {row[0] for row in database(source).rows(
        "SELECT f.call_id FROM call_follow f WHERE f.strategy = :strategy AND f.kind = :kind",
        {"strategy": strategy, "kind": _kind(kind)})}


def followed_calls(source: Database | Session, strategy: str) -> set[int]:
    """The calls followed; a copy another source's copy is listed instead of (pipeline.core.duplicates)
    stands for that copy, whose deadlines and changes the reminders and alerts then follow."""
    return {row[0] for row in database(source).rows(
        "SELECT COALESCE(c.duplicate_of, f.call_id) FROM call_follow f LEFT JOIN call c ON c.id = f.call_id "
        "WHERE f.strategy = :strategy AND f.kind = 'follow'", {"strategy": strategy})}


def muted_calls(source: Database | Session, strategy: str) -> set[int]:
    """The calls muted, with the other sources' copies of each (pipeline.core.duplicates)."""
    return {row[0] for row in database(source).rows(
        "SELECT f.call_id FROM call_follow f WHERE f.strategy = :strategy AND f.kind = 'mute' "
        "UNION SELECT c.duplicate_of FROM call c JOIN call_follow f ON f.call_id = c.id "
        "WHERE f.strategy = :strategy AND f.kind = 'mute' AND c.duplicate_of IS NOT NULL "
        "UNION SELECT c.id FROM call c JOIN call_follow f ON f.call_id = c.duplicate_of "
        "WHERE f.strategy = :strategy AND f.kind = 'mute'", {"strategy": strategy})}


def follows(session: Session, strategy: str, kind: str = "follow") -> list[CallFollow]:
    """The rows of one kind, oldest first (for listings)."""
    from sqlmodel import select

    from pipeline.core.models import CallFollow

    return list(session.exec(select(CallFollow).where(
        CallFollow.strategy == strategy, CallFollow.kind == _kind(kind))
        .order_by(CallFollow.at, CallFollow.id)))
