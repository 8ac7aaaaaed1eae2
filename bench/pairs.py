"""Alternating pairs and medians: how the benches compare a figure with its floor on a shared machine.

A measurement and its floor are taken one right after the other, ``pairs`` times, alternating which goes
first; each figure is the median of its runs, the ratio the median of the pairs' ratios, and the range
the lowest and highest pair ratio. Load that comes and goes then hits both sides of a pair alike.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Paired:
    seconds: float  # median of the measured runs
    floor: float  # median of the floor's runs
    ratio: float  # median of the pairs' ratios
    low: float  # lowest pair ratio
    high: float  # highest pair ratio

    def row(self, label: str, floor_label: str) -> str:
        return (f"| {label} | {self.seconds:.3f} s | {floor_label}: {self.floor * 1000:.1f} ms | "
                f"{self.ratio:.1f}× [{self.low:.1f}–{self.high:.1f}] |")


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def alternating(measure: Callable[[], object], floor: Callable[[], object], pairs: int = 7, *,
                setup: Callable[[], object] | None = None) -> Paired:
    """Run ``measure`` and ``floor`` ``pairs`` times each, alternating the order; medians and ratios.
    ``setup`` runs untimed before each ``measure`` (a fresh copy of a database to score)."""
    def ours_once() -> float:
        if setup is not None:
            setup()
        return timed(measure)

    return alternating_timed(ours_once, floor, pairs)


def alternating_timed(measure: Callable[[], float], floor: Callable[[], object], pairs: int = 7) -> Paired:
    """:func:`alternating` where ``measure`` returns the seconds of the part to compare (its set-up, such
    as a new database, left out)."""
    ours, base = [], []
    for number in range(pairs):
        if number % 2:
            base.append(timed(floor))
            ours.append(measure())
        else:
            ours.append(measure())
            base.append(timed(floor))
    ratios = [a / b for a, b in zip(ours, base, strict=True)]
    return Paired(statistics.median(ours), statistics.median(base), statistics.median(ratios), min(ratios),
                  max(ratios))


def process(command: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None
            ) -> Callable[[], object]:
    """A run of ``command`` as a child process, its output discarded; fails loudly on a non-zero exit."""
    def run() -> None:
        proc = subprocess.run(list(command), env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed (exit {proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace').strip()[-500:]}")
    return run
