"""The Slack vocabulary every message is built from: Block Kit sections, context lines and headers
within Slack's limits, :class:`SlackMessage`, lines packed into sections, long messages split in parts,
the formats of deadlines, money and days, and a plain rendering for the terminal.

Slack's limits are respected by construction: at most 50 blocks per message (:func:`split_messages`
continues in another message), at most 3,000 characters per section text (:func:`pack_lines` spreads
lines over several sections; a longer list ends with "N more"), 2,000 per context line, 150 per
header. Callers escape scraped text (:mod:`pipeline.notify.escape`) before it reaches these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from pipeline.core.clock import BRUSSELS
from pipeline.core.text import money_short as fmt_money  # noqa: F401  (the digest and alerts use it)
from pipeline.core.text import percent_short as fmt_pct  # noqa: F401
from pipeline.notify.actions import CALL_BLOCK
from pipeline.notify.escape import LOOKALIKES, clean, escape, truncate

MAX_BLOCKS = 50  # per message (Slack)
MAX_SECTION_CHARS = 3000  # per section text (Slack)
MAX_HEADER_CHARS = 150  # per header text (Slack)
MAX_CONTEXT_CHARS = 2000  # per context element's text (Slack's limit for short texts beside a section's)
MAX_LIST_LINES = 40  # lines of a list shown before "N more"
MAX_FALLBACK_CHARS = 3000  # the notification text; Slack truncates far later, but keep it readable


@dataclass(frozen=True)
class SlackMessage:
    """One chat message: Block Kit ``blocks`` and the plain ``text`` fallback (notifications, old
    clients)."""

    channel: str
    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"channel": self.channel, "text": self.text, "blocks": self.blocks}


def fmt_day(value: datetime) -> str:
    """A day as the messages write it, in Brussels: "14 Apr 2027"."""
    return value.astimezone(BRUSSELS).strftime("%-d %b %Y")


def fmt_deadline(value: datetime) -> str:
    """A moment as the messages write it, in Brussels: "14 Apr 2027 17:00"."""
    return value.astimezone(BRUSSELS).strftime("%-d %b %Y %H:%M")


def command(text: str, strategy: str = "") -> str:
    """A fundradar command a message suggests, in backticks. ``strategy`` names the strategy it is for
    when the config is a folder of several: without ``--strategy`` the command answers for the first
    strategy by file name, and another cluster's channel was shown that one's calls."""
    return f"`fundradar {f'--strategy {strategy} ' if strategy else ''}{text}`"


def days_text(days: int | None) -> str:
    if days is None:
        return ""
    return "today" if days == 0 else "1 day left" if days == 1 else f"{days} days left"


def closing_text(deadline: datetime, days: int | None, *, time_assumed: bool = False,
                 zone: bool = False) -> str:
    """A deadline as every message says it (digest, alerts, reminders; read on a phone, so one style
    and short): "closes 14 Apr 2027 17:00 (233 days left)", "closes today at 17:00" (a call closing
    today has no "0 days"), "closed 2 Sep 2026 17:00" once passed. An hour the source did not give
    (``time_assumed``) is left out, "closes 14 Apr 2027 (233 days left)", but for today's: "closes today
    (17:00 assumed)", as the call may close at noon. ``days`` None leaves the days out (a reminder's
    heading says them); ``zone`` names Brussels time, for a message without the digest's footer."""
    at = fmt_day(deadline) if time_assumed else f"{fmt_deadline(deadline)}{' Brussels time' if zone else ''}"
    if days == 0:
        hour = deadline.astimezone(BRUSSELS).strftime("%H:%M") + (" Brussels time" if zone else "")
        return f"closes today ({hour} assumed)" if time_assumed else f"closes today at {hour}"
    if days is not None and days < 0:
        return f"closed {at}"
    return f"closes {at}" + (f" ({days_text(days)})" if days is not None else "")


def pack_lines(lines: Sequence[str], *, limit: int = MAX_SECTION_CHARS, max_lines: int = MAX_LIST_LINES,
               more: str = "more") -> list[str]:
    """Lines joined into section texts of at most ``limit`` characters; after ``max_lines`` lines the
    rest is summarised as "… and N more"."""
    shown = list(lines[:max_lines])
    if len(lines) > max_lines:
        shown.append(f"… and {len(lines) - max_lines} {more}")
    texts: list[str] = []
    current = ""
    for line in shown:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


HEADING = "heading"  # block_id prefix of a section that titles the blocks after it


