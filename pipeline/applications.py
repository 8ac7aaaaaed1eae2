"""Applications: an idea submitted to a call, its consortium, its status workflow and its deadline.

Workflow (enforced; every change is an ApplicationEvent with when, by whom and a note)::

    draft ──► consortium ──► writing ──► submitted ──► granted
      ▲           │ ▲           │             └──────► rejected
      └───────────┘ └───────────┘
    any non-final status ──► withdrawn          granted, rejected, withdrawn are final

Stepping back one stage before submission is allowed (a partner drops out: writing → consortium).

The deadline follows the call: :func:`follow_call_deadlines` compares each open application's
remembered call deadlines (``seen_deadlines``) with the call's current ones; when they differ the
application is flagged (``deadline_flagged``) until someone acknowledges it (:func:`acknowledge`),
the move is recorded as an event, and ``deadline_sequence`` (the iCalendar SEQUENCE) is raised.
A call that was removed from its source or withdrawn (:data:`GONE_CALL_STATUSES`) has no deadline
left to follow: it counts as a move to none, flagged and acknowledged the same way, and its deadlines
are shown as the call's status instead of days left.

An application belongs to the strategy of its idea (see :mod:`pipeline.ideas`): the functions that
take ``scope`` refuse or leave out another strategy's applications.
"""

from __future__ import annotations

import getpass
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from classifiers.funding import FundingRules
from pipeline.calls import find_call
from pipeline.core.clock import BRUSSELS
from pipeline.core.config import LoadedConfig
from pipeline.core.deadlines import GONE, HasDeadlines, call_deadlines, current_deadline
from pipeline.core.errors import NotFoundError, TransitionError, ValidationError
from pipeline.core.inputs import parse_id
from pipeline.core.models import Application, ApplicationEvent, ApplicationPartner, Call, Idea, Partner
from pipeline.ideas import get_idea
from pipeline.partners import consortium_warnings, get_partner
from pipeline.tenancy import check_scope, visible

STATUSES = ("draft", "consortium", "writing", "submitted", "granted", "rejected", "withdrawn")
FINAL = ("granted", "rejected", "withdrawn")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("consortium", "withdrawn"),
    "consortium": ("writing", "draft", "withdrawn"),
    "writing": ("submitted", "consortium", "withdrawn"),
    "submitted": ("granted", "rejected", "withdrawn"),
    "granted": (), "rejected": (), "withdrawn": (),
}
ROLES = ("coordinator", "partner")
GONE_CALL_STATUSES = GONE
PARTNER_ROLES = ("coordinator", "partner", "associated", "subcontractor")


