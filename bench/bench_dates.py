"""How long finding the dates of a long page takes: fundradar's windowed search beside dateparser's
search over the whole text (what :func:`watcher.dates.find_dates` did before), in the same run.

    .venv/bin/python bench/bench_dates.py [--repeat 3]

Three texts, each the best of ``--repeat`` runs: 120 kB of prose with month-like words and years but no
date (a long funder page, or a hostile feed item); a 22 kB call list with 400 dates; a 5 kB call text
with two dates, one in German. The windows must find every date the whole-text search finds (the
script checks it); they find more where one text mixes languages, as each window's language is
detected on its own.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher import dates  # noqa: E402

TEXTS = {
    "120 kB prose, no date": "Lorem ipsum dolor sit amet, mar consectetur 2025 adipiscing. " * 2000,
    "22 kB list, 400 dates": " ".join(f"Call {i} opens 1 March 2026 and closes 15. April 2026 at 14:00. "
                                      "More text about the programme and its aims here." for i in range(200)),
    "5 kB call, 2 dates": ("The call supports cooperation between regions. " * 50
                           + "Deadline: 15. März 2026, 17:00. "
                           + "Applicants from Denmark are eligible. " * 50 + "Opens 10.11.2025."),
}


def whole_text(text: str) -> list[tuple[str, object]]:
    """dateparser's search over the whole text, as find_dates ran it before the windows."""
    from dateparser.search import search_dates

    text = dates._ORDINAL_DAY.sub(r"\1 ", text)
    found = search_dates(text, languages=list(dates.LANGUAGES), settings=dates._settings()) or []
    return [(m, v) for m, v in found if re.search(r"\d{4}", m)]  # a year written out, as find_dates asks


def best(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dates.find_dates("warm-up: 1 May 2026")  # dateparser loads its language data once
    print(f"{'text':<24} {'whole text (baseline)':>22} {'windows':>10} {'ratio':>8}  dates (whole / windows)")
    for label, text in TEXTS.items():
        baseline, old = best(args.repeat, lambda text=text: whole_text(text))
        windowed, new = best(args.repeat, lambda text=text: dates.find_dates(text))
        days = {d.at.astimezone(dates.BRUSSELS).date() for d in new}
        assert {value.date() for _, value in old} <= days, label
        print(f"{label:<24} {baseline:>20.3f} s {windowed:>8.3f} s {windowed / baseline:>7.3f}x  "
              f"{len(old)} / {len(new)}")


if __name__ == "__main__":
    main()
