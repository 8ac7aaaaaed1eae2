"""The Start idea form (a Slack modal): built from the call and the clicker (:func:`idea_modal`), and
its inputs read back from the submission (:func:`form_value`). What the submission does is
pipeline.notify.interact's."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.core.config import Strategy
from pipeline.core.models import Call
from pipeline.notify.escape import clean, escape, truncate

IDEA_CALLBACK = "fr_start_idea"
# Slack's limit of a select option's value. A focus area's key is its option's value; a longer key
# (valid everywhere else) had every form refused (views.open: invalid_arguments), so it goes as a
# short id of its own: "#" (which no key holds) and a hash of the key, the same whenever the form opens
MAX_OPTION_VALUE = 150


def area_value(key: str) -> str:
    """The Start idea form's option value of focus area ``key`` (pure)."""
    if len(key) <= MAX_OPTION_VALUE:
        return key
    return "#" + hashlib.sha256(key.encode()).hexdigest()[:32]


def area_of(value: str, keys: Iterable[str]) -> str:
    """The focus area key of an option value :func:`area_value` gave, out of ``keys``; ``value``
    itself when none gives it (an area renamed or removed since the form opened)."""
    return next((key for key in keys if area_value(key) == value), value)


def form_value(payload: Mapping[str, Any], block: str) -> str:
    """A modal input's value: text inputs' ``value``, selects' ``selected_option``."""
    state = ((payload.get("view") or {}).get("state") or {}).get("values") or {}
    field = (state.get(block) or {}).get("value") or {}
    if field.get("selected_option"):
        return str(field["selected_option"].get("value") or "")
    return " ".join(str(field.get("value") or "").split())


def idea_modal(strategy: Strategy, call: Call, focus_area: str | None, owner: str,
               meta: dict[str, Any], *,
               started: Sequence[tuple[int, str, str | None]] = ()) -> dict[str, Any]:
    """The Start idea modal: title, owner and focus area prefilled from the call and the clicker;
    above them the ideas ``started`` from the call before (id, title, owner), so a second tap on the
    same call does not make a second idea unawares."""
    options = [{"text": {"type": "plain_text", "text": truncate(area.label, 75)}, "value": area_value(key)}
               for key, area in strategy.focus_areas.items()][:100]
    focus: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
    chosen = next((o for o in options if focus_area is not None and o["value"] == area_value(focus_area)),
                  None)
    if chosen is not None:
        focus["initial_option"] = chosen
    return {
        "type": "modal", "callback_id": IDEA_CALLBACK, "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": "Start an idea"},
        "submit": {"type": "plain_text", "text": "Add idea"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            *([{"type": "context", "elements": [{"type": "mrkdwn", "text": _started(started)}]}]
              if started else []),
            {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200,
                         "initial_value": truncate(clean(call.title), 200)}},
            {"type": "input", "block_id": "owner", "optional": True,
             "label": {"type": "plain_text", "text": "Owner"},
             "element": {"type": "plain_text_input", "action_id": "value",
                         **({"initial_value": owner} if owner else {})}},
            {"type": "input", "block_id": "focus", "optional": True,
             "label": {"type": "plain_text", "text": "Focus area"}, "element": focus},
        ],
    }


def _started(ideas: Sequence[tuple[int, str, str | None]]) -> str:
    """The ideas started from the call, as the form's first line (the first five, then a count)."""
    named = [f"#{number} “{escape(truncate(clean(title), 80))}”"
             + (f" ({escape(truncate(clean(owner), 40))})" if owner else "")
             for number, title, owner in ideas[:5]]
    more = f" and {len(ideas) - 5} more" if len(ideas) > 5 else ""
    return f":bulb: Already started from this call: idea {', '.join(named)}{more}; adding this one makes " \
           "another idea (`fundradar ideas show ID` shows one)."
