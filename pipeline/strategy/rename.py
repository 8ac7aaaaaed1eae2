"""Move what is stored under a strategy's old name to its new one, after the name changed in its file.

What a strategy owns in the database is keyed by its name: its ideas (and through them their
applications), the fundraisers' marks, its scores, verdicts and scoring model, and (with a config
folder) the keys of the Slack messages already sent for it. :func:`rename_strategy` moves them in one
transaction:

* ideas and marks move (the marks change the queries, so the next scoring run rebuilds them);
* scores, verdicts and the scoring model move when the new name has none yet; when a scoring run under
  the new name has already made its own (``serve`` reloads and rescores at once), the old ones are
  deleted instead: they are derived data, rebuilt by scoring;
* Slack delivery keys ``OLD:...`` become ``NEW:...``, so alerts and digests already sent are not sent
  again; a key already present under the new name stays and the old one is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from pipeline.core.errors import ValidationError
from pipeline.core.models import (
    CallFollow,
    Idea,
    Mark,
    Score,
    ScoringModel,
    SlackDelivery,
    SlackInteraction,
    Verdict,
)


@dataclass(frozen=True)
class RenameCounts:
    ideas: int = 0
    marks: int = 0
    scores: int = 0  # moved (or, when ``derived_dropped``, deleted)
    verdicts: int = 0
    deliveries: int = 0
    derived_dropped: bool = False  # the new name already had scores: the old ones were deleted

    @property
    def total(self) -> int:
        return self.ideas + self.marks + self.scores + self.verdicts + self.deliveries


def _count(session: Session, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())


def _rows(session: Session, model: type, strategy: str) -> int:
    table = model.__table__
    return _count(session, table, table.c.strategy == strategy)


def plan_rename(session: Session, old: str, new: str, *, known: Sequence[str]) -> RenameCounts:
    """What :func:`rename_strategy` would move (nothing is changed); ``known`` are the strategy names of
    the loaded config: ``new`` must be one of them and ``old`` must not (two strategies in use are
    never merged). A ValidationError says what is wrong."""
    if old == new:
        raise ValidationError(f"old and new strategy name are both {old!r}; give the name it had before")
    if new not in known:
        raise ValidationError(f"strategy {new!r} is not in the config ({', '.join(known)}); rename it in "
                              "its file first, then move its data")
    if old in known:
        raise ValidationError(f"strategy {old!r} is still in the config; rename it in its file first "
                              "(two strategies in use are never merged)")
    deliveries = SlackDelivery.__table__
    counts = RenameCounts(
        ideas=_rows(session, Idea, old), marks=_rows(session, Mark, old), scores=_rows(session, Score, old),
        verdicts=_rows(session, Verdict, old),
        deliveries=_count(session, deliveries, deliveries.c.key.startswith(f"{old}:", autoescape=True)),
        derived_dropped=_rows(session, ScoringModel, new) > 0,
    )
    if counts.total == 0 and not _rows(session, ScoringModel, old):
        raise ValidationError(f"nothing is stored under strategy {old!r}; check the old name "
                              "(`fundradar ideas list --json` shows each idea's strategy)")
    return counts


def rename_strategy(session: Session, old: str, new: str, *, known: Sequence[str]) -> RenameCounts:
    """Move ``old``'s stored data to ``new`` (see the module docstring and :func:`plan_rename`), in the
    caller's transaction."""
    counts = plan_rename(session, old, new, known=known)
    # follow / mute state and the Slack click log move with the marks (not counted: they follow them);
    # a call the new name already follows (mutes) keeps the new name's row
    follows = CallFollow.__table__
    kept = sa.select(follows.c.call_id, follows.c.kind).where(follows.c.strategy == new)
    session.execute(sa.delete(follows).where(follows.c.strategy == old,
                                             sa.tuple_(follows.c.call_id, follows.c.kind).in_(kept)))
    for model in (Idea, Mark, CallFollow, SlackInteraction):
        table = model.__table__
        session.execute(sa.update(table).where(table.c.strategy == old).values(strategy=new))
    for model in (Score, Verdict, ScoringModel):
        table = model.__table__
        if counts.derived_dropped:
            session.execute(sa.delete(table).where(table.c.strategy == old))
        else:
            session.execute(sa.update(table).where(table.c.strategy == old).values(strategy=new))
    _move_delivery_keys(session, old, new)
    return counts


def _move_delivery_keys(session: Session, old: str, new: str) -> None:
    table = SlackDelivery.__table__
    rows = session.execute(sa.select(table.c.id, table.c.key).where(
        table.c.key.startswith(f"{old}:", autoescape=True))).all()
    if not rows:
        return
    wanted = {row.id: f"{new}:{row.key[len(old) + 1:]}" for row in rows}
    taken = set(session.execute(sa.select(table.c.key)
                                .where(table.c.key.in_(list(wanted.values())))).scalars())
    dropped = [i for i, key in wanted.items() if key in taken]
    if dropped:
        session.execute(sa.delete(table).where(table.c.id.in_(dropped)))
    for row_id, key in wanted.items():
        if key not in taken:
            session.execute(sa.update(table).where(table.c.id == row_id).values(key=key))
