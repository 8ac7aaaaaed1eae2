"""The judged benchmark run through fundradar itself (library; ``fundradar eval --judged FILE``).

The database given holds the judged file's recording (synced by the caller at the file's ``as_of``).
The file's focus areas become the focus areas of the example strategy, which is scored as every
strategy is (:func:`classifiers.scoring.score_pending`: the stored corpus model, keywords, synonyms,
description, exclude, marks), and each area's ranking is read with :func:`pipeline.calls.list_calls`,
the listing behind ``calls list --focus`` — so the figures are those of what a fundraiser sees.

The two baselines of the label benchmark rank the same calls (active at ``as_of``) from their stored
title and text, with each area's keywords and their translations as the query.

**Feedback.** A fundraiser marks the matcher's top ``feedback`` calls of each area from the judged
grades: grade 2 relevant, grade 0 irrelevant, an unjudged call irrelevant (it counts as 0 in the
measures too), grade 1 left unmarked (partly relevant is neither). The strategy is rescored with the
marks and the remaining calls (the marked ones left out, also from the ideal ordering) are measured
without and with the marks.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.feedback import record_mark
from classifiers.judged import (
    CUTOFF,
    Judged,
    JudgedReport,
    area_terms,
    judged_metrics,
    load_judged,
    mean_metrics,
    plain_tfidf_ranker,
    recording_folder,
    title_keyword_ranking,
)
from classifiers.scoring import score_pending
from pipeline.calls import CallFilter, list_calls
from pipeline.core.clock import BRUSSELS, as_utc
from pipeline.core.config import DEFAULT_STRATEGY, LoadedConfig, load_funding_rules, load_strategy
from pipeline.core.db import session_scope
from pipeline.core.errors import ValidationError
from pipeline.core.models import Call


def judged_config(judged: Judged) -> LoadedConfig:
    """The example strategy with the judged file's focus areas and, when the file names them, the eu_ft
    programmes its strategy reads (nothing else of it affects a ranking)."""
    strategy = load_strategy(DEFAULT_STRATEGY)
    update: dict[str, Any] = {"focus_areas": dict(judged.focus_areas)}
    if judged.programmes is not None:
        eu_ft = strategy.sources["eu_ft"].model_copy(update={"programmes": dict(judged.programmes)})
        update["sources"] = {**strategy.sources, "eu_ft": eu_ft}
    strategy = strategy.model_copy(update=update)
    return LoadedConfig(strategy, load_funding_rules(), DEFAULT_STRATEGY)


def unread_programmes(judged: Judged, config: LoadedConfig, folder: Path) -> dict[str, dict[str, Any]]:
    """The programmes of the recording's graded calls that the replay's eu_ft source does not read
    (label → id and how many graded calls): a defence cluster's European Defence Fund calls, which the
    example strategy does not watch, could be ranked by no one."""
    from pipeline.sync import recorded_programmes

    read = set(config.strategy.sources["eu_ft"].programmes.values())
    if not read:  # one query over every programme
        return {}
    names, by_reference = recorded_programmes(folder)
    found: dict[str, dict[str, Any]] = {}
    for grades in judged.grades.values():
        for reference in grades:
            for pid in sorted(by_reference.get(reference, set()) - read):
                entry = found.setdefault(names.get(pid, pid), {"id": pid, "graded": 0})
                entry["graded"] += 1
    return dict(sorted(found.items(), key=lambda item: -item[1]["graded"]))


def focus_ranking(engine: Engine, strategy: str, area: str, now: datetime, top: int) -> list[dict[str, Any]]:
    """The first ``top`` rows of ``calls list --focus AREA --top N`` (active calls, best score first)."""
    with Session(engine) as session:
        return list_calls(session, CallFilter(focus_area=area, strategy=strategy, limit=top), now)


def run_judged(engine: Engine, judged: Judged, *, feedback: int = CUTOFF,
               recorded: set[str] | None = None) -> JudgedReport:
    """The matcher and both baselines on the judged file; with ``feedback`` > 0 the marks simulation.

    ``recorded`` holds the references of the recording (default: the stored calls'). A graded reference
    not among them cannot be ranked by anyone and is left out of the ideal ordering; a recorded call
    fundradar does not list at ``as_of`` (another programme, closed) stays in it, a loss for every
    ranker. Both are counted in the report's ``coverage``."""
    now = as_utc(judged.as_of)
    config = judged_config(judged)
    name = config.strategy.name
    score_pending(engine, config, now)
    with Session(engine) as session:
        active = {row["id"] for row in list_calls(session, CallFilter(), now)}
        stored = session.exec(select(Call.id, Call.external_id, Call.title, Call.text)
                              .order_by(Call.id)).all()
    if recorded is None:
        recorded = {ref for _, ref, _, _ in stored}
    items = [(ref, title or "", text or "") for cid, ref, title, text in stored if cid in active]
    if not items:
        raise ValidationError(f"{judged.path}: as_of: no call of the recording is open or forthcoming at "
                              f"{now:%Y-%m-%d %H:%M} UTC; give the moment the file was judged on, e.g. the "
                              "recording's day")
    report = JudgedReport(str(judged.path), len(items))
    listed = {ref for ref, _, _ in items}
    # an area written with no grades ("industrivand: {}") is not graded either, not one that ranked nothing
    areas = [a for a in judged.focus_areas if judged.grades.get(a)]
    report.not_graded = [a for a in judged.focus_areas if not judged.grades.get(a)]
    first: dict[str, list[dict[str, Any]]] = {}
    plain_tfidf = plain_tfidf_ranker(items)
    for area in areas:
        grades = judged.grades[area]
        report.coverage[area] = {
            "graded": len(grades), "not_in_recording": sum(1 for ref in grades if ref not in recorded),
            "not_listed": sum(1 for ref in grades if ref in recorded and ref not in listed)}
        first[area] = focus_ranking(engine, name, area, now, 2 * max(CUTOFF, feedback))
        ranked = [row["external_id"] for row in first[area]]
        report.top[area] = ranked[:CUTOFF]
        terms = area_terms(judged.focus_areas[area])
        for ranker, order in (("matcher", ranked), ("title_keywords", title_keyword_ranking(items, terms)),
                              ("plain_tfidf", plain_tfidf(terms))):
            report.rankers.setdefault(ranker, {})[area] = judged_metrics(order, grades, recorded)
    if feedback:
        report.feedback = simulate_feedback(engine, judged, config, first, feedback, recorded)
    return report


def simulate_feedback(engine: Engine, judged: Judged, config: LoadedConfig,
                      first: dict[str, list[dict[str, Any]]], count: int,
                      recorded: set[str] | None = None) -> dict[str, Any]:
    """Mark the top ``count`` of each area from the grades, rescore, measure the remaining calls
    (the ideal ordering of those in ``recorded``, the recording's references, when given)."""
    now = as_utc(judged.as_of)
    name = config.strategy.name
    marked: dict[str, set[str]] = {}
    with session_scope(engine) as session:
        for area, rows in first.items():
            grades = judged.grades[area]
            marked[area] = set()
            for row in rows[:count]:
                grade = grades.get(row["external_id"], 0)
                marked[area].add(row["external_id"])
                if grade != 1:
                    record_mark(session, row["id"], name, "relevant" if grade >= 2 else "irrelevant", area,
                                now, "judged")
    score_pending(engine, config, now)
    rows: dict[str, dict[str, dict[str, float | None]]] = {"without": {}, "with": {}}
    for area, ranking in first.items():
        grades, done = judged.grades[area], marked[area]
        rest = {ref for ref in grades if ref not in done and (recorded is None or ref in recorded)}
        before = [r["external_id"] for r in ranking if r["external_id"] not in done]
        after = [r["external_id"] for r in focus_ranking(engine, name, area, now, CUTOFF + count)
                 if r["external_id"] not in done]
        rows["without"][area] = judged_metrics(before, grades, rest)
        rows["with"][area] = judged_metrics(after, grades, rest)
    return {"marked_per_area": count, "means": {k: mean_metrics(v) for k, v in rows.items()},
            "per_area": rows}


def focus_area_warnings(engine: Engine, judged: Judged) -> list[str]:
    """What ``config check`` warns of the judged file's focus areas (synonyms that are no keyword,
    keywords and exclude terms in no call of the recording), as ``file:line: key: message``."""
    from pipeline.config_check import check_focus_areas, stored_calls
    from pipeline.core.errors import ConfigError
    from pipeline.core.yaml import parse_yaml_text

    with Session(engine) as session:
        calls = stored_calls(session.exec(select(Call.source, Call.programme, Call.title, Call.text)).all())
    if not check_focus_areas(judged.focus_areas, str(judged.path), {}, calls):
        return []
    try:  # the lines, only when there is something to say (the parse costs more than the JSON one)
        tree = parse_yaml_text(judged.path.read_text(encoding="utf-8-sig"), str(judged.path))
    except (ConfigError, OSError):
        tree = {}
    return [str(problem) for problem in check_focus_areas(judged.focus_areas, str(judged.path), tree, calls)]


def day_warnings(judged: Judged, folder: Path) -> list[str]:
    """A warning when ``as_of`` is not on the day the recording was made (its folder's date, Brussels
    time): the calls open at ``as_of`` are measured, which for another day is seldom what was judged."""
    from pipeline.sync import recording_day

    day, moment = recording_day(folder), judged.as_of.astimezone(BRUSSELS)
    if day is None or moment.date() == day:
        return []
    return [f"Warning: {judged.path}: as_of: {moment:%Y-%m-%d %H:%M} Brussels time is not on the "
            f"recording's day ({day}, {folder.name}); the calls open at as_of are measured"]


class _SourceFailed(logging.Filter):
    """Drops the runner's "source X failed" warning: the replay's failure is raised as an error that
    names the judged file, and the same text twice would read as two problems."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "source %s failed: %s"


@contextmanager
def _failure_told_once() -> Iterator[None]:
    runner = logging.getLogger("watcher.runner")
    quiet = _SourceFailed()
    runner.addFilter(quiet)
    try:
        yield
    finally:
        runner.removeFilter(quiet)


def judged_file_report(path: Path, *, feedback: int = CUTOFF, samples: Path | None = None) -> JudgedReport:
    """The judged file's recording replayed into a scratch SQLite database by the main job's source run
    (as of the file's ``as_of``), then :func:`run_judged` on it."""
    from pipeline.core.db import open_database
    from pipeline.core.errors import RuntimeFailure
    from pipeline.sync import plan_sources, recorded_references, run_sources

    judged = load_judged(path)
    folder = recording_folder(judged, samples)
    config = judged_config(judged)
    with tempfile.TemporaryDirectory(prefix="fundradar-judged-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'judged.db'}")
        try:
            plan = plan_sources(engine, config, only="eu_ft", replay=folder)
            with _failure_told_once():
                [result] = run_sources(engine, plan, as_of=judged.as_of)
            if result.outcome != "ok":
                raise RuntimeFailure(f"{judged.path}: recording: replaying {folder} failed "
                                     f"({result.error}); give a complete SEDIA search recording")
            recorded = recorded_references(folder)
            warnings = [*day_warnings(judged, folder), *focus_area_warnings(engine, judged)]
            report = run_judged(engine, judged, feedback=feedback, recorded=recorded)
            report.warnings = warnings
            report.unread_programmes = unread_programmes(judged, config, folder)
            return report
        finally:
            engine.dispose()
