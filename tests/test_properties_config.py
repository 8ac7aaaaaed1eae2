"""Hostile input for the files people edit (hypothesis): the strategy config and the funding rules
(YAML, read from a real file), and the partner CSV import (into a real SQLite file). For arbitrary
text and bytes, and for structured mutations of the real example files, the result is a valid model
or rows, or a ConfigError / ValidationError of one line naming the file; never another exception.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.core.config import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    FundingRulesFile,
    Strategy,
    load_funding_rules,
    load_strategy,
    parse_yaml_text,
    validate_yaml,
)
from pipeline.core.db import open_database
from pipeline.core.errors import ConfigError, ValidationError
from pipeline.partners import PartnerInput, import_partners, read_partner_csv
from tests.conftest import FIXTURES
from tests.hostile import (
    EXAMPLES,
    GARBAGE,
    HUGE,
    INVALID_UTF8,
    TEXT,
    mutated_bytes,
    mutated_json,
    own_errors_only,
)

SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NOW = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)
STRATEGY_TEXT = DEFAULT_STRATEGY.read_bytes()
RULES_TEXT = DEFAULT_FUNDING_RULES.read_bytes()
STRATEGY_DATA = YAML(typ="safe").load(STRATEGY_TEXT)
RULES_DATA = YAML(typ="safe").load(RULES_TEXT)
PARTNER_FILES = [(FIXTURES / name).read_bytes()
                 for name in ("partners.csv", "partners_semicolon.csv", "partners_bad_row.csv")]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def to_yaml(data: Any) -> bytes:
    """A mutated tree written back as YAML (block style, as people write it); JSON, which is also
    YAML, when the YAML writer cannot represent it."""
    out = io.BytesIO()
    try:
        YAML(typ="safe").dump(data, out)
    except Exception:
        return json.dumps(data).encode("utf-8")
    return out.getvalue()


def check_config(loader: Any, path: Path, content: bytes, model: type) -> None:
    path.write_bytes(content)
    outcome = own_errors_only(ConfigError, lambda: loader(path))
    if isinstance(outcome, ConfigError):
        assert str(outcome).startswith(str(path)), str(outcome)  # names the file
    else:
        assert isinstance(outcome, model)


# --- YAML text and data --------------------------------------------------------------------------

@SETTINGS
@given(st.text(max_size=500) | st.sampled_from([
    "a: &x [*x]", "? [a, b]\n: c", "a: 1\na: 2", "!!python/object:os.system {}", "a: !!binary xyz",
    "--- a\n--- b", "%YAML 9.9\n---\na: 1", "a: *undefined", "\t- x", "a: 'unclosed", "[" * 5000,
    "a:\n" + "  " * 3000 + "b: 1", "\x00", "\ufeff", "a: b\x85c", "a: \ud800".encode("utf-8", "surrogatepass")
    .decode("utf-8", "replace")]))
def test_yaml_text(text: str) -> None:
    own_errors_only(ConfigError, lambda: parse_yaml_text(text, "strategy.yaml"))


@SETTINGS
@given(GARBAGE)
def test_validate_arbitrary_data(data: Any) -> None:
    own_errors_only(ConfigError, lambda: validate_yaml(data, Strategy, "strategy.yaml"))
    own_errors_only(ConfigError, lambda: validate_yaml(data, FundingRulesFile, "funding_rules.yaml"))


# --- the strategy --------------------------------------------------------------------------------

@SETTINGS
@given(mutated_json(STRATEGY_DATA, max_mutations=4))
def test_strategy_mutated_example(workdir: Path, data: Any) -> None:
    check_config(load_strategy, workdir / "strategy.yaml", to_yaml(data), Strategy)


@SETTINGS
@given(mutated_bytes(STRATEGY_TEXT))
def test_strategy_mutated_example_bytes(workdir: Path, content: bytes) -> None:
    check_config(load_strategy, workdir / "strategy.yaml", content, Strategy)


@SETTINGS
@given(st.binary(max_size=1000))
def test_strategy_arbitrary_bytes(workdir: Path, content: bytes) -> None:
    check_config(load_strategy, workdir / "strategy.yaml", content, Strategy)


# --- the funding rules ---------------------------------------------------------------------------

@SETTINGS
@given(mutated_json(RULES_DATA, max_mutations=4))
def test_funding_rules_mutated(workdir: Path, data: Any) -> None:
    check_config(load_funding_rules, workdir / "funding_rules.yaml", to_yaml(data), FundingRulesFile)


@SETTINGS
@given(mutated_bytes(RULES_TEXT))
def test_funding_rules_mutated_bytes(workdir: Path, content: bytes) -> None:
    check_config(load_funding_rules, workdir / "funding_rules.yaml", content, FundingRulesFile)


@SETTINGS
@given(st.sampled_from(["(" * 2000 + ")" * 2000, "[", "(?P<x>a)(?P<x>b)", "a{99999999999}", "\\", "(?<=a+)b",
                        "x" * 100_000]))
def test_funding_rules_hostile_regex(workdir: Path, pattern: str) -> None:
    data = json.loads(json.dumps(RULES_DATA))
    data["programmes"]["horizon_europe"]["match"]["topic_id"] = pattern
    check_config(load_funding_rules, workdir / "funding_rules.yaml", to_yaml(data), FundingRulesFile)


# --- the partner CSV -----------------------------------------------------------------------------

CSV_PIECES = st.sampled_from([",", ";", '"', '""', "\n", "\r", "\r\n", "\x00", "\ufeff", "|", "\t", "'",
                              "organisation", "country", "pic", "999981234", "DK", "EL", "UK", "rto",
                              "research institute", "committed", "  "])


@st.composite
def mutated_csv(draw: Any) -> bytes:
    """A real partner CSV with cells replaced (garbage, quotes, delimiters, huge), rows and columns
    dropped or repeated, then byte-level mutations (truncation, invalid UTF-8)."""
    text = draw(st.sampled_from(PARTNER_FILES)).decode("utf-8")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    rows = [line.split(delimiter) for line in text.splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(rows) - 1))
        op = draw(st.integers(0, 4))
        if op == 0 and rows[row]:
            cell = draw(st.integers(0, len(rows[row]) - 1))
            rows[row][cell] = draw(TEXT | HUGE | st.lists(CSV_PIECES, max_size=8).map("".join))
        elif op == 1 and rows[row]:
            del rows[row][draw(st.integers(0, len(rows[row]) - 1))]  # a cell missing
        elif op == 2:
            rows.insert(row, list(rows[row]))  # a row repeated (same PIC twice)
        elif op == 3 and len(rows) > 1:
            del rows[row]
        else:
            rows[row].append(draw(TEXT))  # one cell too many
    data = ("\n".join(delimiter.join(cells) for cells in rows) + "\n").encode("utf-8")
    return draw(mutated_bytes(data, max_mutations=2)) if draw(st.booleans()) else data


@pytest.fixture(scope="module")
def partner_db(workdir: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{workdir / 'partners.db'}")
    yield engine
    engine.dispose()


def check_csv(text: str) -> None:
    outcome = own_errors_only(ValidationError, lambda: read_partner_csv(text, "partners.csv"))
    if isinstance(outcome, list):
        for line, row in outcome:
            assert isinstance(line, int) and isinstance(row, PartnerInput)
            own_errors_only(ValidationError, row.validated)


@SETTINGS
@given(st.text(max_size=600) | st.lists(CSV_PIECES, max_size=60).map("".join))
def test_csv_arbitrary_text(text: str) -> None:
    check_csv(text)


@SETTINGS
@given(mutated_csv())
def test_csv_import_mutated_real_files(workdir: Path, partner_db: Engine, content: bytes) -> None:
    path = workdir / "partners.csv"
    path.write_bytes(content)
    check_csv(content.decode("utf-8", errors="replace"))
    with Session(partner_db) as session:  # the real import, rolled back after each example
        outcome = own_errors_only(ValidationError, lambda: import_partners(session, path, NOW))
        if isinstance(outcome, ValidationError):
            assert str(outcome).startswith(str(path)), str(outcome)  # names the file
        session.rollback()


@SETTINGS
@given(st.sampled_from(PARTNER_FILES), INVALID_UTF8, st.integers(0, 400))
def test_csv_import_invalid_utf8(workdir: Path, partner_db: Engine, content: bytes, bad: bytes,
                                 at: int) -> None:
    path = workdir / "partners.csv"
    path.write_bytes(content[:at] + bad + content[at:])
    with Session(partner_db) as session:
        own_errors_only(ValidationError, lambda: import_partners(session, path, NOW))
        session.rollback()
