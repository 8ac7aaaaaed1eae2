"""What a click on a digest's or an alert's button does (``block_actions``), and the Start idea modal
(``views.open``, then ``view_submission``). The transport (Socket Mode) is pipeline.notify.socket: it
acknowledges each envelope first and then calls :meth:`Interactions.handle`.

Who may act: the strategy named by the button must be one this process serves, the workspace must be
the strategy's ``slack.team_id`` (when set), the channel one of its channels (``slack.digests``,
``slack.alerts``), and the message must show that call with that strategy's buttons. Anything else is
refused with an ephemeral message to the one who clicked, and nothing is stored.

What is stored, in the same tables as the CLI's: *Relevant* / *Not for us* through
:func:`classifiers.feedback.record_mark` (as ``fundradar calls mark ID relevant|irrelevant``, for every
focus area; the next scoring run re-ranks with it), *Follow* / *Mute* through pipeline.follow, *Start
idea* through :func:`pipeline.ideas.create_idea` (as ``fundradar ideas add``), in the strategy that
owns the channel. Each accepted interaction is logged in ``slack_interaction`` under a key made of
the payload (the message, the action and its time; the modal's view id): a redelivered envelope finds
its key and does nothing. A double tap is a second click, so the store itself is idempotent: a mark
equal to the last one of that call by the same person, a follow of a followed call, store nothing.

After a change the message is updated in place (``chat.update``): the call's line shows e.g.
"✓ relevant — @mette" (pipeline.notify.actions.redraw); the other blocks stay as they were.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.feedback import record_mark
from pipeline.core import clock
from pipeline.core.config import Strategy
from pipeline.core.db import session_scope
from pipeline.core.errors import FundradarError
from pipeline.core.inputs import MAX_ID  # no call has a larger id (the INTEGER column)
from pipeline.core.models import Call, Idea, Mark, Score, SlackInteraction
from pipeline.follow import clear_state, set_state
from pipeline.ideas import create_idea
from pipeline.notify.actions import (
    LABELS,
    PREFIX,
    STATUS_TEXT,
    Action,
    actions_block_id,
    parse_action,
    redraw,
    redraw_all,
    status_line,
)
from pipeline.notify.envelopes import channel_names, envelope_problem, owns_channel, unnamed
from pipeline.notify.escape import clean, escape, truncate
from pipeline.notify.followed import GONE_STATUSES
from pipeline.notify.idea_form import IDEA_CALLBACK, area_of, idea_modal
from pipeline.notify.idea_form import form_value as _value
from pipeline.notify.senders import SETUP_HINTS

log = logging.getLogger("fundradar.slack")

MARK_LABELS = {"relevant": "relevant", "irrelevant": "irrelevant"}
UNCHANGED = {  # the answer to a click that finds its work done (a double tap, the CLI did it first)
    "relevant": "You already marked call {call} relevant; nothing changed.",
    "irrelevant": "You already marked call {call} not for us; nothing changed.",
    "follow": "Call {call} is already followed; nothing changed.",
    "unfollow": "Call {call} is not followed; nothing changed.",
    "mute": "Call {call} is already muted; nothing changed.",
    "unmute": "Call {call} is not muted; nothing changed.",
}
# the kind of a stored click that found its work done: no redraw or digest reads it
UNCHANGED_KIND = "unchanged"
UNREADABLE = "This button does not name a call fundradar can act on (an altered or outdated message); " \
             "nothing was stored. Use the buttons of the latest digest or alert."


@dataclass(frozen=True)
class Clicker:
    user_id: str
    name: str  # the Slack username, else the id: what marked_by and follow "by" record

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> Clicker:
        user = payload.get("user") or {}
        uid = str(user.get("id") or "")
        return cls(uid, str(user.get("username") or user.get("name") or uid))


class Interactions:
    """The handler of one Slack app: the strategies it serves and a Web API client per strategy (each
    strategy's bot token)."""

    def __init__(self, engine: Engine, strategies: Callable[[], Sequence[Strategy]],
                 clients: Callable[[Strategy], WebClient | None], *,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.engine, self.strategies, self.clients, self.now = engine, strategies, clients, now
        self._channel_names: dict[str, str] = {}  # private channels' names by id, as Slack gave them
        # the Start idea triggers a form was opened with (the newest): Slack delivers a tap again when
        # its ack was lost, and a trigger opens one form
        self._triggers: dict[str, None] = {}
        self._triggers_lock = threading.Lock()

    # --- entry points (pipeline.notify.socket) -------------------------------------------------

    def ack_payload(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """What the envelope's acknowledgement carries: for a modal submission with an empty title,
        the error shown in the modal (Slack only accepts it in the ack); otherwise nothing. Cheap: it
        runs before the ack, which is due within 3 seconds."""
        if kind != "interactive" or envelope_problem(payload) is not None:
            return None
        if payload.get("type") == "view_submission" \
                and (payload.get("view") or {}).get("callback_id") == IDEA_CALLBACK:
            if not _value(payload, "title"):
                return {"response_action": "errors", "errors": {"title": "Give the idea a title."}}
        return None

    def opens_form(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """Whether the envelope is a Start idea tap: Slack opens its form only within 3 seconds of the
        tap, so it is handled at once rather than after the taps before it (it stores nothing)."""
        if kind != "interactive" or envelope_problem(payload) is not None \
                or payload.get("type") != "block_actions":
            return False
        actions = [parse_action(raw) for raw in payload.get("actions") or []]
        return bool(actions) and all(a is not None and a.verb == "idea" for a in actions)

    def handle(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Do what the envelope asks (after it was acknowledged)."""
        if kind != "interactive":
            return
        problem = envelope_problem(payload)
        if problem is not None:
            log.warning("ignored a Slack %s envelope: %s", kind, problem)
            return
        if payload.get("type") == "block_actions":
            for raw in payload.get("actions") or []:
                action = parse_action(raw)
                if action is not None:
                    try:
                        self.on_action(payload, action)
                    except (FundradarError, sa.exc.SQLAlchemyError) as exc:  # the database is unreachable
                        what = "The Start idea form did not open" if action.verb == "idea" \
                            else f"{_tap(action)} was not stored"
                        self.unavailable(payload, str((payload.get("channel") or {}).get("id") or ""),
                                         self.strategy(action.strategy), what, exc)
                elif str(raw.get("action_id") or "").startswith(f"{PREFIX}:"):
                    self.unreadable(payload, str(raw["action_id"]))
        elif payload.get("type") == "view_submission" \
                and (payload.get("view") or {}).get("callback_id") == IDEA_CALLBACK:
            try:
                self.on_idea_submitted(payload)
            except (FundradarError, sa.exc.SQLAlchemyError) as exc:
                try:
                    channel_id = str(json.loads((payload.get("view") or {}).get("private_metadata"))["ch"])
                except (ValueError, KeyError, TypeError):
                    channel_id = ""
                self.unavailable(payload, channel_id, None, "The idea was not added", exc)

    # --- who may act ---------------------------------------------------------------------------

    def strategy(self, name: str) -> Strategy | None:
        return next((s for s in self.strategies() if s.name == name), None)

    def refusal(self, strategy: Strategy | None, name: str, team: str | None, channel: Mapping[str, Any],
                call_id: int, message: Mapping[str, Any] | None) -> str | None:
        """Why this click may not act, as the one-line ephemeral answer; None when it may."""
        if strategy is None:  # the name is the button's value: shown as text, whatever it holds
            return f"This button belongs to strategy '{escape(truncate(clean(name), 80))}', which this " \
                   "fundradar does not serve; nothing was stored."
        if strategy.slack.team_id and team != strategy.slack.team_id:
            return f"Strategy {name!r} takes clicks only from its own workspace; nothing was stored."
        if not owns_channel(strategy, channel):
            asked, problem = self.named(strategy, channel)
            if problem is not None:  # a scope missing is for the admin to add; anything else passes
                fix = "the Slack app needs the groups:read scope (config/slack_app_manifest.yaml)" \
                    if problem == "missing_scope" else "try again later"
                return f"Slack did not say which private channel this is ({problem}), so nothing was " \
                       f"stored; {fix}."
            if not owns_channel(strategy, asked):
                names = ", ".join(channel_names(strategy)) or "none configured"
                return f"This channel is not one of strategy {name}'s channels ({names}); use the buttons " \
                       "in those (slack.digests, slack.alerts). Nothing was stored."
        with Session(self.engine) as session:
            if session.get(Call, call_id) is None:
                return f"Call {call_id} is no longer in fundradar; nothing was stored."
        if message is not None and not any(b.get("block_id") == actions_block_id(name, call_id)
                                           for b in message.get("blocks") or []):
            return f"This message does not show call {call_id} for strategy {name!r}; nothing was stored."
        return None

    def named(self, strategy: Strategy, channel: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """The click's channel with its name, and what went wrong asking for it: a click in a private
        channel names it "privategroup", so a channel configured by name is asked of Slack by its id
        (``conversations.info``; a name kept from before is asked again when it no longer names one of
        the strategy's channels: the channel renamed, in Slack and in the config)."""
        channel_id = str(channel.get("id") or "")
        if not unnamed(channel) or (client := self.clients(strategy)) is None:
            return channel, None
        kept = {"id": channel_id, "name": self._channel_names.get(channel_id, "")}
        if channel_id not in self._channel_names or not owns_channel(strategy, kept):
            try:
                found = client.conversations_info(channel=channel_id).get("channel") or {}
            except (SlackApiError, OSError) as exc:
                log.warning("could not ask Slack the name of channel %s: %s", channel_id, _fix(exc))
                return channel, _slack_error(exc)
            self._channel_names[channel_id] = str(found.get("name") or "")
        return {"id": channel_id, "name": self._channel_names[channel_id]}, None

    def refuse(self, strategy: Strategy | None, channel_id: str, user_id: str, text: str) -> None:
        log.warning("refused a Slack interaction in %s by %s: %s", channel_id, user_id, text)
        client = self._any_client(strategy)
        if client is None:
            return
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not tell %s in %s: %s", user_id, channel_id, _fix(exc))

    def unavailable(self, payload: Mapping[str, Any], channel_id: str, strategy: Strategy | None, what: str,
                    exc: Exception) -> None:
        """The database failing under a click (down, locked, replaced): one logged line, and the clicker
        is told nothing was stored."""
        user_id = Clicker.of(payload).user_id
        text = f"{what}: {_db_detail(exc)}; try again later."
        log.warning("Slack click by %s in %s: %s", user_id, channel_id, text)
        client = self._any_client(strategy)
        if client is not None and channel_id:
            self.tell(client, channel_id, user_id, text)

    def unreadable(self, payload: Mapping[str, Any], action_id: str) -> None:
        """A click on one of our buttons whose ids do not name a call (its value altered, or a message
        from an older fundradar): the clicker is told rather than left with a button that does nothing."""
        channel_id = str((payload.get("channel") or {}).get("id") or "")
        user_id = Clicker.of(payload).user_id
        log.info("a Slack click on %s in %s names no call fundradar can act on", action_id[:80], channel_id)
        client = self._any_client(None)
        if client is not None:
            self.tell(client, channel_id, user_id, UNREADABLE)

    def _any_client(self, strategy: Strategy | None) -> WebClient | None:
        if strategy is not None:
            return self.clients(strategy)
        for other in self.strategies():
            client = self.clients(other)
            if client is not None:
                return client
        return None

    # --- clicks --------------------------------------------------------------------------------

    def on_action(self, payload: Mapping[str, Any], action: Action) -> None:
        who = Clicker.of(payload)
        channel = payload.get("channel") or {}
        channel_id = str(channel.get("id") or "")
        message = payload.get("message") or {}
        strategy = self.strategy(action.strategy)
        why = self.refusal(strategy, action.strategy, (payload.get("team") or {}).get("id"), channel,
                           action.call_id, message)
        if why is not None or strategy is None:
            self.refuse(strategy, channel_id, who.user_id, why or "")
            return
        if action.verb == "idea":
            self.open_idea(payload, strategy, action.call_id, channel, str(message.get("ts") or ""))
            return
        key = f"action:{channel_id}:{message.get('ts')}:{action.action_id}:{action.action_ts}"
        try:
            changed = self.store(strategy, action, who, key, channel_id, message.get("ts"))
        except sa.exc.IntegrityError:  # the same envelope handled at the same moment elsewhere
            changed = None
        except (FundradarError, sa.exc.DBAPIError) as exc:  # the database refused the write
            self.refuse(strategy, channel_id, who.user_id,
                        f"{_tap(action)} was not stored: {_db_detail(exc)}; try again later.")
            return
        if not changed:
            log.info("Slack click %s on call %d by %s: nothing new", action.verb, action.call_id, who.name)
            client = self.clients(strategy)
            if changed is False and client is not None:  # a repeat, not a redelivery: say why nothing moved
                self.tell(client, channel_id, who.user_id, UNCHANGED[action.verb].format(call=action.call_id))
            return
        log.info("Slack click %s on call %d by %s for %s", action.verb, action.call_id, who.name,
                 strategy.name)
        self.update_message(strategy, channel_id, message, action.call_id, action.verb,
                            status_line(action.verb, who.user_id), who.user_id)
        if action.verb == "follow":  # an old message's call may be gone by now: following it is no watch
            with Session(self.engine) as session:
                call = session.get(Call, action.call_id)
                status = call.status if call is not None else None
            client = self.clients(strategy)
            if status in GONE_STATUSES and client is not None:
                alerts = strategy.slack.alerts
                again = f"; an alert in {alerts.channel} will say if it is listed again." if alerts else "."
                gone = "its source no longer lists it" if status == "removed" else f"it is {status}"
                self.tell(client, channel_id, who.user_id,
                          f"Call {action.call_id} is followed, but {gone}{again}")

    def clicks_on(self, strategy: Strategy, channel_id: str, ts: str) -> list[tuple[int, str, str]]:
        """The clicks stored for one message, oldest first: (call, verb, user id)."""
        with Session(self.engine) as session:
            rows = session.exec(select(SlackInteraction).where(
                SlackInteraction.strategy == strategy.name, SlackInteraction.channel == channel_id,
                SlackInteraction.message_ts == ts).order_by(SlackInteraction.id))
            return [(row.call_id, row.kind, row.user_id) for row in rows if row.call_id is not None]

    def store(self, strategy: Strategy, action: Action, who: Clicker, key: str, channel_id: str,
              message_ts: str | None) -> bool | None:
        """Store the click; False when it changes nothing (a repeat, or already done elsewhere), None for
        an envelope already handled (a redelivery). A click that changes nothing is kept too, as
        ``unchanged``: Slack redelivers an envelope whose ack was lost, and its answer is given once."""
        now = self.now()
        with session_scope(self.engine) as session:
            if session.exec(select(SlackInteraction.id).where(SlackInteraction.key == key)).first():
                return None
            changed = True
            if action.verb in MARK_LABELS:
                label = MARK_LABELS[action.verb]
                changed = _last_mark(session, strategy.name, action.call_id) != (label, who.name)
                if changed:  # as `fundradar calls mark ID LABEL --by NAME`: for every focus area
                    record_mark(session, action.call_id, strategy.name, label, None, now, who.name)
            elif action.verb in ("follow", "mute"):
                changed = set_state(session, strategy.name, action.call_id, action.verb, now,
                                    f"<@{who.user_id}>")
            elif action.verb in ("unfollow", "unmute"):
                changed = clear_state(session, strategy.name, action.call_id, action.verb.removeprefix("un"))
            session.add(SlackInteraction(key=key, strategy=strategy.name,
                                         kind=action.verb if changed else UNCHANGED_KIND,
                                         call_id=action.call_id, user_id=who.user_id, user_name=who.name,
                                         channel=channel_id, message_ts=message_ts, at=now))
            session.flush()
        return bool(changed)

    def update_message(self, strategy: Strategy, channel_id: str, message: Mapping[str, Any], call_id: int,
                       verb: str, status: str, user_id: str) -> None:
        client = self.clients(strategy)
        blocks = message.get("blocks")
        if client is None or not blocks or not message.get("ts"):
            return
        try:  # every click stored for the message, or a redraw sent meanwhile is undone
            clicks = self.clicks_on(strategy, channel_id, str(message["ts"]))
            drawn = redraw_all(blocks, strategy.name, clicks)
        except sa.exc.SQLAlchemyError:
            drawn = redraw(blocks, strategy.name, call_id, verb, status)
        try:
            client.chat_update(channel=channel_id, ts=str(message["ts"]), text=str(message.get("text") or ""),
                               blocks=drawn)
        except (SlackApiError, OSError) as exc:
            log.warning("could not update the message %s in %s: %s", message.get("ts"), channel_id,
                        _fix(exc))
            # the click was stored: say so, or the clicker sees a button that did nothing
            self.tell(client, channel_id, user_id, f"Stored: {STATUS_TEXT.get(verb, verb)}, call {call_id}; "
                                                   f"Slack did not redraw the message ({_slack_error(exc)}).")

    def tell(self, client: WebClient, channel_id: str, user_id: str, text: str) -> None:
        """An ephemeral answer to the one who clicked; a failure to deliver it is one logged line."""
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not tell %s in %s: %s", user_id, channel_id, _fix(exc))

    # --- Start idea ----------------------------------------------------------------------------

    def open_idea(self, payload: Mapping[str, Any], strategy: Strategy, call_id: int,
                  channel: Mapping[str, Any], message_ts: str) -> None:
        client = self.clients(strategy)
        if client is None:
            return
        if not payload.get("trigger_id"):
            self._not_opened(client, channel, Clicker.of(payload).user_id, call_id,
                             "the click has no trigger id")
            return
        trigger = str(payload["trigger_id"])
        with self._triggers_lock:
            if trigger in self._triggers:
                log.info("Start idea for call %d delivered again; its form is open already", call_id)
                return
            self._triggers[trigger] = None
            while len(self._triggers) > 1000:
                del self._triggers[next(iter(self._triggers))]
        with Session(self.engine) as session:
            call = session.get(Call, call_id)
            assert call is not None  # refusal() checked
            best = session.exec(select(Score.focus_area).where(
                Score.call_id == call_id, Score.strategy == strategy.name).order_by(Score.score.desc())
            ).first()
            # the ideas started from this call before (a colleague's tap on the same digest)
            started = session.exec(
                select(Idea).join(SlackInteraction, SlackInteraction.idea_id == Idea.id)
                .where(SlackInteraction.strategy == strategy.name, SlackInteraction.kind == "idea",
                       SlackInteraction.call_id == call_id).order_by(Idea.id)).all()
            view = idea_modal(strategy, call, best, Clicker.of(payload).name,
                              {"s": strategy.name, "c": call_id, "ch": channel.get("id"),
                               "chn": channel.get("name"), "ts": message_ts},
                              started=[(i.id, i.title, i.owner) for i in started if i.id is not None])
        try:
            client.views_open(trigger_id=trigger, view=view)
        except (SlackApiError, OSError) as exc:
            log.warning("could not open the Start idea modal: %s", _fix(exc))
            self._not_opened(client, channel, Clicker.of(payload).user_id, call_id, _slack_error(exc))

    def _not_opened(self, client: WebClient, channel: Mapping[str, Any], user_id: str, call_id: int,
                    why: str) -> None:
        """Tell the clicker the form did not open (a trigger expires 3 seconds after the click)."""
        self.tell(client, str(channel.get("id") or ""), user_id,
                  f"Slack did not open the Start idea form ({why}); try the button again, or add the idea "
                  f"with `fundradar ideas add TITLE --description \"call #{call_id}\"`.")

    def on_idea_submitted(self, payload: Mapping[str, Any]) -> None:
        view = payload.get("view") or {}
        who = Clicker.of(payload)
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            name, call_id, channel_id = str(meta["s"]), int(meta["c"]), str(meta["ch"])
            if not 0 < call_id <= MAX_ID:
                raise ValueError("no call has this id")
        except (ValueError, KeyError, TypeError):
            log.warning("a Start idea submission without its call; ignored")
            return
        strategy = self.strategy(name)
        why = self.refusal(strategy, name, (payload.get("team") or {}).get("id"),
                           {"id": channel_id, "name": meta.get("chn")}, call_id, None)
        if why is not None or strategy is None:
            self.refuse(strategy, channel_id, who.user_id, why or "")
            return
        key = f"view:{view.get('id')}"
        now = self.now()
        try:
            with session_scope(self.engine) as session:
                if session.exec(select(SlackInteraction.id).where(SlackInteraction.key == key)).first():
                    return
                call = session.get(Call, call_id)
                assert call is not None
                area = area_of(_value(payload, "focus"), strategy.focus_areas)
                # the form's choices are those of when it opened: an area renamed since is left out, the
                # typed idea kept, rather than the whole form refused
                dropped = area if area and area not in strategy.focus_areas else None
                area = None if dropped else area
                idea = create_idea(session, title=_value(payload, "title"), strategy=strategy, now=now,
                                   owner=_value(payload, "owner") or None,
                                   focus_areas=[area] if area else [],
                                   description=f"Started from call #{call_id}: {clean(call.title)}"
                                               + (f" ({call.url})" if call.url else ""))
                session.add(SlackInteraction(key=key, strategy=name, kind="idea", call_id=call_id,
                                             idea_id=idea.id, user_id=who.user_id, user_name=who.name,
                                             channel=channel_id, message_ts=meta.get("ts"), at=now))
                session.flush()
                idea_id = idea.id
        except (FundradarError, sa.exc.DBAPIError) as exc:  # refused by the rules or by the database
            self.refuse(strategy, channel_id, who.user_id, f"The idea was not added: {_db_detail(exc)}")
            return
        log.info("Slack: idea #%s started from call %d by %s", idea_id, call_id, who.name)
        client = self.clients(strategy)
        if client is not None:
            without = f", without focus area {dropped!r}, which the strategy no longer has (it has " \
                      f"{', '.join(strategy.focus_areas)})" if dropped else ""
            try:
                client.chat_postEphemeral(channel=channel_id, user=who.user_id,
                                          text=f"Added idea #{idea_id} for call {call_id}{without}; "
                                               f"see `fundradar ideas show {idea_id}`.")
            except (SlackApiError, OSError) as exc:
                log.warning("could not confirm idea #%s: %s", idea_id, _fix(exc))


def _tap(action: Action) -> str:
    """A click named by the button the clicker saw ("Your tap on Not for us (call 12)")."""
    return f"Your tap on {LABELS.get(action.verb, action.verb)} (call {action.call_id})"


def _db_detail(exc: Exception) -> str:
    """The database's own error in one line (the driver's message, not SQLAlchemy's wrapper)."""
    detail = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    return truncate(" ".join(str(detail).split()), 300)


def _slack_error(exc: Exception) -> str:
    """What went wrong calling the Web API, in one line: Slack's error code, else the lost connection
    (refused, reset, a timeout: the Web API answering a click is as fallible as any network)."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return str(data.get("error") or f"HTTP {exc.response.status_code}")
    return f"no answer from Slack ({type(exc).__name__})"


def _fix(exc: Exception) -> str:
    """:func:`_slack_error` for serve's log, with what to do about a refusal no retry fixes (a revoked
    token, the bot removed, the channel archived): the clicker, whom Slack then cannot reach either,
    sees nothing."""
    error = _slack_error(exc)
    return f"{error}; {SETUP_HINTS[error]}" if error in SETUP_HINTS else error


def _last_mark(session: Session, strategy: str, call_id: int) -> tuple[str, str | None] | None:
    """(label, by) of the latest every-area mark of the call, if any."""
    mark = session.exec(select(Mark).where(Mark.strategy == strategy, Mark.call_id == call_id,
                                           Mark.focus_area.is_(None))
                        .order_by(Mark.marked_at.desc(), Mark.id.desc())).first()
    return (mark.label, mark.marked_by) if mark else None
