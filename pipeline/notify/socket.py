"""Socket Mode: Slack's clicks reach ``fundradar serve`` over a WebSocket it opens itself, so no public
URL or open port is needed (slack_sdk's builtin :class:`SocketModeClient`).

- A client per app-level token (``slack.app_token_env`` of each strategy, default ``SLACK_APP_TOKEN``):
  strategies sharing an app share the client; each strategy's bot token (``slack.token_env``) answers
  its own clicks. A strategy without an app token has no buttons that work, and the log says so.
- Every envelope is acknowledged first (Slack wants the ack within 3 seconds, else it redelivers);
  the work (database, ``chat.update``) happens after the ack, on one worker thread, so a slow
  answer from Slack never delays the next ack. A Start idea tap is not queued behind the others:
  Slack opens its form only within 3 seconds of the tap, and opening it stores nothing.
- The SDK's own reconnect is off: :class:`SocketRunner` watches the connection and reconnects with
  exponential backoff (1 s doubling to 60 s), logging each loss and each reconnect. Only a connection
  that stayed up :data:`STABLE_SECONDS` resets the backoff: after two in a row that closed sooner (a
  disconnect storm) the growing wait applies, as after failures, so serve never asks for connections
  in a tight loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from pipeline.core import clock, redact
from pipeline.core.config import LoadedConfig, Strategy

if TYPE_CHECKING:  # imported when a connection is made: `fundradar serve` without an app token skips them
    from slack_sdk import WebClient
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest

    from pipeline.notify.interact import Interactions

log = logging.getLogger("fundradar.slack")

BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
STABLE_SECONDS = 60.0  # a connection up this long was a good one: the next loss reconnects at once
# the longest Retry-After a click's chat.update or ephemeral answer waits for: Slack rate-limits a burst of
# clicks on one message (`ratelimited`); the click worker is one thread, so the next click waits too
CLICK_MAX_RETRY_AFTER = 10.0


class SocketRunner:
    """One Socket Mode connection, kept up until :meth:`stop`."""

    def __init__(self, app_token: str, interactions: Interactions, *, base_url: str | None = None,
                 backoff_start: float = BACKOFF_START, backoff_max: float = BACKOFF_MAX,
                 check_every: float = 0.2, ping_interval: float = 5,
                 stable_seconds: float = STABLE_SECONDS, token_env: str = "SLACK_APP_TOKEN") -> None:
        from slack_sdk import WebClient
        from slack_sdk.socket_mode import SocketModeClient

        extra = {"base_url": base_url} if base_url else {}
        self.interactions = interactions
        self.backoff_start, self.backoff_max, self.check_every = backoff_start, backoff_max, check_every
        self.stable_seconds, self.token_env = stable_seconds, token_env
        self.client = SocketModeClient(app_token=app_token, web_client=WebClient(**extra),
                                       auto_reconnect_enabled=False, ping_interval=ping_interval,
                                       logger=_SDK_LOG)
        self.client.socket_mode_request_listeners.append(self._on_request)
        self.stopping = threading.Event()
        self.connects = 0  # successful connections, the first one included
        self.handled = 0  # envelopes acknowledged and handled
        self._handled = threading.Condition()
        self._thread = threading.Thread(target=self._keep_connected, name="slack-socket", daemon=True)
        # one worker: clicks are handled one at a time, in the order they were acknowledged, so two
        # taps of one button cannot both pass the "already stored?" check
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-click")
        self._forms = ThreadPoolExecutor(max_workers=2, thread_name_prefix="slack-form")  # Start idea

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(timeout=10)
        self.client.close()
        self._work.shutdown(wait=True)
        self._forms.shutdown(wait=True)

    def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        try:
            ack = self.interactions.ack_payload(request.type, request.payload)
            form = self.interactions.opens_form(request.type, request.payload)
        except Exception:  # never let a bad payload cost the ack
            log.exception("checking a Slack %s envelope failed", request.type)
            ack, form = None, False
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=ack))
        (self._forms if form else self._work).submit(self._handle, request)

    def _handle(self, request: SocketModeRequest) -> None:
        try:
            self.interactions.handle(request.type, request.payload)
        except Exception:  # one bad click must not stop the others
            log.exception("handling a Slack %s envelope failed", request.type)
        finally:
            with self._handled:
                self.handled += 1
                self._handled.notify_all()

    def wait_handled(self, count: int, timeout: float = 10.0) -> bool:
        """Whether ``count`` envelopes were handled within ``timeout`` seconds."""
        with self._handled:
            return self._handled.wait_for(lambda: self.handled >= count, timeout)

    def _keep_connected(self) -> None:
        delay, attempt = self.backoff_start, 0
        connected_at: float | None = None
        short = 0  # connections in a row that closed within stable_seconds
        while not self.stopping.is_set():
            if self.client.is_connected():
                self.stopping.wait(self.check_every)
                continue
            if connected_at is not None:
                lasted = time.monotonic() - connected_at
                short = 0 if lasted >= self.stable_seconds else short + 1
                if short <= 1:  # a good connection lost, or the first short one: reconnect at once
                    if not short:
                        delay = self.backoff_start
                    log.warning("Slack Socket Mode connection lost; reconnecting")
                else:  # closed soon after it opened again: wait as after a failure, not hammer Slack
                    log.warning("Slack Socket Mode connection lost %.0f s after it opened (%d in a row); "
                                "reconnecting in %.0f s", lasted, short, delay)
                    self.stopping.wait(delay)
                    delay = min(delay * 2, self.backoff_max)
                    if self.stopping.is_set():
                        break
                connected_at = None
            try:
                self.client.connect_to_new_endpoint(force=True)
            except Exception as exc:  # Slack or the network is down: try again later
                attempt += 1
                log.warning("Slack Socket Mode connection failed (attempt %d: %s); retrying in %.0f s",
                            attempt, self._why(exc), delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            self.connects += 1
            connected_at = time.monotonic()
            log.info("Slack Socket Mode %s", "connected" if self.connects == 1
                     else f"reconnected (connection {self.connects})")
            attempt = 0


    def _why(self, exc: Exception) -> str:
        """One line for a failed connection: Slack's refusal of the app-level token with what to set,
        else the error's first line (slack_sdk's run over two, the second the whole answer)."""
        from slack_sdk.errors import SlackApiError

        if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
            error = str(exc.response.data.get("error") or f"HTTP {exc.response.status_code}")
            error = " ".join(error.split())[:80]
            if error in _TOKEN_REFUSALS:
                return (f"Slack refused the app-level token ({error}) in {self.token_env}; set it to the "
                        "app's xapp-… token with connections:write")
            return f"Slack answered apps.connections.open with {error}"
        return " ".join(str(exc).split("\n")[0].split())[:300] or type(exc).__name__


# apps.connections.open's answers that say the app-level token is the wrong one
_TOKEN_REFUSALS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                             "not_allowed_token_type", "missing_scope"})


class _FirstLine(logging.Filter):
    """slack_sdk logs a failed apps.connections.open over two lines, the answer on the second; the
    runner logs the failure itself, in one line, so the SDK's record of it is dropped, and any other of
    its records keeps its first line."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text.startswith("Failed to retrieve WSS URL"):
            return False
        if "\n" in text:
            record.msg, record.args = text.split("\n")[0], None
        return True


