"""The two ways fundradar posts to Slack: :class:`BotSender` (a bot token: ``chat.postMessage``, and
``conversations.history`` to look an earlier post up by its key) and :class:`WebhookSender` (an
incoming webhook: one channel, no history). :func:`make_sender` picks one from the environment.
:mod:`pipeline.notify.delivery` decides what to send and when; a sender only posts one message and
says how it went.

Retries: slack_sdk's :class:`RateLimitErrorRetryHandler` (429, waits Retry-After, capped at
:data:`MAX_RETRY_AFTER` seconds by :class:`CappedRateLimitRetryHandler`) and
:class:`ConnectionErrorRetryHandler`. When Slack asks for a longer wait, a sender raises
:class:`Deferred` rather than sit there, so the caller can leave the message for the next run.

For ``chat.postMessage`` the connection handler only retries
``URLError`` — urllib raises it when the request could not be *sent* (refused, DNS, reset while
sending), so a retry cannot double-post. A connection dropped *after* the request went out
(``RemoteDisconnected``, a read timeout) is :class:`AmbiguousDelivery`: the caller checks the history
for the key instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from pipeline.core import redact
from pipeline.core.config import Slack
from pipeline.core.errors import DeliveryError, ValidationError
from pipeline.core.text import printable, shorten, wait_text
from pipeline.notify.blocks import SlackMessage

EVENT_TYPE = "fundradar_delivery"  # the metadata event type that carries a message's key
HISTORY_PAGES = 5  # newest messages searched for an interrupted post's key (200 per page)
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After defers the rest of the run's messages


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """The seconds of a ``Retry-After`` header (values may be strings or lists of them), or None."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