def section(text: str, *, block_id: str | None = None) -> SectionBlock:
    """A mrkdwn section; ``block_id`` names it (``call-42`` for one call's section, so that per-call
    controls can be attached to it)."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)), block_id=block_id)


def heading(text: str) -> SectionBlock:
    """A section that titles what follows: :func:`split_messages` never leaves it last in a message.
    Its block id comes from its words (unique within a message, as Slack requires)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return section(text, block_id=f"{HEADING}-{slug}"[:255])


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, MAX_CONTEXT_CHARS))])


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, MAX_HEADER_CHARS), emoji=True))


def split_messages(channel: str, blocks: Sequence[Block | dict[str, Any]], text: str,
                   title: str) -> list[SlackMessage]:
    """``blocks`` (models, or their dicts) cut into messages of at most 50 blocks; each continuation
    starts with a context line naming the part."""
    chunks: list[list[Block | dict[str, Any]]] = []
    current: list[Block | dict[str, Any]] = []
    for block in blocks:
        if len(current) == MAX_BLOCKS:
            start = _carried_from(current, block)
            carried = current[start:]
            del current[start:]
            chunks.append(current)
            current = [context(""), *carried]  # placeholder, filled in below once the part count is known
        current.append(block)
    chunks.append(current)
    messages = []
    name = escape(truncate(clean(title), MAX_HEADER_CHARS))  # "(part 2 of 3)" within a preview's reach
    for number, chunk in enumerate(chunks, start=1):
        if number > 1:
            chunk[0] = context(f"{name} (part {number} of {len(chunks)})")
        part_text = text if number == 1 else f"{name} (part {number} of {len(chunks)})"
        messages.append(SlackMessage(channel, part_text,
                                     [b if isinstance(b, dict) else b.to_dict() for b in chunk]))
    return messages


def _carried_from(current: list[Block | dict[str, Any]], block: Block | dict[str, Any]) -> int:
    """Where a full message is cut so that ``block`` does not start the next one apart from what it
    belongs to: a heading stays with its list, and a call's section with the lines and buttons under it
    (an alert's call is its section, a context line, then its buttons)."""
    start = len(current)
    if _kind(block) in ("actions", "context"):
        for n in range(len(current) - 1, max(len(current) - 3, 1) - 1, -1):
            if _block_id(current[n]).startswith(CALL_BLOCK):
                start = n
                break
            if _kind(current[n]) != "context":
                break
    if start > 1 and _is_heading(current[start - 1]):
        start -= 1
    return start


def _kind(block: Block | dict[str, Any]) -> str | None:
    return block.get("type") if isinstance(block, dict) else getattr(block, "type", None)


def _block_id(block: Block | dict[str, Any]) -> str:
    block_id = block.get("block_id") if isinstance(block, dict) else getattr(block, "block_id", None)
    return str(block_id or "")


def _is_heading(block: Block | dict[str, Any]) -> bool:
    return _block_id(block).startswith(HEADING)


def render_terminal(messages: Sequence[SlackMessage]) -> str:
    """A readable plain rendering of messages for the terminal (dry run, no Slack configured)."""
    out: list[str] = []
    for message in messages:
        out.append(f"── {message.channel} " + "─" * max(0, 60 - len(message.channel)))
        for block in message.blocks:
            kind = block.get("type")
            if kind == "header":
                out.append(block["text"]["text"].upper())
            elif kind == "context":
                out.append("  ".join(_plain(e.get("text", "")) for e in block.get("elements", [])))
            elif kind == "section":
                out.extend([_plain(block["text"]["text"]), ""])
            elif kind == "divider":
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def _plain(mrkdwn: str) -> str:
    """mrkdwn shown as text: links as "label (url)", *bold* and _italic_ markers dropped (italics as
    Slack reads them: underscores outside a word), entities and the formatting marks' look-alikes
    decoded."""
    links: list[str] = []  # set aside first: a URL's own "*" or "_" is no marker (Slack reads none there)

    def keep(found: re.Match[str]) -> str:
        links.append(f"{found.group(2)} ({found.group(1)})")
        return f"\x00{len(links) - 1}\x00"

    mrkdwn = re.sub(r"<([^|>]+)\|([^>]*)>", keep, mrkdwn)
    mrkdwn = re.sub(r"\*([^*\n]+)\*", r"\1", mrkdwn)
    mrkdwn = re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"\1", mrkdwn)
    text = re.sub("\x00([0-9]+)\x00", lambda found: links[int(found.group(1))], mrkdwn)
    text = text.translate(_MARKS_BACK)  # the scraped text as it was scraped
    text = text.replace("\u2063", "")  # the status line's mark (pipeline.notify.actions), only for redraws
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_MARKS_BACK = str.maketrans(LOOKALIKES)
