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
from pipeline.core.deadlines import GONE, HasDeadlines, call_deadlines, current_deadline, days_until
from pipeline.core.errors import NotFoundError, TransitionError, ValidationError
from pipeline.core.inputs import name_line, parse_id
from pipeline.core.locks import hold_for_transaction
from pipeline.core.models import Application, ApplicationEvent, ApplicationPartner, Call, Idea, Partner
from pipeline.ideas import get_idea
from pipeline.partners import consortium_warnings, get_partner
from pipeline.tenancy import check_scope, visible
from pipeline.workflow import FINAL, STATUSES, is_overdue

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
    who = name_line(by or "", "--by") or name_line(current_user(), "FUNDRADAR_USER") or "unknown"
    session.add(ApplicationEvent(application_id=app.id, at=now, by=who,
                                 from_status=from_status, to_status=to_status, note=note))


def parse_member(text: str) -> tuple[str, str]:
    """``"3"``, ``"#3"`` or ``"3:coordinator"`` → (partner id, role)."""
    ident, _, role = text.partition(":")
    return ident, _role(role or "partner", PARTNER_ROLES, "consortium role")


def _one_coordinator(our_role: str, team: Sequence[tuple[int | None, str]]) -> None:
    """Refuse a consortium with two coordinators: us and a partner, or two partners."""
    coordinators = [pid for pid, role in team if role == "coordinator"]
    if our_role == "coordinator" and coordinators:
        first = coordinators[0]
        raise ValidationError(f"an application has one coordinator, but our role is coordinator and so is "
                              f"partner #{first}'s; give #{first} another role ({first}:partner) or make "
                              "our role partner")
    if len(coordinators) > 1:
        first, second = coordinators[:2]
        raise ValidationError(f"an application has one coordinator, but partners #{first} and #{second} "
                              "are both given as coordinator; give one of them another role")


def _new_members(session: Session, given: Sequence[str], our_role: str,
                 team: Sequence[tuple[Partner, str]] = (),
                 app_id: int | None = None) -> list[tuple[Partner, str]]:
    """The partners to add, checked as a whole before anything is written: each given once, not in the
    consortium yet (``team``), and one coordinator at most, counting us."""
    parsed = [(parse_id(ident, "partner"), role) for ident, role in map(parse_member, given)]
    seen: set[int] = set()
    for key, _ in parsed:
        if key in seen:
            raise ValidationError(f"partner #{key} is given twice; give each partner once")
        seen.add(key)
    present = {partner.id for partner, _ in team}
    new = []
    for key, role in parsed:
        partner = get_partner(session, key)
        if partner.id in present:
            raise ValidationError(f"partner #{partner.id} is already in application #{app_id}'s consortium")
        new.append((partner, role))
    _one_coordinator(our_role, [(p.id, role) for p, role in [*team, *new]])
    return new


def create_application(session: Session, *, idea_id: str | int, call_key: str, now: datetime,
                       role: str = "coordinator", requested_amount: float | None = None,
                       owner: str | None = None, members: Sequence[str] = (), by: str | None = None,
                       note: str = "", scope: str | None = None) -> Application:
    """A draft application with its consortium, all checked before anything is written. A call whose
    deadline has passed is accepted (an application may be recorded afterwards); see
    :func:`add_warnings` for what to tell the user."""
    idea = get_idea(session, idea_id, scope=scope)
    call = find_call(session, str(call_key))
    our_role = _role(role, ROLES, "role")
    duplicate = session.exec(select(Application).where(
        Application.idea_id == idea.id, Application.call_id == call.id,
        col(Application.status).not_in(FINAL))).first()
    if duplicate is not None:
        raise ValidationError(f"idea #{idea.id} already has application #{duplicate.id} for call #{call.id}")
    team = _new_members(session, members, our_role)
    app = Application(idea_id=idea.id, call_id=call.id, role=our_role,
                      requested_amount=_amount(requested_amount, "the requested amount"),
                      owner=name_line(owner or "", "--owner") or idea.owner, status="draft",
                      known_deadline=call.deadline,
                      seen_deadlines=remembered_deadlines(call), deadline_sequence=0, created_at=now,
                      updated_at=now)
    session.add(app)
    session.flush()
    _event(session, app, now, by, note or f"created for call #{call.id}", None, "draft")
    for partner, member_role in team:
        _join(session, app, partner, member_role, now, by)
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


def _join(session: Session, app: Application, partner: Partner, role: str, now: datetime,
          by: str | None) -> ApplicationPartner:
    link = ApplicationPartner(application_id=app.id, partner_id=partner.id, role=role)
    session.add(link)
    _event(session, app, now, by, f"partner #{partner.id} {partner.organisation} joined as {role}")
    return link