def current_user() -> str:
    """Who is acting: FUNDRADAR_USER, else the login name."""
    try:
        return os.environ.get("FUNDRADAR_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _role(value: str, allowed: Sequence[str], what: str) -> str:
    role = value.strip().lower()
    if role not in allowed:
        raise ValidationError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")
    return role


MAX_AMOUNT = 1e12  # euros: more than any EU programme's whole budget, so a larger figure is a typo


def _amount(value: float | None, what: str) -> float | None:
    """A euro amount: a finite number from zero to MAX_AMOUNT (``nan`` and ``1e400`` as typed would
    otherwise be stored and break every report that sums them)."""
    if value is None:
        return value
    if not math.isfinite(value) or not 0 <= value <= MAX_AMOUNT:
        raise ValidationError(f"{what} must be a number of euros from 0 to {MAX_AMOUNT:,.0f}, got "
                              f"{value:g}; e.g. 250000")
    return value


def remembered_deadlines(call: HasDeadlines) -> list[str]:
    """The call's deadlines as sorted ISO UTC strings: what an application remembers
    (``seen_deadlines``) and compares with the call's later ones."""
    return [value.isoformat() for value in call_deadlines(call)]


def followed_deadlines(call: Any) -> list[str]:
    """What an application follows of its call: its deadlines, or none once the call is gone (removed
    or withdrawn; ``call`` also needs ``status``)."""
    return [] if call.status in GONE_CALL_STATUSES else remembered_deadlines(call)


def _event(session: Session, app: Application, now: datetime, by: str | None, note: str,
           from_status: str | None = None, to_status: str | None = None) -> None:
    session.add(ApplicationEvent(application_id=app.id, at=now, by=by or current_user(),
                                 from_status=from_status, to_status=to_status, note=note))


def parse_member(text: str) -> tuple[str, str]:
    """``"3"``, ``"#3"`` or ``"3:coordinator"`` → (partner id, role)."""
    ident, _, role = text.partition(":")
    return ident, _role(role or "partner", PARTNER_ROLES, "consortium role")


def create_application(session: Session, *, idea_id: str | int, call_key: str, now: datetime,
                       role: str = "coordinator", requested_amount: float | None = None,
                       owner: str | None = None, members: Sequence[str] = (), by: str | None = None,
                       note: str = "", scope: str | None = None) -> Application:
    idea = get_idea(session, idea_id, scope=scope)
    call = find_call(session, str(call_key).removeprefix("#"))
    deadlines = call_deadlines(call)
    if deadlines and deadlines[-1] < now:
        last = deadlines[-1].astimezone(BRUSSELS)
        raise ValidationError(f"call #{call.id}'s deadline {last:%Y-%m-%d %H:%M} "
                              "(Brussels) is in the past; choose a call that is still open")
    duplicate = session.exec(select(Application).where(
        Application.idea_id == idea.id, Application.call_id == call.id,
        col(Application.status).not_in(FINAL))).first()
    if duplicate is not None:
        raise ValidationError(f"idea #{idea.id} already has application #{duplicate.id} for call #{call.id}")
    app = Application(idea_id=idea.id, call_id=call.id, role=_role(role, ROLES, "role"),
                      requested_amount=_amount(requested_amount, "the requested amount"),
                      owner=owner or idea.owner, status="draft", known_deadline=call.deadline,
                      seen_deadlines=remembered_deadlines(call), deadline_sequence=0, created_at=now,
                      updated_at=now)
    session.add(app)
    session.flush()
    _event(session, app, now, by, note or f"created for call #{call.id}", None, "draft")
    for member in members:
        add_member(session, app, member, now, by=by)
    return app


def get_application(session: Session, app_id: str | int, *, scope: str | None = None) -> Application:
    """The application by id; NotFoundError when there is none or its idea belongs to another strategy
    than ``scope``."""
    key = parse_id(app_id, "application")
    app = session.get(Application, key)
    if app is None:
        raise NotFoundError(f"no application with id {key}; see `fundradar applications list`")
    if scope is not None:
        idea = session.get(Idea, app.idea_id)
        if idea is not None:
            check_scope(idea, scope, f"application #{key} (idea #{idea.id})")
    return app


def add_member(session: Session, app: Application, member: str, now: datetime, *,
               by: str | None = None) -> ApplicationPartner:
    ident, role = parse_member(member)
    partner = get_partner(session, ident)
    if session.get(ApplicationPartner, (app.id, partner.id)) is not None:
        raise ValidationError(f"partner #{partner.id} is already in application #{app.id}'s consortium")
    link = ApplicationPartner(application_id=app.id, partner_id=partner.id, role=role)
    session.add(link)
    _event(session, app, now, by, f"partner #{partner.id} {partner.organisation} joined as {role}")
    return link


def remove_member(session: Session, app: Application, partner_id: str, now: datetime, *,
                  by: str | None = None) -> None:
    partner = get_partner(session, partner_id)
    link = session.get(ApplicationPartner, (app.id, partner.id))
    if link is None:
        raise ValidationError(f"partner #{partner.id} is not in application #{app.id}'s consortium")
    session.delete(link)
    _event(session, app, now, by, f"partner #{partner.id} {partner.organisation} left")


def move(session: Session, app_id: str | int, to_status: str, now: datetime, *, by: str | None = None,
         note: str = "", granted_amount: float | None = None, scope: str | None = None) -> Application:
    """Change the status if the workflow allows it; a grant may record the granted amount (default:
    the requested amount)."""
    app = get_application(session, app_id, scope=scope)
    target = to_status.strip().lower()
    if target not in STATUSES:
        raise ValidationError(f"unknown status {to_status!r}; use one of {', '.join(STATUSES)}")
    allowed = TRANSITIONS[app.status]
    if target not in allowed:
        nxt = f"from {app.status} it can go to {', '.join(allowed)}" if allowed \
            else f"{app.status} is final"
        raise TransitionError(f"application #{app.id} cannot move from {app.status} to {target}; {nxt}")
    if granted_amount is not None and target != "granted":
        raise ValidationError("--granted is only for a move to granted")
    if target == "granted":
        app.granted_amount = _amount(granted_amount, "the granted amount") if granted_amount is not None \
            else app.requested_amount
    _event(session, app, now, by, note, app.status, target)
    app.status, app.updated_at = target, now
    session.add(app)
    return app


@dataclass(frozen=True)
class DeadlineMove:
    application_id: int
    call_id: int
    old: list[str]
    new: list[str]
    sequence: int


def _fmt(values: Sequence[str]) -> str:
    return ", ".join(datetime.fromisoformat(v).astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M")
                     for v in values) or "none"


def follow_call_deadlines(session: Session, now: datetime) -> list[DeadlineMove]:
    """Flag every open application whose call's deadlines moved since last compared (see module doc).
    Idempotent: a second run finds nothing new. Call it after a sync and before showing deadlines.

    Only the deadline columns are read for the comparison; an application is loaded when it changes."""
    moves = []
    rows = session.exec(select(Application.id.label("app_id"), Application.seen_deadlines,
                               Call.id.label("call_id"), Call.deadlines, Call.deadline,
                               Call.status)
                        .join(Call, Call.id == Application.call_id)
                        .where(col(Application.status).not_in(FINAL)).order_by(Application.id))
    moved = [(row.app_id, row.call_id, current, row.status) for row in rows
             if (current := followed_deadlines(row)) != list(row.seen_deadlines or [])]
    for app_id, call_id, current, call_status in moved:
        app = session.get(Application, app_id)
        assert app is not None
        old = list(app.seen_deadlines or [])
        app.seen_deadlines = current
        app.deadline_sequence += 1
        app.deadline_flagged = True
        app.updated_at = now
        session.add(app)
        note = f"call {call_status}: deadlines {_fmt(old)} no longer apply" \
            if call_status in GONE_CALL_STATUSES else f"call deadline moved: {_fmt(old)} -> {_fmt(current)}"
        _event(session, app, now, "fundradar", note)
        moves.append(DeadlineMove(app_id, call_id, old, current, app.deadline_sequence))
    return moves


def acknowledge(session: Session, app_id: str | int, now: datetime, *, by: str | None = None,
                note: str = "", scope: str | None = None) -> bool:
    """Clear the deadline flag; False when there was nothing to acknowledge."""
    app = get_application(session, app_id, scope=scope)
    if not app.deadline_flagged:
        return False
    call = session.get(Call, app.call_id)
    assert call is not None
    app.deadline_flagged = False
    app.known_deadline = call.deadline
    app.updated_at = now
    session.add(app)
    _event(session, app, now, by, note or f"deadline change acknowledged: {_fmt(remembered_deadlines(call))}")
    return True


def members(session: Session, app: Application) -> list[tuple[Partner, str]]:
    rows = session.exec(select(Partner, ApplicationPartner.role)
                        .join(ApplicationPartner, ApplicationPartner.partner_id == Partner.id)
                        .where(ApplicationPartner.application_id == app.id).order_by(Partner.id))
    return [(p, role) for p, role in rows]


def events(session: Session, app: Application) -> list[ApplicationEvent]:
    return list(session.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == app.id)
                             .order_by(ApplicationEvent.at, ApplicationEvent.id)))


