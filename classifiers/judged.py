"""The judged benchmark: graded relevance judgments of one strategy's focus areas over one recording.

A judged file (``../shared/eval/judged/*.json``; its README beside it) holds the focus areas as
judged, the recording they were judged on, the moment (``as_of``) and ``grades`` = ``{area:
{reference: grade}}`` with grades 2 (squarely in the area), 1 (partly) and 0 (not, or excluded). A
reference is the SEDIA result ``reference``, fundradar's ``external_id``.

Measures of a ranking, per area (TREC-style, unjudged calls count as grade 0):

* **nDCG@10**: gains ``2^grade - 1``, discount ``1 / log2(position + 1)``, divided by the DCG of the
  ideal ordering of every judged call of the area;
* **P@10 strict** (share of the top 10 graded 2) and **P@10 lenient** (graded 1 or 2);
* **unjudged@10**: top-10 calls without a judgment, reported beside the figures because they are
  counted pessimistically.

A graded reference the recording does not hold is left out of the ideal ordering (no ranker could
rank it) and counted; nDCG@10 of an area with no call graded 1 or 2 is undefined (None, "n/a"),
not 0, and left out of the means.

This module is pure (files, metrics and the baselines' scores); :mod:`pipeline.relevance` runs the
matcher over a database holding the recording, through the same listing as ``calls list --focus``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from pipeline.core.clock import parse_datetime
from pipeline.core.config import FocusArea, NonEmptyStr
from pipeline.core.errors import ConfigError, ValidationError
from pipeline.core.yaml import _line_of, parse_yaml_text, validate_yaml

CUTOFF = 10
JUDGED_METRICS = ("ndcg10", "p10_strict", "p10_lenient", "unjudged10")


GRADES = (0, 1, 2)
REQUIRED = ("focus_areas", "grades", "recording", "as_of")
_FORMAT = "see the README beside ../shared/eval/judged/greentech_2026-08-22.json"


@dataclass(frozen=True)
class Judged:
    """A judged file as read: focus areas, recording, moment and grades."""

    path: Path
    focus_areas: dict[str, FocusArea]
    recording: str  # relative to the samples' parent folder: "samples/eu_ft/search_2026-08-22"
    as_of: datetime
    grades: dict[str, dict[str, int]]
    # the eu_ft programmes the judged strategy reads (label: frameworkProgramme id); None: the example's
    programmes: dict[str, str] | None = None


class _JudgedAreas(BaseModel):
    """The ``focus_areas`` of a judged file, validated as the strategy file's (same schema, same
    messages as ``config check``); the file's other keys are checked by :func:`load_judged`."""

    model_config = ConfigDict(extra="ignore")
    focus_areas: dict[NonEmptyStr, FocusArea]


