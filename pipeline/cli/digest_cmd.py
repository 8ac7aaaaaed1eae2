"""``fundradar digest`` and ``fundradar alerts``: Slack messages, or the terminal without Slack.

Slack is configured by environment variables named in the strategy (``slack.token_env``, default
SLACK_BOT_TOKEN; ``slack.webhook_env``, default SLACK_WEBHOOK_URL); SLACK_API_URL (or
``slack.base_url``) points the client at another Web API, e.g. a local test server.
"""

from __future__ import annotations

from typing import Any

import typer

from pipeline.cli.common import echo, report_outcomes, state, stderr
from pipeline.core.errors import ConfigError


def _up_to_date(st: Any) -> None:
    """What serve's digest and alerts jobs do first, when a verdict is due for it: the verdicts the
    clock has changed are checked again (a deadline now under the rules' weeks), so a call the rules
    now reject is not listed as passing them (:func:`pipeline.sync.recheck_due`). Stored scores of
    another config (a trial file, an edit not scored yet) are shown as they are, with the note saying
    so, and not replaced; a failing step is a warning and the messages are built from what is stored."""
    from pipeline.trial import stored_scores_note

    note = stored_scores_note(st.read_engine(), st.scoped())
    if note:
        echo(note, err=True)
        return
    from pipeline.sync import recheck_due

    after = recheck_due(st.engine(), st.scoped(), st.now())
    for strategy, error in (after.errors if after else {}).items():
        what = f"rescoring {strategy}" if strategy else "following call deadlines"
        echo(f"Warning: {what} failed ({error}); the messages use the verdicts stored before", err=True)


def digest_cmd(
    channel: str = typer.Option(None, "--channel", help="Only the digest for this channel (e.g. "
                                                        "#eu-fundraising)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the digest; send and record nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the Block Kit JSON and the outcome."),
    force: bool = typer.Option(False, "--force", help="Send the digest again even when this period's "
                                                      "was sent."),
) -> None:
    """Build each channel's digest of top calls, changes and our applications, and post it to Slack.

    Without a Slack token or webhook in the environment the digest is printed here. With several
    strategies each sends its own digests (or only --strategy's). One digest per channel is sent per
    period of its schedule; a rerun in the same period says so, --force sends it again.

    Example: fundradar digest --channel "#eu-fundraising" --dry-run
    """
    from pipeline.notify.jobs import send_digests

    st = state()
    _up_to_date(st)
    outcomes = send_digests(st.engine(), st.scoped(), st.now(), channel=channel, dry_run=dry_run,
                            force=force)
    report_outcomes(outcomes, as_json, "digest")
    if not as_json and outcomes and all(o.status == "already sent" for o in outcomes):
        stderr().print("The digest was already sent for this period; --force sends it again.",
                       highlight=False)


def alerts_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the alerts due; send and record nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the Block Kit JSON and the outcome."),
) -> None:
    """Send the alerts due now, each once: new calls above a focus area's alert threshold, deadline
    changes and withdrawals of calls we apply to, and reminders before application deadlines.

    Example: fundradar alerts --dry-run
    """
    from pipeline.notify.jobs import send_alerts

    st = state()
    loaded = st.scoped()
    if all(strategy.slack.alerts is None for strategy in loaded.strategies):
        raise ConfigError("no alerts configured; add slack.alerts with a channel, e.g. "
                          "alerts: {channel: '#eu-funding'}", path=str(loaded.strategy_path), key="slack")
    _up_to_date(st)
    from pipeline.notify.delivery import has_baseline

    engine = st.engine()
    first = not has_baseline(engine)
    outcomes = send_alerts(engine, loaded, st.now(), dry_run=dry_run)
    report_outcomes(outcomes, as_json, "alerts")
    if first and not outcomes:  # "No alerts" on a first run (or a dry run before it) is no broken threshold
        # printed for want of a token or webhook, the run recorded nothing: the next one is the first too
        which = ("(one without --dry-run) " if dry_run else "" if has_baseline(engine) else
                 "(one sending to Slack; without a token or webhook nothing is recorded) ")
        echo("note: the first alerts run " + which
             + "counts every call stored then as seen, so no channel is flooded; new-call alerts are "
             "for the calls found after it (reminders are due either way)", err=True)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest_cmd)
    app.command("alerts")(alerts_cmd)
