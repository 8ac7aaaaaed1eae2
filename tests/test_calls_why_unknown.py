"""`calls why` headed its rules "Rules: passed" when none failed but some could not be checked, while
`calls list` marks the same call "?" (none fails but one could not be checked)."""

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
