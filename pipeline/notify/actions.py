"""The buttons under each call in digests and alerts, and how a click's message is redrawn.

Under a call's section an actions block holds *Relevant* · *Not for us* · *Follow* · *Mute* and an
overflow menu with *Start idea* (5 elements; Slack allows 25 per actions block). Ids:

- the call's section: block id ``fr_call:<call>``; its actions block ``fr_actions:<strategy>:<call>``;
- each element: action id ``fr:<verb>:<call>`` (unique within a message, which shows a call once);
  the button's value ``<strategy>:<call>``, so the handler knows whose button it is without a lookup.

After a click the message is updated in place (``chat.update``): the call's section gets one status
line ("✓ relevant — <@U123>"), replacing an earlier one, and *Follow* / *Mute* turn into *Unfollow* /
*Unmute* once done. Every other block is sent back as it was.

Block Kit's limits are checked by :func:`payload_problems` (the tests run it on whole digests).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from pipeline.notify.escape import clean, escape, truncate

if TYPE_CHECKING:
    from pipeline.notify.blocks import SlackMessage

    Message = TypeVar("Message", bound=SlackMessage)

# Slack's limits, as in pipeline.notify.digest (which imports this module, so they are not imported)
MAX_BLOCKS = 50  # per message
MAX_SECTION_CHARS = 3000  # per section text
PREFIX = "fr"
MAX_ACTIONS_ELEMENTS = 25  # per actions block (Slack)
MAX_ACTION_ID = 255  # characters (Slack)
STATUS_MARK = "\u2063"  # invisible separator that starts the status line, so a redraw can find it
VERBS = ("relevant", "irrelevant", "follow", "unfollow", "mute", "unmute", "idea")
_ACTION = re.compile(rf"^{PREFIX}:([a-z]+):([1-9][0-9]{{0,17}})$")  # an id a 64-bit column holds
# the button's label per verb, and the verb a done toggle turns into
LABELS = {"relevant": "Relevant", "irrelevant": "Not for us", "follow": "Follow", "unfollow": "Unfollow",
          "mute": "Mute", "unmute": "Unmute"}
TOGGLES = {"follow": "unfollow", "unfollow": "follow", "mute": "unmute", "unmute": "mute"}
STATUS_TEXT = {"relevant": "✓ relevant", "irrelevant": "✗ not for us", "follow": "★ followed",
               "unfollow": "☆ unfollowed", "mute": "🔇 muted", "unmute": "🔈 unmuted"}


@dataclass(frozen=True)
class Action:
    verb: str
    strategy: str
    call_id: int
    action_id: str
    action_ts: str | None


CALL_BLOCK = f"{PREFIX}_call:"  # the block id prefix of a call's section


def call_block_id(call_id: int) -> str:
    return f"{CALL_BLOCK}{call_id}"


def actions_block_id(strategy: str, call_id: int) -> str:
    return f"{PREFIX}_actions:{strategy}:{call_id}"


def _button(verb: str, strategy: str, call_id: int) -> ButtonElement:
    style = "primary" if verb == "relevant" else None
    return ButtonElement(text=PlainTextObject(text=LABELS[verb]), action_id=f"{PREFIX}:{verb}:{call_id}",
                         value=f"{strategy}:{call_id}", style=style)


def call_actions(strategy: str, call_id: int, *, followed: bool = False) -> ActionsBlock:
    """The actions block of one call (*Unfollow* instead of *Follow* for a call already followed)."""
    more = OverflowMenuElement(action_id=f"{PREFIX}:more:{call_id}", options=[
        Option(text=PlainTextObject(text="Start idea"), value=f"idea:{strategy}:{call_id}")])
    verbs = ("relevant", "irrelevant", "unfollow" if followed else "follow", "mute")
    buttons = [_button(verb, strategy, call_id) for verb in verbs]
    return ActionsBlock(block_id=actions_block_id(strategy, call_id), elements=[*buttons, more])


def with_actions(block: SectionBlock, strategy: str, call_id: int, *, followed: bool = False) -> list[Block]:
    """A call's section (given its block id) followed by its buttons; the section alone when there is
    no strategy to act for."""
    if not strategy:
        return [block]
    block.block_id = call_block_id(call_id)
    return [block, call_actions(strategy, call_id, followed=followed)]


def followed_line(by: str | None) -> str:
    """The status line of a call followed before the message was written (the CLI, another message):
    who followed it, by name; never a mention, which would notify them in every new message."""
    who = "" if by and re.fullmatch(r"<@[A-Z0-9]+>", by) else escape(clean(by))
    return f"\n{STATUS_MARK}{STATUS_TEXT['follow']}" + (f" — {who}" if who else "")


def unfollow_actions(strategy: str, call_id: int) -> ActionsBlock:
    """The actions block of a followed call's change alert or reminder: *Unfollow* alone, the one thing
    such an alert asks (a *Mute* there would not stop its reminders)."""
    return ActionsBlock(block_id=actions_block_id(strategy, call_id),
                        elements=[_button("unfollow", strategy, call_id)])


def marked_text(label: str, by: str | None) -> str:
    """A call's latest mark as the status line says it ("✗ not for us — mette"), for a message written
    after it: by name, never a mention, as :func:`followed_line`."""
    who = "" if by and re.fullmatch(r"<@[A-Z0-9]+>", by) else escape(clean(by))
    return STATUS_TEXT["relevant" if label == "relevant" else "irrelevant"] + (f" — {who}" if who else "")


def add_actions(message: Message, strategy: str, call_id: int, *, followed: bool = False,
                unfollow_only: bool = False) -> Message:
    """An alert with the call's buttons (*Unfollow* for a call followed; with ``unfollow_only`` that
    button alone): its first section becomes the call's line, the actions block goes last (left out
    if the message is already at Slack's 50 blocks)."""
    if not strategy or len(message.blocks) >= MAX_BLOCKS:
        return message
    blocks = [dict(b) for b in message.blocks]
    for block in blocks:
        if block.get("type") == "section" and "block_id" not in block:
            block["block_id"] = call_block_id(call_id)
            break
    actions = unfollow_actions(strategy, call_id) if unfollow_only \
        else call_actions(strategy, call_id, followed=followed)
    return replace(message, blocks=[*blocks, actions.to_dict()])