_SDK_LOG = logging.getLogger("fundradar.slack.socket")
_SDK_LOG.addFilter(_FirstLine())


def start_interactions(engine: Engine, config: Callable[[], LoadedConfig], *,
                       environ: Mapping[str, str] = os.environ,
                       now: Callable[[], datetime] = clock.now) -> list[SocketRunner]:
    """A started :class:`SocketRunner` per distinct app token among the config's strategies; none
    when no app token is set. ``config`` is read on every click, so a reloaded config applies."""
    tokens: dict[str, list[str]] = {}
    for strategy in config().strategies:
        token = environ.get(strategy.slack.app_token_env, "").strip()
        redact.keep_secret(token)
        if token and any(ch.isspace() or not ch.isprintable() for ch in token):
            log.warning("%s holds spaces or several lines: no Slack buttons for strategy %s; set it to the "
                        "one app-level token Slack shows (xapp-…)", strategy.slack.app_token_env,
                        strategy.name)
        elif token:
            tokens.setdefault(token, []).append(strategy.name)
        else:
            log.debug("%s is not set: no Slack buttons for strategy %s", strategy.slack.app_token_env,
                      strategy.name)
    if not tokens:
        return []
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

    from pipeline.notify.delivery import api_url
    from pipeline.notify.interact import Interactions
    from pipeline.notify.senders import CappedRateLimitRetryHandler

    clients: dict[str, WebClient] = {}

    def client_for(strategy: Strategy) -> WebClient | None:
        bot = environ.get(strategy.slack.token_env, "").strip()
        if not bot:
            return None
        key = f"{bot}\n{api_url(strategy.slack, environ)}"
        if key not in clients:
            base = api_url(strategy.slack, environ)
            # slack_sdk's default retries only a failed connection: a rate-limited redraw was never sent
            retries = [ConnectionErrorRetryHandler(),
                       CappedRateLimitRetryHandler(max_retry_count=2, max_wait=CLICK_MAX_RETRY_AFTER)]
            clients[key] = WebClient(token=bot, retry_handlers=retries,
                                     **({"base_url": base} if base else {}))
        return clients[key]

    runners = []
    for token, names in tokens.items():
        def served(names: list[str] = names) -> list[Strategy]:
            return [s for s in config().strategies if s.name in names]

        first = served()[0]
        if client_for(first) is None:
            log.warning("%s is not set: strategy %s can take clicks but not answer them",
                        first.slack.token_env, first.name)
        runner = SocketRunner(token, Interactions(engine, served, client_for, now=now),
                              base_url=api_url(first.slack, environ), token_env=first.slack.app_token_env)
        runner.start()
        log.info("Slack buttons on for %s (Socket Mode)", ", ".join(names))
        runners.append(runner)
    return runners


def stop_interactions(runners: list[Any]) -> None:
    for runner in runners:
        runner.stop()