def load_judged(path: Path) -> Judged:
    """Read and check a judged file; a one-line UserInputError naming the file, the key and the fix.

    The format is JSON (the README's); a file named ``*.yaml`` / ``*.yml`` is read as YAML with the
    same keys, as the strategy file is. ``as_of`` is read as ``--as-of`` is: an ISO date or date-time,
    a value without a time zone taken as Brussels time. A grade is 0, 1 or 2, also written as a string
    ("2") or a whole float (2.0)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(f"cannot read judged file {path}: {exc.strerror}; check the path given with "
                              "--judged") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text; save the judged file as UTF-8 JSON") from None
    as_yaml = path.suffix.lower() in (".yaml", ".yml")
    if as_yaml:
        data = parse_yaml_text(text, str(path))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); give a judged file such "
                                  "as ../shared/eval/judged/greentech_2026-08-22.json (one written in "
                                  "YAML is read as YAML when named .yaml)") from None
    where = _Where(path, text, data, as_yaml)
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: a judged file is an object with {', '.join(REQUIRED)}, got "
                              f"{_kind(data)}; {_FORMAT}")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        # other keys (about, snapshot, an assessor's notes) are not read; a misspelling is named
        others = [str(key) for key in data if key not in REQUIRED]
        close = difflib.get_close_matches(missing[0], others, n=1, cutoff=0.6)
        hint = f" (the file has {close[0]!r}: did you mean {missing[0]!r}?)" if close else ""
        raise ValidationError(f"{path}: key {missing[0]!r} is missing{hint}; a judged file needs "
                              f"{', '.join(REQUIRED)} ({_FORMAT})")
    try:
        areas = dict(_JudgedAreas.model_validate(data).focus_areas)
    except PydanticValidationError:
        validate_yaml(where.tree(), _JudgedAreas, str(path))  # raises the config check's message
        raise
    grades = _read_grades(data["grades"], areas, where)
    recording = data["recording"]
    if not isinstance(recording, str) or not recording.strip():
        raise where.error(("recording",), f"expected the recording folder, e.g. "
                          f"samples/eu_ft/search_2026-08-22, got {recording!r}")
    as_of = data["as_of"]
    if not isinstance(as_of, str | date):  # a YAML date or timestamp is a date (datetime included)
        raise where.error(("as_of",), f"expected a date and time such as 2026-08-22T12:00:00+00:00, "
                          f"got {as_of!r}")
    try:
        moment = parse_datetime(str(as_of), what="date")
    except ValidationError as exc:
        raise where.error(("as_of",), str(exc)) from None
    return Judged(path, areas, recording.strip(), moment, grades, _read_programmes(data, where))


def _read_programmes(data: dict[str, Any], where: _Where) -> dict[str, str] | None:
    """``programmes``, as a strategy's eu_ft source writes them; absent: None (the example's)."""
    programmes = data.get("programmes")
    if programmes is None:
        return None
    if isinstance(programmes, dict) and all(
            str(label).strip() and isinstance(pid, str | int) and not isinstance(pid, bool)
            and str(pid).strip() for label, pid in programmes.items()):
        return {str(label).strip(): str(pid).strip() for label, pid in programmes.items()}
    raise where.error(("programmes",), f"expected the eu_ft programmes the judged strategy reads as "
                      f'label: frameworkProgramme id, e.g. {{"European Defence Fund": "44181033"}}, got '
                      f"{_kind(programmes)}")


@dataclass
class _Where:
    """Where a key of the judged file is: its line, read from a YAML tree of the text (JSON is YAML)
    only when a message needs it, as that parse is slower than the JSON one."""

    path: Path
    text: str
    data: Any
    parsed: bool

    def tree(self) -> Any:
        if not self.parsed:
            self.parsed = True
            try:
                self.data = parse_yaml_text(self.text, str(self.path))
            except ConfigError:
                pass  # no line numbers then; the keys still name the place
        return self.data

    def error(self, loc: tuple[Any, ...], message: str) -> ConfigError:
        key = ".".join(str(part) for part in loc)
        return ConfigError(message, path=str(self.path), line=_line_of(self.tree(), loc), key=key)


def _kind(value: Any) -> str:
    """What a value is, in the file's words (a YAML list is a list, not a CommentedSeq)."""
    for kinds, word in ((list, "a list"), (dict, "a mapping"), (str, "text"), (bool, "true/false"),
                        (int | float, "a number")):
        if isinstance(value, kinds):
            return word
    return "nothing" if value is None else type(value).__name__


