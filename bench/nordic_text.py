"""How Danish (and other Nordic) call texts score for the example strategy's focus areas.

    .venv/bin/python bench/nordic_text.py FOLDER

FOLDER holds one call per ``*.txt`` file: its title on the first line, its text after. The texts are
the funders' public pages (README, "Danish and Nordic text"); they are not kept in the repository.
Every call is scored against every focus area of config/strategy.example.yaml in one corpus (the
texts of the folder, and the Danish call of tests/fixtures/html_list), and the best area and score of
each is printed as a Markdown table row. Run it before and after a change of classifiers/text.py or
classifiers/query.py to fill the README's table.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.matcher import focus_area_query, prepare, rank  # noqa: E402
from pipeline.core.config import load_strategy  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "html_list" / "innovationsfonden_grand_solutions.html"


def _fixture_call() -> tuple[str, str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(FIXTURE.read_text(encoding="utf-8"), "lxml")
    content = soup.select_one(".node__content")
    text = " ".join(content.get_text(" ").split()) if content is not None else ""
    return "fixture: grand_solutions_2027", "Grand Solutions 2027: Grøn forskning", text


def main(folder: Path) -> None:
    strategy = load_strategy(ROOT / "config" / "strategy.example.yaml")
    calls = [_fixture_call()]
    for path in sorted(folder.glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        calls.append((path.stem, title.strip(), re.sub(r"\s+", " ", text).strip()))
    documents = [prepare(n, title, text) for n, (_, title, text) in enumerate(calls)]
    best: dict[int, tuple[float, str]] = {}
    for name, area in strategy.focus_areas.items():
        for match in rank(focus_area_query(name, area), documents):
            if match.score > best.get(match.call_id, (-1.0, ""))[0]:
                best[match.call_id] = (match.score, name)
    print("| call | best area | score |")
    print("|---|---|---|")
    for n, (name, _, _) in enumerate(calls):
        score, area = best.get(n, (0.0, "-"))
        print(f"| {name} | {area if score > 0 else '-'} | {score:.3f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
