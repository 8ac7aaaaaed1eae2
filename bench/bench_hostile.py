"""What a hostile input costs beside a normal one of the same kind, as alternating pairs in one run.

    .venv/bin/python bench/bench_hostile.py [--pairs 5]

Each row times one parsing step on a hostile input and, as its floor, the same step on a normal input
(both named in the row), and reports the median ratio and its pair range (``bench/pairs.py``):

* the feed's repair of bare "&" and "<" (``escape_bare_markup``) over 5 MB of tags against 5 MB of
  the recorded Interreg feed (tests/fixtures/feed) repeated;
* the dates of a call (``call_dates``) in a 2 MB call text with a date every 5 kB against the 5 kB
  call text it repeats;
* an HTML description of 30,000 nested, never closed ``<span>`` lines (read as plain text, the tree
  too deep to walk) against the same lines with each span closed (walked as a tree).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pairs import alternating  # noqa: E402

from watcher.dates import call_dates  # noqa: E402
from watcher.html_text import html_to_text  # noqa: E402
from watcher.sources.feed import escape_bare_markup  # noqa: E402

FEED = (ROOT / "tests" / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_text(encoding="utf-8")
MB = 1_000_000


def _sized(unit: str, size: int) -> str:
    return unit * (size // len(unit) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    tags = _sized("<p><b>x</b><br/></p>", 5 * MB)
    normal_feed = _sized(FEED, 5 * MB)
    call = ("The call supports cooperation between regions. " * 50 + "Deadline: 15. März 2027, 17:00. "
            + "Applicants from Denmark are eligible. " * 50 + "Opens 10.11.2026. ")
    long_call = _sized(call, 2 * MB)
    call_dates("warm-up: 1 May 2026")  # dateparser loads its language data once
    line = '<span lang="EN-GB">Eligible costs include staff and travel.<br>'
    unclosed = f"<p>{line * 30_000}</p>"
    closed = f"<p>{line.replace('<br>', '</span><br>') * 30_000}</p>"

    rows = [
        ("escape_bare_markup, 5 MB of tags", "the same, 5 MB of the recorded feed",
         lambda: escape_bare_markup(tags), lambda: escape_bare_markup(normal_feed)),
        (f"call_dates, {len(long_call) / MB:.1f} MB call text",
         f"the same, its {len(call) / 1000:.1f} kB call",
         lambda: call_dates(long_call), lambda: call_dates(call)),
        ("html_to_text, 30,000 nested unclosed spans", "the same lines closed",
         lambda: html_to_text(unclosed), lambda: html_to_text(closed)),
    ]
    print("| what | median | floor in the same run | ratio [pair range] |")
    print("|---|---|---|---|")
    for label, floor_label, measure, floor in rows:
        print(alternating(measure, floor, args.pairs).row(label, floor_label), flush=True)


if __name__ == "__main__":
    main()