def _grade(value: Any) -> int | None:
    """The grade a value stands for (2, "2", 2.0), None for anything else (True, 1.5, 3, "high")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value in GRADES else None


def _read_grades(raw: Any, areas: Mapping[str, FocusArea], where: _Where) -> dict[str, dict[str, int]]:
    if not isinstance(raw, dict):
        raise where.error(("grades",), f"expected {{area: {{reference: grade}}}}, got {_kind(raw)}")
    if not raw:
        raise where.error(("grades",), "no grades: nothing to measure; grade the calls of at least one "
                          "focus area")
    grades: dict[str, dict[str, int]] = {}
    bad: list[tuple[tuple[Any, ...], Any]] = []
    for area, refs in raw.items():
        if area not in areas:
            close = difflib.get_close_matches(str(area), list(areas), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise where.error(("grades", area), f"no focus area {str(area)!r} in focus_areas; {hint}add it "
                              "to focus_areas or remove its grades")
        if not isinstance(refs, dict):
            raise where.error(("grades", area), f"expected {{reference: grade}}, got {_kind(refs)}")
        grades[str(area)] = {}
        for ref, value in refs.items():
            grade = _grade(value)
            if grade is None:
                bad.append(((("grades", area, ref)), value))
            else:
                grades[str(area)][str(ref)] = grade
    if bad:
        (loc, value), more = bad[0], len(bad) - 1
        raise where.error(loc, f"grade {value!r} is not 0, 1 or 2 (2 squarely in the area, 1 partly, 0 "
                          f"not); fix it{f' (and {more} more)' if more else ''}")
    if not any(grades.values()):  # every area written as {}: as empty as no grades at all
        raise where.error(("grades",), "no grades: nothing to measure; grade the calls of at least one "
                          "focus area")
    return grades


def recording_folder(judged: Judged, samples: Path | None = None) -> Path:
    """The folder of the judged recording: absolute, or relative to the samples root (``samples``,
    e.g. from FUNDRADAR_SAMPLES; a leading ``samples/`` is the root itself), else found beside the
    judged file or one of its parent folders (``shared/eval/judged/x.json`` and
    ``shared/samples/...``). It must be one SEDIA search recording (a folder of ``page_NNN.json``):
    the grades are of SEDIA references."""
    relative = Path(judged.recording)
    candidates: list[Path] = []
    if relative.is_absolute():
        candidates.append(relative)
    else:
        if samples is not None:
            inner = Path(*relative.parts[1:]) if relative.parts and relative.parts[0] == "samples" \
                else relative
            candidates.append(Path(samples) / inner)
        candidates += [parent / relative for parent in judged.path.resolve().parents]
    found = next((c for c in candidates if c.exists()), None)
    where = f"{judged.path}: recording: {judged.recording}"
    if found is None:
        looked = f" under {samples}" if samples is not None and not relative.is_absolute() else ""
        raise ValidationError(f"{where} not found{looked}; set FUNDRADAR_SAMPLES to the samples folder "
                              "or correct the recording key")
    if not found.is_dir() or not any(found.glob("page_*.json")):
        what = "a file" if not found.is_dir() else "a folder without SEDIA search pages (page_NNN.json)"
        raise ValidationError(f"{where} is {what}; the grades are of SEDIA references: name one SEDIA "
                              "search recording, e.g. samples/eu_ft/search_2026-08-22")
    return found


# --- metrics -------------------------------------------------------------------------------------

def _dcg(grades: Sequence[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:CUTOFF]))


def judged_metrics(ranked: Sequence[str], grades: Mapping[str, int],
                   among: set[str] | None = None) -> dict[str, float | None]:
    """nDCG@10, P@10 strict and lenient, and unjudged@10 of a ranking of references.

    ``among`` limits the ideal ordering to those references (the recording's, and after marks the
    remaining calls); by default every judged call of the area counts. nDCG@10 is None (undefined,
    not 0) when no call of the ideal ordering is graded 1 or 2."""
    top = list(ranked[:CUTOFF])
    gains = [grades.get(ref, 0) for ref in top]
    pool = [g for ref, g in grades.items() if among is None or ref in among]
    ideal = _dcg(sorted(pool, reverse=True))
    return {"ndcg10": _dcg(gains) / ideal if ideal else None,
            "p10_strict": sum(1 for g in gains if g >= 2) / CUTOFF,
            "p10_lenient": sum(1 for g in gains if g >= 1) / CUTOFF,
            "unjudged10": float(sum(1 for ref in top if ref not in grades))}


def mean_metrics(per_area: Mapping[str, Mapping[str, float | None]]) -> dict[str, float | None]:
    """The mean of each measure over the areas where it is defined (None where it is in none)."""
    means: dict[str, float | None] = {}
    for m in JUDGED_METRICS:
        values = [value for v in per_area.values() if (value := v.get(m)) is not None]
        means[m] = round(sum(values) / len(values), 4) if values else None
    return means


def undefined_ndcg(per_area: Mapping[str, Mapping[str, float | None]]) -> list[str]:
    """The areas whose nDCG@10 is undefined (no call of theirs graded 1 or 2 can be ranked)."""
    return [area for area, figures in per_area.items() if figures.get("ndcg10") is None]


# --- baselines -----------------------------------------------------------------------------------

def area_terms(area: FocusArea) -> list[str]:
    """What a focus area asks for in plain words: its keywords and their translations."""
    terms = list(area.keywords)
    for targets in area.synonyms.values():
        terms += [t for t in targets if t not in terms]
    return terms


def title_keyword_ranking(items: Sequence[tuple[str, str, str]], terms: Sequence[str]) -> list[str]:
    """References ``(reference, title, text)`` by the number of terms their title contains (what the
    portal's own search does); calls without a hit are left out; ties keep the given order."""
    lowered = [t.casefold() for t in terms]
    hits = [(sum(t in title.casefold() for t in lowered), i) for i, (_, title, _) in enumerate(items)]
    return [items[i][0] for n, i in sorted(hits, key=lambda h: (-h[0], h[1])) if n > 0]


def plain_tfidf_ranking(items: Sequence[tuple[str, str, str]], terms: Sequence[str]) -> list[str]:
    """scikit-learn's ``TfidfVectorizer`` with its defaults on title + text, the terms joined as the
    query, by cosine; calls with cosine 0 are left out."""
    return plain_tfidf_ranker(items)(terms)


def plain_tfidf_ranker(items: Sequence[tuple[str, str, str]]) -> Callable[[Sequence[str]], list[str]]:
    """:func:`plain_tfidf_ranking` over ``items`` for any terms, the vectoriser fitted once."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer()
    matrix = vectoriser.fit_transform([f"{title} {text}" for _, title, text in items])

    def rank(terms: Sequence[str]) -> list[str]:
        scores = np.asarray((matrix @ vectoriser.transform([" ".join(terms)]).T).todense()).ravel()
        order = np.argsort(-scores, kind="stable")
        return [items[i][0] for i in order.tolist() if scores[i] > 0]

    return rank


@dataclass
class JudgedReport:
    """Per ranker and area the judged measures, their means, and the feedback simulation; what of the
    grades could be measured (``coverage``) and the file's areas without grades (``not_graded``)."""

    file: str
    calls: int  # active calls of the recording at ``as_of``
    rankers: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # ranker→area→metric
    top: dict[str, list[str]] = field(default_factory=dict)  # the matcher's top 10 per area
    feedback: dict[str, Any] | None = None
    # area → graded, not_in_recording (no result of the recording has the reference: left out of the
    # ideal ordering), not_listed (recorded, but not listed by fundradar at as_of: another programme,
    # closed; kept in the ideal ordering, a loss for every ranker)
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    not_graded: list[str] = field(default_factory=list)
    # config check's warnings of the file's focus areas, and an as_of off the recording's day
    warnings: list[str] = field(default_factory=list)
    # programmes of graded calls that the replay's eu_ft source does not read: label → id and graded calls
    unread_programmes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def means(self) -> dict[str, dict[str, float | None]]:
        return {ranker: mean_metrics(per_area) for ranker, per_area in self.rankers.items()}

    def as_dict(self) -> dict[str, Any]:
        """Every key always present: ``feedback`` is null without the simulation, a measure is null
        where it is undefined (nDCG@10 of an area with no call graded 1 or 2 to rank)."""
        return {"file": self.file, "calls": self.calls, "means": self.means, "per_area": self.rankers,
                "top": self.top, "feedback": self.feedback, "coverage": self.coverage,
                "not_graded": self.not_graded, "warnings": self.warnings,
                "ndcg_undefined": undefined_ndcg(self.rankers.get("matcher", {})),
                "unread_programmes": self.unread_programmes}


def coverage_notes(report: JudgedReport) -> list[str]:
    """One line for each kind of thing in the file that was not measured as written, saying why."""
    notes = [f"Note: focus area {area} has no grades; not measured" for area in report.not_graded]
    for key, what in (("not_in_recording", "graded references are not in the recording; left out of the "
                       "ideal ordering (check that the recording is the one the file was judged on)"),
                      ("not_listed", "graded calls are in the recording but not listed at as_of (another "
                       "programme, or closed); they count against every ranker")):
        counts = {area: c[key] for area, c in report.coverage.items() if c[key]}
        if counts:
            graded = sum(c["graded"] for c in report.coverage.values())
            each = ", ".join(f"{area} {n}" for area, n in counts.items())
            notes.append(f"Note: {sum(counts.values())} of {graded} {what}: {each}")
    if report.unread_programmes:
        unread = report.unread_programmes
        each = ", ".join(f"{label} {u['graded']}" for label, u in unread.items())
        example = ", ".join(f'"{label}": "{u["id"]}"' for label, u in unread.items())
        notes.append(f"Note: {sum(u['graded'] for u in unread.values())} graded calls are of programmes the "
                     f"replay does not read ({each}): without programmes: in the file it reads the example "
                     "strategy's; to measure them, list every programme the strategy reads there, e.g. "
                     f"\"programmes\": {{\"Horizon Europe\": \"43108390\", {example}}}")
    for area in undefined_ndcg(report.rankers.get("matcher", {})):
        notes.append(f"Note: {area}: no recorded call is graded 1 or 2, so nDCG@10 is undefined (n/a) and "
                     "left out of the means")
    return notes


def report_lines(report: JudgedReport) -> list[str]:
    """The judged report as text: the means of every ranker, the matcher per area, the feedback, then
    a note for each thing not measured as written."""
    width = max([26, *(len(area) + 2 for area in report.top)])
    head = f"{'':<{width}}{'nDCG@10':>9}{'P@10 2':>8}{'P@10 1+':>9}{'unjudged':>10}"

    def line(label: str, m: Mapping[str, float | None]) -> str:
        def cell(key: str, size: int, digits: int) -> str:
            value = m[key]
            return f"{'n/a':>{size}}" if value is None else f"{value:>{size}.{digits}f}"
        return (f"{label:<{width}}{cell('ndcg10', 9, 3)}{cell('p10_strict', 8, 2)}{cell('p10_lenient', 9, 2)}"
                f"{cell('unjudged10', 10, 1)}")

    areas = f"{len(report.top)} focus area{'' if len(report.top) == 1 else 's'}"
    lines = [f"Judged: {report.file}, {report.calls} active calls, {areas}", head]
    lines += [line(ranker, means) for ranker, means in report.means.items()]
    lines += ["", head.replace(" " * width, f"{'matcher per area':<{width}}", 1)]
    lines += [line(area, figures) for area, figures in report.rankers.get("matcher", {}).items()]
    if report.feedback:
        lines += ["", f"Feedback: top {report.feedback['marked_per_area']} of each area marked from the "
                  "grades; remaining calls ranked", head]
        lines += [line(f"{key} marks", report.feedback["means"][key]) for key in ("without", "with")]
    notes = coverage_notes(report)
    return lines + (["", *notes] if notes else [])
