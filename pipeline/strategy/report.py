"""The strategy report for the board: per focus area, what the market offers and what we pursue.

For each focus area: the open (or forthcoming) calls whose stored score reaches ``min_score``, their
total budget and expected value (success rate × funding rate × maximum contribution, from the
Verdict rows), and our applications in the pipeline whose idea belongs to the area.

The total budget only adds calls the strategy rules did not turn down, and a budget shared by the
topics of one call (the portal gives each topic of CEF-E-2026-PCI-PMI the call's €600M, each topic of
a joint undertaking's call its whole total) is counted once per call identifier: adding it per topic
would multiply money that exists once. The expected value comes from programme-wide success rates, an
average, not a forecast of this call; it is rounded to thousands of euros. A call whose expected value
is unknown (a programme without success or funding rates in ``funding_rules.yaml``, a call without a
maximum contribution) adds nothing to it and is counted in ``unknown_expected_value``, so an area of
such calls reads "unknown", not a worthless €0. A PNG chart shows
the matching calls by deadline month and focus area (matplotlib, drawn off-screen).

With ``scope`` (a config folder's selected strategy) only that strategy's applications (through their
ideas) and the shared ones are counted.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from pipeline.core.clock import BRUSSELS
from pipeline.core.config import Strategy
from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.files import write_atomically
from pipeline.core.models import Application, Call, Idea, Score, Verdict
from pipeline.tenancy import visible

FINAL_STATUSES = ("granted", "rejected", "withdrawn")
DEFAULT_MIN_SCORE = 0.3  # "matching": the digest's default min_score (pipeline.core.config.DigestChannel)


@dataclass
class AreaReport:
    focus_area: str
    label: str
    matching_calls: int = 0
    total_budget: float = 0.0
    expected_value: float = 0.0
    unknown_expected_value: int = 0  # calls counted but not turned down whose expected value is unknown
    applications_in_pipeline: int = 0
    by_month: dict[str, int] = field(default_factory=dict)


def build_report(session: Session, strategy: Strategy, now: datetime,
                 min_score: float = DEFAULT_MIN_SCORE, *, scope: str | None = None) -> list[AreaReport]:
    reports = {key: AreaReport(key, area.label) for key, area in strategy.focus_areas.items()}
    months: dict[str, Counter[str]] = defaultdict(Counter)
    counted: set[tuple[str, str, float]] = set()  # (focus area, call identifier, budget) already added
    verdicts = {v.call_id: v for v in session.exec(select(Verdict).where(Verdict.strategy == strategy.name))}
    rows = session.exec(select(Score, Call).join(Call, Call.id == Score.call_id).where(
        Score.strategy == strategy.name, Score.score >= min_score, Call.status.in_(ACTIVE)))
    for score, call in rows:
        report = reports.get(score.focus_area)
        if report is None or effective_status(call, now) not in ACTIVE:
            continue
        report.matching_calls += 1
        verdict = verdicts.get(call.id)
        budget_key = (score.focus_area, call.call_id or f"#{call.id}", call.budget)
        if call.budget and (verdict is None or verdict.passed) and budget_key not in counted:
            counted.add(budget_key)
            report.total_budget += call.budget
        if verdict is not None and verdict.passed:
            if verdict.expected_value is None:
                report.unknown_expected_value += 1
            else:
                report.expected_value += verdict.expected_value
        upcoming = next_deadline(call, now)
        if upcoming is not None:
            months[score.focus_area][upcoming.astimezone(BRUSSELS).strftime("%Y-%m")] += 1
    in_pipeline = visible(select(Idea).join(Application, Idea.id == Application.idea_id)
                          .where(Application.status.not_in(FINAL_STATUSES)), scope)
    for idea in session.exec(in_pipeline):  # one row per application
        for area in idea.focus_areas or []:
            if area in reports:
                reports[area].applications_in_pipeline += 1
    for key, counter in months.items():
        reports[key].by_month = dict(sorted(counter.items()))
    for report in reports.values():  # programme averages: thousands of euros is all the precision there is
        report.expected_value = round(report.expected_value, -3)
    return list(reports.values())


def report_dicts(reports: list[AreaReport]) -> list[dict[str, Any]]:
    return [asdict(r) for r in reports]


def write_chart(reports: list[AreaReport], path: Path, title: str) -> Path:
    """A stacked bar chart of matching calls per deadline month, one colour per focus area."""
    import matplotlib.pyplot as plt

    figure = draw_chart(reports, title)
    image = io.BytesIO()
    figure.savefig(image, format="png")
    plt.close(figure)
    write_atomically(path, image.getvalue())  # a reader never sees half a chart
    return path


def draw_chart(reports: list[AreaReport], title: str) -> Any:
    """The chart of :func:`write_chart` as a matplotlib figure (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    months = sorted({month for r in reports for month in r.by_month})
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * len(months) + 3), 4.5), dpi=120)
    bottoms = [0] * len(months)
    for report in reports:
        values = [report.by_month.get(month, 0) for month in months]
        axes.bar(months, values, bottom=bottoms, label=report.label)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title(title)
    axes.set_xlabel("Deadline month (Brussels time)")
    axes.set_ylabel("Matching calls")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of calls: no 2.5 on the axis
    axes.tick_params(axis="x", labelrotation=45)
    if not months:
        axes.text(0.5, 0.5, "No matching calls", ha="center", va="center", transform=axes.transAxes)
    axes.legend(fontsize="small", loc="upper right")
    figure.tight_layout()
    return figure
