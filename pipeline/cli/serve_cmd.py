"""``fundradar serve``: the scheduler, until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import typer

from pipeline.cli.common import state, stderr


def serve_cmd(
    no_digests: bool = typer.Option(False, "--no-digests", help="Run the sources only, no Slack jobs."),
    jitter: int = typer.Option(None, "--jitter", min=0, metavar="SECONDS",
                               help="Override every schedule's jitter (0: run exactly on time)."),
    reload_every: float = typer.Option(10, "--reload-every", min=0, max=86_400, metavar="SECONDS",
                                       help="Check the config files for changes this often (and before "
                                            "every job); 0: only before jobs; at most 86400, a day)."),
) -> None:
    """Run every source, digest and alert on its schedule until stopped (SIGTERM or Ctrl-C).

    A stop lets a running source finish writing, then exits with 0. Runs of one source never overlap,
    also not with another `fundradar serve` on the same database. With several strategies every one
    is served (or only --strategy's).

    An edited config is noticed without a restart: when valid it is applied (schedules, sources,
    digests; strategies whose focus areas or rules changed are rescored); when invalid one line says
    what is wrong and the last good config stays in force.

    Example: fundradar serve --no-digests
    """
    from pipeline.serve import Service

    st = state()
    reload_log = logging.getLogger("fundradar.serve")  # reloads are worth a line without -v
    if not reload_log.isEnabledFor(logging.INFO):
        reload_log.setLevel(logging.INFO)
    service = Service(st.engine(), st.scoped(), now=st.now, jitter=jitter, digests=not no_digests,
                      reload_seconds=reload_every or None)
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        service.start()
        jobs = service.scheduler.get_jobs()
        stderr().print(f"fundradar serve: {len(jobs)} jobs scheduled; stop with Ctrl-C or SIGTERM",
                       highlight=False, soft_wrap=True)
        for job in jobs:  # one line each: a long source or channel name is not cut
            stderr().print(f"  {job.id}: next run {_when(job.next_run_time)}", highlight=False,
                           markup=False, soft_wrap=True)
        while not stop.wait(1):
            pass
        stderr().print("stopping: waiting for running jobs to finish their write", highlight=False)
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stderr().print("stopped", highlight=False)


def _when(moment: Any) -> str:
    """``2026-08-23 06:00 Europe/Copenhagen``: in the job's own time zone, named."""
    if moment is None:
        return "none (paused)"
    zone = getattr(moment.tzinfo, "key", None) or moment.tzname()
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
