"""A verdict none of whose rules failed but some could not be checked is "?" in `calls list`; `calls why`
headed it "Rules: passed" and `ideas calls` showed "pass"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from pipeline.core.config import DEFAULT_STRATEGY
from tests.scoring_data import insert_calls

CONFIG = ["--config", str(DEFAULT_STRATEGY), "--as-of", "2026-08-22T09:00+00:00"]


def test_calls_why_heads_rules_it_could_not_check_as_unknown_as_the_list_marks_them(
        cli: Any, engine: Any) -> None:
    (known, unchecked) = insert_calls(engine, [("Offshore wind farms", "Floating offshore wind."),
                                               ("Green ports", "Shore power in ports.")])
    with engine.begin() as connection:  # a programme funding_rules.yaml has no figures for
        connection.execute(text("UPDATE call SET programme = 'Nordic Blue Fund', type_of_action = NULL, "
                                "max_contribution = NULL WHERE id = :id"), {"id": unchecked})
    assert cli(*CONFIG, "score").exit_code == 0
    listed = cli(*CONFIG, "calls", "list", "--csv")
    rules = {line.split(",")[0]: line.split(",")[8] for line in listed.stdout.splitlines()[1:]}
    assert rules == {str(known): "passed", str(unchecked): "unknown"}

    why = cli(*CONFIG, "calls", "why", str(unchecked))
    assert why.exit_code == 0, why.output
    header = [line for line in why.stdout.splitlines() if line.startswith("Rules:")]
    unknown = [line.split()[1] for line in why.stdout.splitlines() if line.startswith("  unknown ")]
    assert unknown and header == [f"Rules: none failed, unknown ({', '.join(unknown)})"]
    assert [line for line in cli(*CONFIG, "calls", "why", str(known)).stdout.splitlines()
            if line.startswith("Rules:")] == ["Rules: passed"]


def test_ideas_calls_marks_a_call_with_unchecked_rules_as_calls_list_does(cli: Any, engine: Any) -> None:
    """`ideas calls` showed "pass" for it, with "#N unknown: …" printed under the table."""
    (known, unchecked) = insert_calls(engine, [("Shore power in green ports", "Shore power for ports."),
                                               ("Green ports and shore power", "Shore power in ports.")])
    with engine.begin() as connection:
        connection.execute(text("UPDATE call SET programme = 'Nordic Blue Fund', type_of_action = NULL, "
                                "max_contribution = NULL WHERE id = :id"), {"id": unchecked})
    assert cli(*CONFIG, "score").exit_code == 0
    assert cli(*CONFIG, "ideas", "add", "Shore power in green ports").exit_code == 0
    result = cli(*CONFIG, "ideas", "calls", "1")
    assert result.exit_code == 0, result.output
    marks = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()
             if line.split() and line.split()[0].isdigit()}
    assert marks == {str(known): "pass", str(unchecked): "?"}
    assert f"#{unchecked} unknown: " in result.stdout
    csv = cli(*CONFIG, "ideas", "calls", "1", "--csv").stdout.splitlines()
    assert csv[0] == "call_id,title,next_deadline,score,terms,passed"  # the CSV keeps the verdict as stored