def add_member(session: Session, app: Application, member: str, now: datetime, *,
               by: str | None = None) -> ApplicationPartner:
    ((partner, role),) = _new_members(session, [member], app.role, members(session, app), app.id)
    return _join(session, app, partner, role, now, by)


def remove_member(session: Session, app: Application, partner_id: str, now: datetime, *,
                  by: str | None = None) -> None:
    partner = get_partner(session, partner_id)
    link = session.get(ApplicationPartner, (app.id, partner.id))
    if link is None:
        raise ValidationError(f"partner #{partner.id} is not in application #{app.id}'s consortium")
    session.delete(link)
    session.flush()
    _event(session, app, now, by, f"partner #{partner.id} {partner.organisation} left")


def change_consortium(session: Session, app: Application, now: datetime, *, add: Sequence[str] = (),
                      remove: Sequence[str] = (), by: str | None = None) -> None:
    """Remove, then add (so a partner can be removed and added back with another role); the additions
    are checked together, like those of :func:`create_application`."""
    if not (add or remove):
        raise ValidationError(f"nothing to change in application #{app.id}'s consortium; give "
                              "--add ID[:ROLE] or --remove ID (e.g. --add 4:partner)")
    for partner_id in remove:
        remove_member(session, app, partner_id, now, by=by)
    for partner, role in _new_members(session, add, app.role, members(session, app), app.id):
        _join(session, app, partner, role, now, by)


def _euros(value: float | None) -> str:
    return "none" if value is None else f"{value:,.0f} EUR"


def edit_application(session: Session, app_id: str | int, now: datetime, *,
                     requested_amount: float | None = None, granted_amount: float | None = None,
                     role: str | None = None, owner: str | None = None, by: str | None = None,
                     note: str = "", scope: str | None = None) -> tuple[Application, list[str]]:
    """Correct the given fields (None = keep) in any status, granted included; the status is
    :func:`move`'s. Returns the application and what changed ("requested 400,000 → 420,000 EUR"),
    also recorded as one event; nothing changed, no event."""
    app = get_application(session, app_id, scope=scope)
    if all(value is None for value in (requested_amount, granted_amount, role, owner)):
        raise ValidationError("nothing to change; give at least one of --amount, --granted, --role, "
                              "--owner (e.g. --amount 420000)")
    changes: list[str] = []
    if requested_amount is not None:
        new = _amount(requested_amount, "the requested amount")
        if new != app.requested_amount:
            changes.append(f"requested {_euros(app.requested_amount)} → {_euros(new)}")
            app.requested_amount = new
    if granted_amount is not None:
        if app.status != "granted":
            raise ValidationError(f"application #{app.id} is {app.status}, not granted; {_no_grant_yet(app)}")
        new = _amount(granted_amount, "the granted amount")
        if new != app.granted_amount:
            changes.append(f"granted {_euros(app.granted_amount)} → {_euros(new)}")
            app.granted_amount = new
    if role is not None:
        new_role = _role(role, ROLES, "role")
        if new_role != app.role:
            _one_coordinator(new_role, [(p.id, r) for p, r in members(session, app)])
            changes.append(f"role {app.role} → {new_role}")
            app.role = new_role
    if owner is not None:
        new_owner = name_line(owner, "--owner")
        if not new_owner:
            raise ValidationError("--owner cannot be empty; give who writes the application")
        if new_owner != app.owner:
            changes.append(f"owner {app.owner or 'none'} → {new_owner}")
            app.owner = new_owner
    if changes:
        app.updated_at = now
        session.add(app)
        corrected = "corrected: " + "; ".join(changes)
        _event(session, app, now, by, f"{corrected}; {note}" if note else corrected)
    return app, changes



def _no_grant_yet(app: Application) -> str:
    """The move that records a grant, from where the workflow allows it (only from submitted)."""
    grant = f"`fundradar applications move {app.id} granted --granted AMOUNT`"
    if app.status in FINAL:
        return f"a{'n' if app.status[0] in 'aeiou' else ''} {app.status} application has no granted amount"
    return f"a granted amount is recorded with {grant}" if app.status == "submitted" else (
        f"a granted amount is recorded once it is submitted and granted: {grant} after "
        f"`fundradar applications move {app.id} submitted`")


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
    # serve follows in several threads (source, digest, alerts and calendar jobs): on PostgreSQL a second
    # one waits here and then reads the first's result, rather than recording the same move again
    hold_for_transaction(session, "follow-deadlines")
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
            "days_left": days_until(deadline, now) if deadline and deadline >= now and not gone else None,
            "overdue": is_overdue(app.status, bool(deadline and deadline < now and not gone)),
            "call_status": call.status, "call_gone": gone,
            "deadline_flagged": app.deadline_flagged, "deadline_sequence": app.deadline_sequence,
            "known_deadline": app.known_deadline, "created_at": app.created_at,
            "updated_at": app.updated_at}


