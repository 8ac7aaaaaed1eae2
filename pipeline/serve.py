"""``fundradar serve``: APScheduler runs every source, the Slack digests and the alerts unattended.

- One job per enabled source (``source:<name>``) on the source's ``cron`` (in the strategy's time
  zone) or ``every``; one per Slack digest channel (``digest:<channel>``) and one for alerts.
- Jobs live in an APScheduler ``SQLAlchemyJobStore`` in fundradar's own database (table
  ``apscheduler_jobs``), so next run times survive restarts. They are re-declared from the config on
  every start (``replace_existing``, keeping the stored next run of an unchanged schedule, so a run
  due while serve was down happens when it is back, once however many fell due) and jobs no longer in
  the config are removed. A digest Slack could not take (down, or asking to wait) is tried again
  ``retry_seconds`` later, as a one-off job.
- ``max_instances=1`` and ``coalesce`` stop overlapping or piled-up runs within one scheduler; the
  :class:`~pipeline.core.locks.JobLock` stops them across schedulers and processes. ``jitter`` spreads the
  runs. A run missed (serve down, the machine asleep, the clock put forward) happens late rather than
  not at all (no ``misfire_grace_time``): a weekly digest missed by more than APScheduler's grace
  waited a week, and every job is safe to run late (a digest posts once per period).
- Every job runs the main job of :mod:`pipeline.sync`, as ``fundradar sync`` does: a source run
  (:func:`pipeline.sync.run_sources`) that changed something is followed by
  :func:`pipeline.sync.follow_and_score` (applications follow their calls' deadlines, new and changed
  calls are scored); before a digest or alerts job the same step brings the deadlines and the
  verdicts due by the clock (a deadline now closer than the strategy's minimum weeks) up to date,
  which costs next to nothing when nothing moved or is due.
- :meth:`Service.stop` (SIGTERM/SIGINT in ``fundradar serve``) lets running jobs finish their current
  write, starts no new run, and returns.
- Several strategies (a config folder): one job per source of the union, one digest job per
  strategy and channel (``digest:<strategy>:<channel>``) and one alert job per strategy
  (``alerts:<strategy>``); a source's cron is read in the time zone of the first strategy declaring
  it. After a source run every strategy is rescored.
- Hot reload (:mod:`pipeline.reload`): before each job, and every ``reload_seconds`` on a job of its
  own, the config files are checked. A valid change is applied there and then: jobs whose schedule
  changed are rescheduled, new ones added, gone ones removed, and strategies whose focus areas, rules
  or funding rules changed are rescored (``score_pending`` refits when the focus areas' queries
  changed). An invalid change is logged once and the last good config stays in force.

Job functions are module-level (the job store keeps a reference, not the code); they find the running
:class:`Service` in :data:`_SERVICES` by its key.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from pipeline.core import clock
from pipeline.core.config import LoadedConfig, Schedule
from pipeline.core.errors import FundradarError, RuntimeFailure
from pipeline.core.locks import JobLock
from pipeline.core.schedules import cron_trigger
from pipeline.reload import ConfigWatch, rescore_needed
from pipeline.reload import log as reload_log
from pipeline.sync import (
    changed_anything,
    follow_and_score,
    plan_sources,
    refresh_calendar_files,
    run_sources,
)
from watcher.http import make_client
from watcher.http_limits import stopped_by
from watcher.store import RunResult

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
# a run missed by any time still happens, once (coalesce): see the module doc
MISFIRE_GRACE_SECONDS: int | None = None
RELOAD_SECONDS = 10.0
DIGEST_RETRY_SECONDS = 15 * 60.0  # a digest Slack could not take is tried again this much later
STORE_RETRY_SECONDS = 10.0  # APScheduler's own wait after the job store failed to list the due jobs
_SERVICES: dict[str, Service] = {}
# what a job reports in one line and survives: fundradar's own errors, the driver's, a pool run dry
DATABASE_FAULTS = (FundradarError, sa.exc.DBAPIError, sa.exc.TimeoutError)


def trigger_for(schedule: Schedule, timezone: str, *, jitter: int | None = None) -> Any:
    """The APScheduler trigger of a config schedule; cron is read in the strategy's time zone."""
    spread = schedule.jitter_seconds if jitter is None else jitter
    if schedule.cron is not None:
        trigger = cron_trigger(schedule.cron, timezone)  # weekdays as crontab numbers them
        return trigger if not spread else _with_jitter(trigger, spread)
    seconds = schedule.interval_seconds()
    assert seconds is not None
    return IntervalTrigger(seconds=seconds, timezone=timezone, jitter=spread or None)


