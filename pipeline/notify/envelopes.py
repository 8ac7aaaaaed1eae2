"""Who may click, read from the payload before anything is done: whether an interactive envelope is
shaped as Slack sends it (:func:`envelope_problem`), and whether its channel is one of the strategy's
(:func:`owns_channel`; a private channel's name asked of Slack, :func:`unnamed`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.core.config import Strategy

_OBJECTS = ("user", "channel", "team", "message", "view", "container")


def _objects(value: Any) -> bool:
    """``value`` is absent or a list of objects."""
    return value is None or (isinstance(value, list) and all(isinstance(item, Mapping) for item in value))


def envelope_problem(payload: Any) -> str | None:
    """What in an interactive payload is not shaped as Slack sends it (a user, channel or view that is
    no object, actions or blocks that are no list of objects), or None. The handlers read the payload
    as Slack shapes it; checked first, such an envelope is one logged line instead of a traceback."""
    if not isinstance(payload, Mapping):
        return "the payload is not an object"
    for name in _OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], Mapping):
            return f"its {name} is not an object"
    actions = payload.get("actions")
    if not _objects(actions) or any(not isinstance(a.get("selected_option") or {}, Mapping)
                                    for a in actions or []):
        return "its actions are not a list of objects"
    if not _objects((payload.get("message") or {}).get("blocks")):
        return "its message blocks are not a list of objects"
    state = (payload.get("view") or {}).get("state") or {}
    values = (state.get("values") or {}) if isinstance(state, Mapping) else None
    if not isinstance(values, Mapping) or not all(
            isinstance(block, Mapping) and all(
                isinstance(field, Mapping) and isinstance(field.get("selected_option") or {}, Mapping)
                for field in block.values())
            for block in values.values()):
        return "its view state is not Slack's"
    return None


# what a click's payload gives as the name of a channel Slack names to no app: a private channel
# ("privategroup", whatever it is called), a direct message
UNNAMED = frozenset({"", "privategroup", "directmessage", "mpdm"})


def unnamed(channel: Mapping[str, Any]) -> bool:
    """Whether the payload's channel (``{"id", "name"}``) comes with an id but without its name, which
    is then asked of Slack (``conversations.info``) before the channel is compared with the config."""
    return bool(channel.get("id")) and str(channel.get("name") or "") in UNNAMED


def owns_channel(strategy: Strategy, channel: Mapping[str, Any]) -> bool:
    """Whether the channel (``{"id", "name"}`` of a payload) is one of the strategy's: configured
    channels may be names ("#eu-funding") or ids."""
    given = {str(channel.get(k) or "").lstrip("#") for k in ("id", "name")} - {""}
    return bool(given & {c.lstrip("#") for c in channel_names(strategy)})


def channel_names(strategy: Strategy) -> list[str]:
    names = [d.channel for d in strategy.slack.digests]
    if strategy.slack.alerts is not None:
        names.append(strategy.slack.alerts.channel)
    return list(dict.fromkeys(names))