# who counts in a consortium rule: the beneficiaries, not associated partners or subcontractors
BENEFICIARY_ROLES = ("coordinator", "partner")


def team_warnings(call: Call, app: Application, team: Sequence[tuple[Any, str]],
                  config: LoadedConfig, funding: FundingRules | None = None) -> list[str]:
    """What the consortium misses of the call's funding rules; we count (our organisation, in the
    strategy's home country), and so do the beneficiary partners (:data:`BENEFICIARY_ROLES`). ``team``:
    (partner, role), a partner being anything with ``organisation`` and ``country``. A final
    application (granted, rejected, withdrawn) has none left to fix."""
    if app.status in FINAL:
        return []
    us = (config.strategy.organisation, config.strategy.home_country)
    counted = [us] + [(p.organisation, p.country) for p, role in team if role in BENEFICIARY_ROLES]
    return consortium_warnings(call, funding or FundingRules(config.funding_rules), counted)


def add_warnings(session: Session, app: Application, config: LoadedConfig, now: datetime) -> list[str]:
    """What to tell whoever just added ``app``: a deadline that has passed, each of the strategy's rules
    the call fails, and what the consortium misses."""
    from classifiers.rules import evaluate_call  # lazily: only adding needs the rules

    call = session.get(Call, app.call_id)
    assert call is not None  # a foreign key
    warnings = []
    deadlines = call_deadlines(call)
    passed = bool(deadlines) and deadlines[-1] < now
    if passed:
        last = deadlines[-1].astimezone(BRUSSELS)
        warnings.append(f"call #{call.id}'s deadline {last:%Y-%m-%d %H:%M} (Brussels) has passed")
    verdict = evaluate_call(call, config.strategy, FundingRules(config.funding_rules), now)
    warnings += [f"call #{call.id} fails the strategy's {o.rule} rule: {o.reason}"
                 for o in verdict.outcomes
                 if o.passed is False and not (passed and o.rule == "deadline")]  # said once is enough
    return warnings + team_warnings(call, app, members(session, app), config)


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
    data["warnings"] = team_warnings(call, app, team, config)
    data["events"] = [{"at": e.at, "by": e.by, "from_status": e.from_status, "to_status": e.to_status,
                       "note": e.note} for e in events(session, app)]
    return data


def list_applications(session: Session, now: datetime, *, status: str | None = None,
                      idea_id: str | None = None, call_id: str | None = None,
                      scope: str | None = None, config: LoadedConfig | None = None) -> list[dict[str, Any]]:
    """Applications oldest first; with ``scope`` only those of that strategy's and the shared ideas.
    ``idea_id`` must be an idea ``scope`` sees (NotFoundError otherwise); ``call_id`` is a call's id or
    topic identifier, as ``applications add`` takes it. With ``config``
    each row has ``warnings``: what its consortium misses (:func:`team_warnings`)."""
    query = visible(select(Application, Call, Idea.title).join(Call, Call.id == Application.call_id)
                    .join(Idea, Idea.id == Application.idea_id), scope).order_by(Application.id)
    if status:
        wanted = status.strip().lower()  # as `move` takes it
        if wanted not in (*STATUSES, "open"):
            raise ValidationError(f"unknown status {status!r}; use one of {', '.join(STATUSES)} or open")
        query = query.where(col(Application.status).not_in(FINAL)) if wanted == "open" \
            else query.where(Application.status == wanted)
    if idea_id:
        # an idea that does not exist, or is another strategy's, is named, not listed as nothing
        query = query.where(Application.idea_id == get_idea(session, idea_id, scope=scope).id)
    if call_id:
        query = query.where(Application.call_id == find_call(session, call_id).id)
    found = list(session.exec(query))
    if config is None:
        return [application_dict(app, call, title, now) for app, call, title in found]
    funding = FundingRules(config.funding_rules)
    teams: dict[int, list[tuple[Any, str]]] = {}
    open_ids = [app.id for app, _, _ in found if app.status not in FINAL]
    for start in range(0, len(open_ids), 500):
        # only the columns the rule reads: building every Partner would cost more than the check
        for member in session.exec(
                select(Partner.organisation, Partner.country, ApplicationPartner.application_id,
                       ApplicationPartner.role)
                .join(ApplicationPartner, ApplicationPartner.partner_id == Partner.id)
                .where(col(ApplicationPartner.application_id).in_(open_ids[start:start + 500]))
                .order_by(Partner.id)):
            teams.setdefault(member.application_id, []).append((member, member.role))
    return [dict(application_dict(app, call, title, now),
                 warnings=team_warnings(call, app, teams.get(app.id or 0, []), config, funding))
            for app, call, title in found]