def _same_trigger(old: Any, new: Any) -> bool:
    """Whether two triggers fire at the same times (an interval's start date aside)."""
    return type(old) is type(new) and str(old) == str(new) and old.jitter == new.jitter \
        and str(old.timezone) == str(new.timezone)


def _with_jitter(trigger: CronTrigger, jitter: int) -> CronTrigger:
    trigger.jitter = jitter
    return trigger


def default_client_factory(timeout: float) -> httpx.Client:
    """The HTTP client of one source run."""
    return make_client(timeout=timeout)


class StoppingExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, which refuses quietly what is handed to it after shutdown began.

    ``BaseScheduler.shutdown`` marks the scheduler stopped and then waits for the running jobs; its
    thread can wake meanwhile (it checks for "paused", not "stopped") and hand out a due run, which the
    closed pool answers with "cannot schedule new futures after shutdown" logged as an error."""

    stopped = False

    def shutdown(self, wait: bool = True) -> None:
        self.stopped = True
        super().shutdown(wait)

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        if self.stopped:
            log.info("job %s not started: fundradar serve is stopping", job.id)
            return
        super()._do_submit_job(job, run_times)


class KeptJobStore(SQLAlchemyJobStore):
    """APScheduler's job store in fundradar's database, whose failures never end the scheduler.

    The scheduler reads the due jobs inside its own error handling, but stores their next run times
    (``update_job``) and reads the next wakeup (``get_next_run_time``) outside it: a database failing
    there (a full disk, the server gone) ended the scheduler's thread, and serve ran on with no job ever
    run again. Here such a failure is one logged line and the store rests :data:`STORE_RETRY_SECONDS`
    (no job is due meanwhile, or the job whose next run was not stored would be handed out again at
    once, in a tight loop); then its jobs are due as stored."""

    resting_until: datetime | None = None

    def _resting(self) -> bool:
        return self.resting_until is not None and datetime.now(UTC) < self.resting_until

    def _rest(self, what: str, exc: BaseException) -> None:
        self.resting_until = datetime.now(UTC) + timedelta(seconds=STORE_RETRY_SECONDS)
        log.warning("%s (%s); the scheduler tries again in %g s", what, _one_line(exc), STORE_RETRY_SECONDS)

    def get_due_jobs(self, now: datetime) -> list[Any]:
        return [] if self._resting() else super().get_due_jobs(now)

    def update_job(self, job: Any) -> None:
        try:
            super().update_job(job)
        except DATABASE_FAULTS as exc:
            self._rest(f"job {job.id}: its next run time could not be stored", exc)

    def get_next_run_time(self) -> datetime | None:
        if self._resting():
            return self.resting_until
        try:
            return super().get_next_run_time()
        except DATABASE_FAULTS as exc:
            self._rest("the scheduler's job store could not be read", exc)
            return self.resting_until


class Service:
    """The scheduler of one ``fundradar serve``: jobs from the config, run with locks."""

    def __init__(self, engine: Engine, config: LoadedConfig, *,
                 client_factory: Callable[[float], httpx.Client] = default_client_factory,
                 now: Callable[[], datetime] = clock.now, jitter: int | None = None,
                 digests: bool = True, misfire_grace_time: int | None = MISFIRE_GRACE_SECONDS,
                 on_result: Callable[[RunResult], None] | None = None,
                 reload_seconds: float | None = RELOAD_SECONDS,
                 retry_seconds: float = DIGEST_RETRY_SECONDS) -> None:
        self.engine, self.config = engine, config
        self.retry_seconds = retry_seconds
        self.client_factory, self.now, self.jitter = client_factory, now, jitter
        self.digests, self.on_result, self.reload_seconds = digests, on_result, reload_seconds
        self.key = uuid.uuid4().hex
        self.stopping = threading.Event()
        self.watch = ConfigWatch(config)
        self.interactions: list[Any] = []  # Slack workbench: Socket Mode runners (pipeline.notify.socket)
        self.declared: dict[str, tuple[Any, ...]] = {}  # job id -> (schedule, time zone, args)
        # the config whose jobs are still the stored ones, while a valid edit's jobs wait for the database
        self.unapplied: LoadedConfig | None = None
        self.scheduler = BackgroundScheduler(
            jobstores={"default": KeptJobStore(engine=engine, tablename=JOB_TABLE),
                       "local": MemoryJobStore()},
            executors={"default": StoppingExecutor()},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": misfire_grace_time},
            timezone=config.strategy.timezone)

    # --- jobs ---------------------------------------------------------------------------------

    def job_specs(self) -> dict[str, tuple[Schedule, str, tuple[str, ...]]]:
        """Job id -> (schedule, time zone, job args) for every job the config asks for."""
        config = self.config
        zones: dict[str, str] = {}
        for strategy in config.strategies:  # a shared source runs in its first strategy's time zone
            for name in strategy.sources:
                zones.setdefault(name, strategy.timezone)
        specs: dict[str, tuple[Schedule, str, tuple[str, ...]]] = {
            f"source:{name}": (cfg.schedule, zones.get(name, config.strategy.timezone), ("source", name))
            for name, cfg in config.sources.items() if cfg.enabled}
        for strategy in config.strategies:  # calendars kept current on their own schedule too
            if strategy.calendar is not None and strategy.calendar.every:
                specs[job_id("calendar", "", strategy.name)] = (
                    Schedule(every=strategy.calendar.every, jitter_seconds=0), strategy.timezone,
                    ("calendar", "", strategy.name))
        if not self.digests:
            return specs
        for strategy in config.strategies:
            prefix = config.key_prefix(strategy)
            which = strategy.name if prefix else ""  # a single strategy file: no strategy in job ids
            for digest in strategy.slack.digests:
                specs[job_id("digest", digest.channel, which)] = (
                    digest.schedule, strategy.timezone, ("digest", digest.channel, which))
            if strategy.slack.alerts is not None:
                specs[job_id("alerts", "", which)] = (strategy.slack.alerts.schedule, strategy.timezone,
                                                      ("alerts", "", which))
        return specs

    def planned_jobs(self) -> list[tuple[str, Any, tuple[str, ...]]]:
        """(job id, trigger, args) for every job the config asks for."""
        return [(job, trigger_for(schedule, tz, jitter=self.jitter), args)
                for job, (schedule, tz, args) in self.job_specs().items()]

    def start(self) -> None:
        # two processes starting at once would both create the job table and insert the same jobs
        setup = JobLock(self.engine, "scheduler-setup")
        deadline = time.monotonic() + 60
        while not setup.acquire():
            if time.monotonic() > deadline:
                raise RuntimeFailure("another fundradar serve has been starting for a minute; try again "
                                     "when it has started, or stop it")
            time.sleep(0.1)
        try:
            self._start()
        finally:
            setup.release()
        # a subscribed calendar has its file from the start, not only after the first `every`
        self._calendars()
        # Slack workbench: take the buttons' clicks when an app-level token is set (slack.app_token_env)
        from pipeline.notify.socket import start_interactions

        self.interactions = start_interactions(self.engine, lambda: self.config, now=self.now)

    def _start(self) -> None:
        _SERVICES[self.key] = self
        self.scheduler.start(paused=True)
        wanted = set()
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        for job, (schedule, tz, args) in self.job_specs().items():
            wanted.add(job)
            self.declared[job] = (schedule, tz, args)
            trigger = trigger_for(schedule, tz, jitter=self.jitter)
            kept = stored.get(job)
            # an unchanged schedule keeps its stored next run: one due while serve was down runs now
            # instead of waiting a whole interval; add_job would recompute it
            same = kept is not None and kept.next_run_time is not None \
                and _same_trigger(kept.trigger, trigger)
            self.scheduler.add_job(run_job, trigger, args=(self.key, *args), id=job, name=job,
                                   replace_existing=True,
                                   **({"next_run_time": kept.next_run_time} if same and kept else {}))
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                log.info("removing job %s: no longer in the config", job.id)
                job.remove()
        if self.reload_seconds:
            self.scheduler.add_job(self.check_config, IntervalTrigger(seconds=self.reload_seconds),
                                   id="config-reload", name="config-reload", jobstore="local")
        self.scheduler.resume()
        # every job, the config check included: the count `fundradar serve` prints
        log.info("scheduler started with %d jobs", len(self.scheduler.get_jobs()))

    def stop(self) -> None:
        """Start no new run, wait for running jobs to finish their write, then stop."""
        self.stopping.set()
        from pipeline.notify.socket import stop_interactions  # Slack workbench

        stop_interactions(self.interactions)
        self.interactions = []
        if self.scheduler.running:
            self.scheduler.pause()  # no new run is handed out while the running ones finish
            self.scheduler.shutdown(wait=True)
        _SERVICES.pop(self.key, None)

    # --- hot reload ---------------------------------------------------------------------------

    def check_config(self) -> bool:
        """Apply a changed, valid config (see the module doc); True if one was applied. Never waits
        for a check already running in another thread."""
        if self.stopping.is_set() or not self.watch.lock.acquire(blocking=False):
            return False
        try:
            fresh = self.watch.check()
            if fresh is not None:
                old, self.config = self.unapplied or self.config, fresh
            elif self.unapplied is not None:  # a valid edit whose jobs the database did not take
                old, fresh = self.unapplied, self.config
            else:
                return False
            where = fresh.config_path or fresh.strategy_path
            try:
                changes = self._redeclare_jobs()
            except DATABASE_FAULTS as exc:  # the job store refused: the next check stores them
                self.unapplied = old
                reload_log.warning("config %s changed and is valid, but its jobs could not be stored (%s); "
                                   "tried again at the next check", where, _one_line(exc))
                return False
            self.unapplied = None
            names = rescore_needed(old, fresh)
            reload_log.info("config %s changed and is valid: applied (%s)", where,
                            "; ".join(changes) or "no schedule changed")
            for name in names:
                self._rescore(only=name, why="the config changed")
            return True
        finally:
            self.watch.lock.release()

    def _redeclare_jobs(self) -> list[str]:
        """Bring the scheduled jobs in line with the config in force; what changed, for the log."""
        changes = []
        specs = self.job_specs()
        for job, (schedule, tz, args) in specs.items():
            previous = self.declared.get(job)
            if previous == (schedule, tz, args):
                continue
            trigger = trigger_for(schedule, tz, jitter=self.jitter)
            self.scheduler.add_job(run_job, trigger, args=(self.key, *args), id=job, name=job,
                                   replace_existing=True)
            self.declared[job] = (schedule, tz, args)
            changes.append(f"{'rescheduled' if previous else 'added'} {job}")
        for job in [j for j in self.declared if j not in specs]:
            try:
                self.scheduler.remove_job(job, jobstore="default")
            except JobLookupError:
                pass  # another serve on the same database removed it already
            del self.declared[job]  # after the removal: one the database refused is removed next time
            changes.append(f"removed {job}")
        return changes

    # --- what the jobs do ---------------------------------------------------------------------

    def run(self, kind: str, name: str, strategy: str = "") -> Any:
        if self.stopping.is_set():
            return None
        self.check_config()
        job = job_id(kind, name, strategy)
        if job not in self.declared:
            log.info("job %s is no longer in the config; skipped", job)
            return None
        lock = JobLock(self.engine, job)
        try:
            if not lock.acquire():
                log.info("job %s is already running elsewhere; skipped this time", job)
                return None
        except DATABASE_FAULTS as exc:  # the database is down, or its pool exhausted: the next run retries
            log.warning("job %s could not run: %s", job, _one_line(exc))
            if kind == "digest":  # a digest runs once a period: not the next period's, soon
                self._retry_later(kind, name, strategy, "the database did not answer")
            return None
        try:
            if kind == "source":
                return self.run_source(name)
            if kind in ("digest", "alerts"):  # verdicts the clock changed since, before they are read
                self._rescore(only=strategy or None, why=f"the clock ({kind})")
            if kind == "digest":
                outcomes = self._notify("send_digests", strategy, channel=name)
                if outcomes is None:  # the database (or the config) failed it: logged by _notify
                    self._retry_later(kind, name, strategy, "the digest could not be made")
                elif any(o.passing for o in outcomes):  # Slack down or asking to wait
                    self._retry_later(kind, name, strategy)
                return outcomes
            if kind == "alerts":
                return self._notify("send_alerts", strategy)
            if kind == "calendar":
                return self._calendars(only=strategy)
            raise ValueError(f"unknown job kind {kind!r}")
        finally:
            try:
                lock.release()
            except DATABASE_FAULTS as exc:  # the server dropped it with the connection
                log.info("job %s: its lock went with the database connection (%s)", job, _one_line(exc))

    def _retry_later(self, kind: str, name: str, strategy: str,
                     why: str = "Slack did not take every message") -> None:
        """The job once more in ``retry_seconds``: a digest runs once a period, so one Slack could not
        take at its time would otherwise wait for the next period's to replace it. The digest's own
        period log keeps it to one post, and a retry in the next period finds it superseded."""
        job = job_id(kind, name, strategy)
        when = datetime.now(UTC) + timedelta(seconds=self.retry_seconds)
        self.scheduler.add_job(run_job, DateTrigger(when), args=(self.key, kind, name, strategy),
                               id=f"{job}:retry", name=f"{job}:retry", jobstore="local",
                               replace_existing=True)
        log.info("job %s: %s; trying again at %s", job, why, when.astimezone().strftime("%H:%M:%S"))

    def run_source(self, name: str) -> RunResult | None:
        """One source run of the main job; when it changed something, deadlines are followed and
        calls scored (:func:`pipeline.sync.follow_and_score`)."""
        from pipeline.core.errors import NotFoundError, ValidationError

        try:
            plan = plan_sources(self.engine, self.config, only=name)
        except (NotFoundError, ValidationError) as exc:  # the config changed under the job
            log.warning("source %s skipped: %s", name, exc)
            return None
        try:
            # a stop sends no retry or further request of the run, only waits for the answer in flight
            with self.client_factory(plan.timeout) as client, stopped_by(self.stopping):
                [result] = run_sources(self.engine, plan, now=self.now, client=client)
        except DATABASE_FAULTS as exc:  # the database refused the run's first row:
            # there is nothing to record the failure in, so it is one log line and the service goes on
            log.warning("source %s could not run: %s", name, _one_line(exc))
            return None
        if self.on_result is not None:
            self.on_result(result)
        if changed_anything([result]):
            self._rescore()
            self._calendars()
        return result

    def _calendars(self, only: str | None = None) -> Any:
        return refresh_calendar_files(self.engine, self.config, self.now(), only=only)

    def _rescore(self, only: str | None = None, why: str = "the source run") -> None:
        """Follow the calls' deadlines and score every strategy (or only one); a failure is logged and
        the service goes on (scoring problems must not stop the watcher)."""
        after = follow_and_score(self.engine, self.config, self.now(), only=only, tolerant=True)
        for strategy, error in after.errors.items():
            log.warning("%s after %s failed: %s", f"rescoring {strategy}" if strategy else
                        "following call deadlines", why, error)

    def _notify(self, function: str, strategy: str = "", **kwargs: Any) -> Any:
        from pipeline.notify import jobs

        try:
            config = self.config.only(strategy) if strategy else self.config
            return getattr(jobs, function)(self.engine, config, self.now(), **kwargs)
        except Exception as exc:  # a Slack outage must not stop the scheduler
            log.warning("%s failed: %s", function, exc)
            return None


def _one_line(exc: Exception) -> str:
    """A database failure as one line: the driver's message rather than SQLAlchemy's wrapper."""
    detail = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    return " ".join(str(detail).split())


def job_id(kind: str, name: str, strategy: str = "") -> str:
    """``source:<name>``, ``digest:[<strategy>:]<channel>``, ``alerts[:<strategy>]``."""
    parts = [kind, *(p for p in (strategy, name) if p)]
    return ":".join(parts)


def run_job(service_key: str, kind: str, name: str, strategy: str = "") -> Any:
    """The function every stored job calls (importable by reference)."""
    # a job written by another process (sharing the job store) runs with this process's scheduler;
    # the job lock keeps the two from running it at the same time
    service = _SERVICES.get(service_key) or next(iter(_SERVICES.values()), None)
    if service is None:
        log.warning("job %s belongs to a scheduler that is not running here; skipped",
                    job_id(kind, name, strategy))
        return None
    return service.run(kind, name, strategy)