def application_dict(app: Application, call: Call, idea_title: str, now: datetime) -> dict[str, Any]:
    deadline = current_deadline(call, now)
    gone = call.status in GONE_CALL_STATUSES
    return {"id": app.id, "idea_id": app.idea_id, "idea": idea_title, "call_id": app.call_id,
            "call": call.title, "topic_id": call.topic_id, "programme": call.programme, "role": app.role,
            "requested_amount": app.requested_amount, "granted_amount": app.granted_amount,
            "owner": app.owner, "status": app.status, "deadline": deadline,
            "days_left": (deadline - now).days if deadline and deadline >= now and not gone else None,
            "call_status": call.status, "call_gone": gone,
            "deadline_flagged": app.deadline_flagged, "deadline_sequence": app.deadline_sequence,
            "known_deadline": app.known_deadline, "created_at": app.created_at,
            "updated_at": app.updated_at}


def application_detail(session: Session, app_id: str | int, config: LoadedConfig, now: datetime, *,
                       scope: str | None = None) -> dict[str, Any]:
    """One application with its consortium (we are not listed; the warnings count us), what the
    consortium misses of the call's funding rules, and its history oldest first."""
    app = get_application(session, app_id, scope=scope)
    call, idea = session.get(Call, app.call_id), session.get(Idea, app.idea_id)
    assert call is not None and idea is not None  # foreign keys
    data = application_dict(app, call, idea.title, now)
    team = members(session, app)
    data["consortium"] = [{"partner_id": p.id, "organisation": p.organisation, "country": p.country,
                           "role": role} for p, role in team]
    us = (config.strategy.organisation, config.strategy.home_country)
    data["warnings"] = consortium_warnings(call, FundingRules(config.funding_rules),
                                           [us] + [(p.organisation, p.country) for p, _ in team])
    data["events"] = [{"at": e.at, "by": e.by, "from_status": e.from_status, "to_status": e.to_status,
                       "note": e.note} for e in events(session, app)]
    return data


def list_applications(session: Session, now: datetime, *, status: str | None = None,
                      idea_id: str | None = None, call_id: str | None = None,
                      scope: str | None = None) -> list[dict[str, Any]]:
    """Applications oldest first; with ``scope`` only those of that strategy's and the shared ideas."""
    query = visible(select(Application, Call, Idea.title).join(Call, Call.id == Application.call_id)
                    .join(Idea, Idea.id == Application.idea_id), scope).order_by(Application.id)
    if status:
        if status not in (*STATUSES, "open"):
            raise ValidationError(f"unknown status {status!r}; use one of {', '.join(STATUSES)} or open")
        query = query.where(col(Application.status).not_in(FINAL)) if status == "open" \
            else query.where(Application.status == status)
    if idea_id:
        query = query.where(Application.idea_id == parse_id(idea_id, "idea"))
    if call_id:
        query = query.where(Application.call_id == parse_id(call_id, "call"))
    return [application_dict(app, call, title, now) for app, call, title in session.exec(query)]