def without_repeats(blocks: Sequence[dict[str, Any]], shown: set[str]) -> list[dict[str, Any]]:
    """One alert's ``blocks`` for a message that already shows the block ids in ``shown`` (updated): a
    call two alerts name (a new match followed at once, and its reminder) keeps its buttons and block
    id in the first only, as Slack refuses a message that repeats a block or action id."""
    out = []
    for block in blocks:
        block_id = block.get("block_id")
        if block_id and block_id in shown:
            if block.get("type") == "actions":
                continue
            block = {key: value for key, value in block.items() if key != "block_id"}
        elif block_id:
            shown.add(block_id)
        out.append(block)
    return out


def parse_action(action: dict[str, Any]) -> Action | None:
    """A fundradar click from one element of a ``block_actions`` payload; None for anything else."""
    match = _ACTION.match(str(action.get("action_id", "")))
    if match is None:
        return None
    verb, call = match.group(1), int(match.group(2))
    value = str(action.get("value") or "")
    if verb == "more":
        value = str((action.get("selected_option") or {}).get("value") or "")
        verb, _, value = value.partition(":")
    strategy, _, value_call = value.rpartition(":")
    if verb not in VERBS or not strategy or value_call != str(call):
        return None
    return Action(verb, strategy, call, str(action["action_id"]), action.get("action_ts"))


def status_line(verb: str, user_id: str) -> str:
    """The call's line after a click; the clicker as a mention only when the id is one Slack makes, as
    the line goes into a message the whole channel sees."""
    who = f"<@{user_id}>" if re.fullmatch(r"[A-Z0-9]+", user_id) else escape(clean(user_id)) or "someone"
    return f"{STATUS_TEXT.get(verb, verb)} — {who}"


def redraw(blocks: Sequence[dict[str, Any]], strategy: str, call_id: int, verb: str,
           status: str) -> list[dict[str, Any]]:
    """The message's blocks after ``verb`` on ``call_id``: the call's section shows ``status`` as its
    last line; a done Follow / Mute button shows its opposite. Other blocks are returned unchanged."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == call_block_id(call_id) and block.get("type") == "section":
            block = _with_status(block, status)
        elif block.get("block_id") == actions_block_id(strategy, call_id) and verb in TOGGLES:
            block = _toggled(block, strategy, call_id, verb)
        out.append(block)
    return out


def redraw_all(blocks: Sequence[dict[str, Any]], strategy: str,
               clicks: Sequence[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """The message's blocks after every one of ``clicks`` (call, verb, user id), oldest first: two
    people who tapped the same message before its redraw reached them each sent the message as they
    saw it, so it is redrawn from every click stored for it, not from the one payload's blocks
    (redrawing a click already shown changes nothing)."""
    out = list(blocks)
    for call_id, verb, user_id in clicks:
        if verb in STATUS_TEXT:
            out = redraw(out, strategy, call_id, verb, status_line(verb, user_id))
    return out


def _with_status(block: dict[str, Any], status: str) -> dict[str, Any]:
    text = dict(block.get("text") or {"type": "mrkdwn", "text": ""})
    body = str(text.get("text", "")).split("\n" + STATUS_MARK)[0]
    line = f"\n{STATUS_MARK}{status}"
    # cut as the digest cuts (an entity or a link whole, an ellipsis), not inside "&amp;" or "<url|…>"
    text["text"] = truncate(body, MAX_SECTION_CHARS - len(line)) + line
    return {**block, "text": text}


def _toggled(block: dict[str, Any], strategy: str, call_id: int, verb: str) -> dict[str, Any]:
    elements = []
    for element in block.get("elements", []):
        if element.get("action_id") == f"{PREFIX}:{verb}:{call_id}":
            element = _button(TOGGLES[verb], strategy, call_id).to_dict()
        elements.append(element)
    return {**block, "elements": elements}


def payload_problems(blocks: Sequence[dict[str, Any]]) -> list[str]:
    """What in one message breaks Block Kit's limits: more than 50 blocks, an actions block with more
    than 25 elements, an action id repeated or longer than 255 characters, a block id repeated."""
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (at most {MAX_BLOCKS})")
    action_ids: set[str] = set()
    block_ids: set[str] = set()
    for block in blocks:
        if block.get("block_id"):
            if block["block_id"] in block_ids:
                problems.append(f"block id {block['block_id']} repeated")
            block_ids.add(block["block_id"])
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            problems.append(f"actions block {block.get('block_id')} has {len(elements)} elements")
        accessory = block.get("accessory")
        for element in [*elements, *([accessory] if accessory else [])]:
            action_id = element.get("action_id")
            if action_id is None:
                continue
            if action_id in action_ids:
                problems.append(f"action id {action_id} repeated")
            if len(action_id) > MAX_ACTION_ID:
                problems.append(f"action id {action_id[:20]}… longer than {MAX_ACTION_ID}")
            action_ids.add(action_id)
    return problems