# how slack_sdk words an answer that is not JSON (a page from a wrong address or a proxy), in "error"
NOT_JSON = "Received a response in a non-JSON format:"
# what to do about Slack's refusals that no retry fixes, whichever method Slack answered them for
SETUP_HINTS = {"channel_not_found": "check the channel name and invite the bot to it",
               "not_in_channel": "invite the bot to the channel (/invite @fundradar)",
               "invalid_auth": "check the bot token in the environment",
               "not_authed": "set the bot token in the environment",
               "account_inactive": "the bot token belongs to a deactivated app, user or workspace; "
                                   "reinstall the Slack app and set its new bot token",
               "token_revoked": "the bot token was revoked (the app uninstalled or its token rotated); "
                                "reinstall the Slack app and set its new bot token",
               "token_expired": "the bot token expired (token rotation is on for the app); set a fresh "
                                "bot token",
               "is_archived": "the channel is archived; unarchive it, or name another channel in the "
                              "strategy config",
               "msg_too_long": "the message is longer than Slack takes; fundradar should have split it, "
                               "report it with the command that sent it"}


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, retrying only when Slack's Retry-After is at most ``max_wait`` seconds;
    a longer wait is left to the caller (the 429 comes back as the answer), see :class:`Deferred`."""

    def __init__(self, max_retry_count: int = 3, max_wait: float = MAX_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state: Any, request: Any, response: Any = None,
                   error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        written = next((value for name, value in (response.headers or {}).items()
                        if name.lower() == "retry-after"), None)
        written = written[0] if isinstance(written, list | tuple) and written else written
        if written is not None and not (str(written).isascii() and str(written).strip().isdigit()):
            # slack_sdk waits int(Retry-After): "1.5", "soon" or "-5" raised a ValueError out of the
            # client; such an answer is not retried, the caller reports the rate limit
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= self.max_wait


class Deferred(Exception):
    """Slack asked for a longer wait than :data:`MAX_RETRY_AFTER`: nothing was posted, try next run."""


def _deferred(wait: float | None, what: str) -> Deferred:
    asked = wait_text(wait) if wait is not None else "a long wait"
    return Deferred(f"Slack rate limit on {what}: asked to wait {asked}, more than the "
                    f"{MAX_RETRY_AFTER:g} s a run waits; sent on the next run")


class SlackUnavailable(DeliveryError):
    """Slack could not be reached, failed on its side or kept rate-limiting: the message was not posted,
    through no fault of its own, so this does not count against its attempts."""


class AmbiguousDelivery(Exception):
    """The request went out but no answer came back: the message may or may not be in Slack."""


class Sender(Protocol):
    kind: str  # bot | webhook
    can_check: bool

    def post(self, message: SlackMessage, key: str) -> str | None: ...

    def find(self, channel: str, key: str, since: datetime) -> str | None: ...


def _one_word(value: str) -> bool:
    """No space, line break or control character inside: urllib refuses such a header value or URL
    with a ValueError that quotes it, which for a token or a webhook is the credential itself."""
    return not any(ch.isspace() or not ch.isprintable() for ch in value)


def _http_url(url: str) -> bool:
    """An absolute http(s) URL with a host: anything else makes urllib (under slack_sdk) raise a
    ValueError quoting the URL, which for a webhook is the credential itself."""
    if not _one_word(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def api_url(slack: Slack, environ: Mapping[str, str] = os.environ) -> str | None:
    """The Web API base URL: config ``slack.base_url``, else ``SLACK_API_URL``, else Slack's own.
    ValidationError (not quoting it) when the one given is not an http(s) URL."""
    url = slack.base_url or environ.get("SLACK_API_URL")
    if url and not _http_url(url.strip()):
        where = "slack.base_url in the strategy config" if slack.base_url else "SLACK_API_URL"
        raise ValidationError(f"{where} is not an http(s) URL; set it to the Web API's address, such as "
                              "https://slack.com/api/, or leave it unset")
    if url and not url.endswith("/"):
        url += "/"
    return url


def make_sender(slack: Slack, environ: Mapping[str, str] = os.environ,
                *, timeout: int = 30) -> Sender | None:
    """A bot-token sender if ``slack.token_env`` is set, else a webhook sender if ``slack.webhook_env``
    is set, else ``None`` (no Slack configured: the CLI prints to the terminal). ValidationError,
    naming the variable and not its value, when the webhook or API address is not an http(s) URL."""
    token = environ.get(slack.token_env, "").strip()
    webhook = environ.get(slack.webhook_env, "").strip()
    for secret in (token, webhook):
        redact.keep_secret(secret)
    if token:
        if not _one_word(token):
            raise ValidationError(f"{slack.token_env} holds spaces or several lines; set it to the one bot "
                                  "token Slack shows (xoxb-…)")
        return BotSender(token, api_url(slack, environ), timeout=timeout)
    if webhook:
        if not _http_url(webhook):
            raise ValidationError(f"{slack.webhook_env} is not an http(s) URL; set it to the incoming "
                                  "webhook's whole address as Slack shows it (https://hooks.slack.com/"
                                  "services/…)")
        return WebhookSender(webhook, timeout=timeout, env=slack.webhook_env)
    return None


def _post_retry_handlers() -> list[Any]:
    # only URLError: the request was not sent, so retrying cannot post twice (see the module doc)
    return [ConnectionErrorRetryHandler(max_retry_count=2, error_types=[URLError]),
            CappedRateLimitRetryHandler(max_retry_count=3)]


def _read_retry_handlers() -> list[Any]:
    return [ConnectionErrorRetryHandler(max_retry_count=2), CappedRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2)]


class BotSender:
    """``chat.postMessage`` with a bot token; can look messages up in ``conversations.history``."""

    kind = "bot"
    can_check = True

    def __init__(self, token: str, base_url: str | None = None, *, timeout: int = 30) -> None:
        extra = {"base_url": base_url} if base_url else {}
        self._poster = WebClient(token=token, timeout=timeout, retry_handlers=_post_retry_handlers(), **extra)
        self._reader = WebClient(token=token, timeout=timeout, retry_handlers=_read_retry_handlers(), **extra)
        self._channel_ids: dict[str, str] = {}

    def post(self, message: SlackMessage, key: str) -> str | None:
        try:
            response = self._poster.chat_postMessage(
                channel=message.channel, text=message.text, blocks=message.blocks, unfurl_links=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}})
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if status >= 500:
                raise AmbiguousDelivery(f"Slack answered HTTP {status}") from None
            if status == 429 and (wait := retry_after(exc.response.headers)) is not None \
                    and wait > MAX_RETRY_AFTER:
                raise _deferred(wait, message.channel) from None
            if status == 429:
                raise SlackUnavailable(f"Slack rate limit for {message.channel} persisted after the "
                                       "retries; it is sent on the next run") from None
            if isinstance(error, str) and error.startswith(NOT_JSON):  # slack_sdk's word: not Slack's answer
                body = shorten(printable(error.removeprefix(NOT_JSON).strip()), 60)
                raise DeliveryError(f"the Slack Web API address answered HTTP {status} with no Slack answer "
                                    f"({body!r}) for {message.channel}; check SLACK_API_URL or "
                                    "slack.base_url (unset, Slack's own is used), or the proxy on the way") \
                    from None
            hint = SETUP_HINTS.get(str(error), "")
            said = shorten(" ".join(str(error).split()), 120) if error else f"HTTP {status}"
            raise DeliveryError(f"Slack refused the message for {message.channel}: {said}"
                                + (f"; {hint}" if hint else "")) from None
        except URLError as exc:  # not sent at all (after the connection retries)
            raise SlackUnavailable(f"cannot reach Slack for {message.channel}: {exc.reason}; "
                                   "it is sent on the next run") from None
        except (OSError, TimeoutError) as exc:  # sent, but the answer was lost
            raise AmbiguousDelivery(f"no answer from Slack ({type(exc).__name__})") from None
        except AttributeError:  # slack_sdk reading an answer that is JSON but no object ("[1, 2]")
            raise AmbiguousDelivery("Slack's answer was not a message object") from None
        if not isinstance(response.data, dict):  # a proxy's answer, not Slack's: posted or not is unknown
            raise AmbiguousDelivery("Slack's answer was not a message object")
        channel_id, ts = response.get("channel"), response.get("ts")
        if isinstance(channel_id, str) and channel_id:
            self._channel_ids[message.channel] = channel_id
        return ts if isinstance(ts, str) else None

    def channel_id(self, channel: str) -> str:
        """A channel's id (``C…``) for ``conversations.history``, from a name like ``#eu-funding``."""
        if channel in self._channel_ids:
            return self._channel_ids[channel]
        if not channel.startswith("#"):
            return channel
        name = channel.lstrip("#")
        cursor = None
        while True:
            page = self._reader.conversations_list(types="public_channel,private_channel",
                                                   exclude_archived=True, limit=200, cursor=cursor)
            for item in page.get("channels", []):
                if item.get("name") == name:
                    self._channel_ids[channel] = item["id"]
                    return item["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise DeliveryError(f"channel {channel} not found; check the name and invite the bot")

    def find(self, channel: str, key: str, since: datetime) -> str | None:
        """The ``ts`` of a recent message in ``channel`` that carries ``key``, or None.

        ``since`` is not used as ``oldest``: fundradar's clock may be frozen (``--as-of``) while Slack's
        timestamps are real, so the newest :data:`HISTORY_PAGES` pages are searched instead."""
        try:
            cid = self.channel_id(channel)
            cursor = None
            for _page in range(HISTORY_PAGES):
                page = self._reader.conversations_history(
                    channel=cid, include_all_metadata=True, limit=200, cursor=cursor)
                for item in page.get("messages", []):
                    metadata = item.get("metadata") or {}
                    if metadata.get("event_type") == EVENT_TYPE and \
                            (metadata.get("event_payload") or {}).get("key") == key:
                        return item.get("ts")
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            return None
        except SlackApiError as exc:
            raise _check_error(exc, channel) from None
        except OSError as exc:
            raise SlackUnavailable(f"cannot reach Slack to check {channel}: {exc}") from None
        except (AttributeError, TypeError, KeyError) as exc:  # an answer not shaped as the API's
            raise DeliveryError(f"Slack's answer checking {channel} for an earlier post was not the API's "
                                f"({type(exc).__name__}); will retry next run") from None


def _check_error(exc: SlackApiError, channel: str) -> Exception:
    """What went wrong looking ``channel`` up for an earlier post, said as what it is: only Slack's
    ``missing_scope`` answer names a scope; an HTTP 5xx is Slack's fault and passes, so is retried."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    method = (getattr(response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1] or "the Slack API"
    error = data.get("error")
    if response.status_code == 429:
        wait = retry_after(response.headers)
        if wait is not None and wait > MAX_RETRY_AFTER:
            return _deferred(wait, f"{method} for {channel}")
        return SlackUnavailable(f"Slack rate limit on {method} for {channel} persisted after the retries; "
                                "will retry next run")
    if error == "missing_scope":
        needed = data.get("needed") or ("channels:read" if method == "conversations.list"
                                        else "channels:history")
        return DeliveryError(f"the bot lacks the {needed} scope that {method} needs to check {channel} for "
                             "an earlier post; add it to the Slack app and reinstall it")
    if response.status_code >= 500 or not error:
        return SlackUnavailable(f"Slack answered HTTP {response.status_code} to {method} for {channel}; "
                                "will retry next run")
    hint = SETUP_HINTS.get(str(error))
    return DeliveryError(f"Slack refused {method} for {channel}: {error}; "
                         + (f"{hint}; will retry next run" if hint else "will retry next run"))


# what to do about an incoming webhook's refusals (its answer is a plain-text code); {env} names its variable
WEBHOOK_HINTS = {
    "no_service": "the webhook was removed or its app disabled; make a new incoming webhook and set {env} "
                  "to it",
    "no_active_hooks": "the webhook was removed or its app disabled; make a new incoming webhook and set "
                       "{env} to it",
    "invalid_token": "the webhook URL is no longer valid; make a new incoming webhook and set {env} to it",
    "channel_not_found": "the webhook's channel is gone; make a webhook for another channel and set {env} "
                         "to it",
    "channel_is_archived": "the webhook's channel is archived; unarchive it, or make a webhook for another "
                           "channel",
    "action_prohibited": "a workspace admin restricted posting to the webhook's channel; ask them, or make a "
                         "webhook for another channel",
}


class WebhookSender:
    """An incoming webhook: one channel, no history (see the module doc for the choice made)."""

    kind = "webhook"
    can_check = False

    def __init__(self, url: str, *, timeout: int = 30, env: str = "SLACK_WEBHOOK_URL") -> None:
        self._client = WebhookClient(url, timeout=timeout, retry_handlers=_post_retry_handlers())
        self.env = env  # the variable holding the URL, named in what to do

    def post(self, message: SlackMessage, key: str) -> str | None:
        try:
            response = self._client.send(text=message.text, blocks=message.blocks, unfurl_links=False)
        except URLError as exc:
            raise SlackUnavailable(f"cannot reach the Slack webhook: {exc.reason}; it is sent on the next "
                                   "run") from None
        except (OSError, TimeoutError) as exc:
            raise AmbiguousDelivery(f"no answer from the Slack webhook ({type(exc).__name__})") from None
        if response.status_code == 429 and (wait := retry_after(response.headers)) is not None \
                and wait > MAX_RETRY_AFTER:
            raise _deferred(wait, "the Slack webhook")
        if response.status_code != 200:
            failure = SlackUnavailable if response.status_code >= 500 or response.status_code == 429 \
                else DeliveryError
            body = shorten(printable(response.body or ""), 100)
            if body.startswith("<"):  # a page of markup: not the webhook's word (a plain-text code)
                raise failure(f"the Slack webhook could not take the message: HTTP {response.status_code} "
                              "with an HTML page (from a proxy or Slack's edge, not the webhook)"
                              + ("; it is sent on the next run" if failure is SlackUnavailable else ""))
            said = f"HTTP {response.status_code} {body}".rstrip()
            hint = WEBHOOK_HINTS.get(body.strip(), "").format(env=self.env)
            raise failure(f"the Slack webhook refused the message: {said}" + (f"; {hint}" if hint else ""))
        return None

    def find(self, channel: str, key: str, since: datetime) -> str | None:
        return None
