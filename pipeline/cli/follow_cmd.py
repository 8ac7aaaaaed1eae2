"""``fundradar calls follow|unfollow|mute|unmute ID``: a strategy's follow and mute state of a call
(pipeline.follow), the same state the Follow and Mute buttons in Slack set.

The commands join the ``calls`` group that pipeline.cli.calls_cmd registers; they find it on the app
rather than importing that module (command modules never import each other).
"""

from __future__ import annotations

import typer

from pipeline.calls import find_call
from pipeline.cli.common import state
from pipeline.core.db import session_scope
from pipeline.follow import clear_state, set_state

CALL_HELP = "Call id, topic identifier or source reference."
_DONE = {"follow": ("Following call {id} for {s}: its deadline reminders and changes go to the alerts "
                    "channel.", "Call {id} was already followed for {s}."),
         "mute": ("Muted call {id} for {s}: it leaves the digests and new-call alerts.",
                  "Call {id} was already muted for {s}."),
         "unfollow": ("Stopped following call {id} for {s}.", "Call {id} was not followed for {s}."),
         "unmute": ("Unmuted call {id} for {s}.", "Call {id} was not muted for {s}.")}


def _apply(call: str, verb: str, by: str | None) -> None:
    st = state()
    strategy = st.config().strategy
    with session_scope(st.read_engine()) as session:
        found = find_call(session, call)
        if verb.startswith("un"):
            changed = clear_state(session, strategy.name, found.id, verb[2:])  # type: ignore[arg-type]
        else:
            changed = set_state(session, strategy.name, found.id, verb, st.now(), by)  # type: ignore[arg-type]
        call_id = found.id
    typer.echo(_DONE[verb][0 if changed else 1].format(id=call_id, s=strategy.name))


def follow_cmd(call: str = typer.Argument(..., help=CALL_HELP),
               by: str = typer.Option(None, "--by", help="Who follows (a name or initials).")) -> None:
    """Follow a call: deadline reminders (slack.alerts.reminder_days) and change alerts, as for an
    application's call. Example: fundradar calls follow 42"""
    _apply(call, "follow", by)


def unfollow_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Stop following a call. Example: fundradar calls unfollow 42"""
    _apply(call, "unfollow", None)


def mute_cmd(call: str = typer.Argument(..., help=CALL_HELP),
             by: str = typer.Option(None, "--by", help="Who mutes (a name or initials).")) -> None:
    """Hide a call from the strategy's digests and new-call alerts. Example: fundradar calls mute 42"""
    _apply(call, "mute", by)


def unmute_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Show a muted call in digests and alerts again. Example: fundradar calls unmute 42"""
    _apply(call, "unmute", None)


def register(app: typer.Typer) -> None:
    calls = next((g.typer_instance for g in app.registered_groups if g.name == "calls"), None)
    if calls is None:
        raise RuntimeError("pipeline.cli.follow_cmd is registered before the calls group (COMMAND_MODULES)")
    calls.command("follow")(follow_cmd)
    calls.command("unfollow")(unfollow_cmd)
    calls.command("mute")(mute_cmd)
    calls.command("unmute")(unmute_cmd)
