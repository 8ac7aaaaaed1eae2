"""Secrets kept out of the logs: Slack incoming-webhook URLs, Slack tokens and the passwords in URLs.

A webhook URL is itself the credential (whoever has it can post to the channel), and slack_sdk's
debug logger prints it with every request at ``-vv``; tokens can reach a log line in an error or a
request dump. :class:`RedactSecrets` rewrites every record a handler emits, whichever logger it came
from (slack_sdk's, fundradar's, a library's), so no verbosity shows them. It sits on the handlers,
not on loggers: a logger's filter sees only the records logged to that very logger, not those of
its children (``slack_sdk.web.base_client``), while a handler sees all it emits.

The same handlers also get :class:`PrintableRecords`: a log line quotes what sources sent (a parser's
complaint citing the document, a scraped URL in a run's warning), and on a terminal an escape
sequence or a bidi override in it would recolour, clear or reorder the screen; and a line break in
it would start a line that reads as a record of its own ("ERROR … failed"), so every line a record
writes after its first is indented.
"""

from __future__ import annotations

import logging
import re

from pipeline.core.text import printable

REDACTED = "[redacted]"
_PATTERNS = [
    # https://hooks.slack.com/services/T…/B…/secret (and workflows/triggers): the whole URL is secret
    (re.compile(r"https?://hooks\.slack(?:-gov)?\.com/[^\s'\",<>)]+"), f"https://hooks.slack.com/{REDACTED}"),
    # the same path on any host (a proxy, a test server)
    (re.compile(r"/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"), f"/services/{REDACTED}"),
    # bot, user, app-level and refresh tokens: xoxb-…, xoxp-…, xoxa-…, xoxe-…, xapp-…
    (re.compile(r"\bxox[a-z]\.?-[A-Za-z0-9-]+"), f"xox-{REDACTED}"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), f"xapp-{REDACTED}"),
    # the password of a URL's user (a proxy's from HTTPS_PROXY, which slack_sdk logs at -vv; a database's)
    # (up to the last "@" before the path: a password may hold an "@" of its own, left unencoded)
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/]+@", re.IGNORECASE), rf"\1{REDACTED}@"),
]


# the secrets read from the environment (a webhook URL, a token), longest first: a webhook of a relay
# or a proxy matches none of the patterns, and is a credential all the same
_KEPT: list[str] = []
SHORTEST_SECRET = 8  # shorter values would redact ordinary words


def keep_secret(value: str) -> None:
    """Redact ``value`` itself wherever it appears from now on (a value read from a secret variable)."""
    value = value.strip()
    if len(value) >= SHORTEST_SECRET and value not in _KEPT:
        _KEPT.append(value)
        _KEPT.sort(key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every webhook URL and token (and every value of :func:`keep_secret`) replaced by a
    ``[redacted]`` marker."""
    for pattern, replacement in _PATTERNS:  # first: what they leave of a secret says what it was
        text = pattern.sub(replacement, text)
    for secret in _KEPT:
        text = text.replace(secret, REDACTED)
    return text


class _RewriteRecords(logging.Filter):
    """Rewrites a record's message with :meth:`clean`, and its traceback and stack (written on the lines
    after the message) with :meth:`clean_block`, in place (so later handlers get the clean ones too)
    and lets it through."""

    def clean(self, text: str) -> str:
        raise NotImplementedError

    def clean_block(self, text: str) -> str:
        return self.clean(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return True
        clean = self.clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean_block(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean_block(record.stack_info)
        return True


class RedactSecrets(_RewriteRecords):
    """Tokens and passwords hidden (:func:`redact`)."""

    def clean(self, text: str) -> str:
        return redact(text)


# what the lines of a record after its first start with: only a record's first line starts at the margin
CONTINUED = "  "


class PrintableRecords(_RewriteRecords):
    """Escape sequences and control characters removed (:func:`pipeline.core.text.printable`; newlines
    and tabs kept), and the lines after a record's first indented by :data:`CONTINUED`: every line of a
    traceback, the first too (it follows the message). A record is rewritten once, however many
    handlers it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_printable", False):
            return True
        setattr(record, "_printable", True)  # noqa: B010 (LogRecord declares no such field)
        return super().filter(record)

    def clean(self, text: str) -> str:
        return printable(text).replace("\n", "\n" + CONTINUED)

    def clean_block(self, text: str) -> str:
        return CONTINUED + self.clean(text)


def install(logger: logging.Logger | None = None) -> RedactSecrets:
    """Put the filters (:class:`RedactSecrets`, then :class:`PrintableRecords`) on every handler of
    ``logger`` (the root logger: where every record ends up), once; call it after the handlers are set
    up."""
    target = logger or logging.getLogger()
    found = next((f for h in target.handlers for f in h.filters if isinstance(f, RedactSecrets)), None)
    active = found or RedactSecrets()
    shown = next((f for h in target.handlers for f in h.filters if isinstance(f, PrintableRecords)),
                 None) or PrintableRecords()
    for handler in target.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(active)
        if not any(isinstance(f, PrintableRecords) for f in handler.filters):
            handler.addFilter(shown)
    return active
