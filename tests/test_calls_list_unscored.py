"""`calls list` on calls the selected strategy has no scores for yet (a cluster's file added to a config
folder, a sync whose scoring failed) said "No calls match." under --focus and nothing else, as if the
strategy's focus areas matched none of them."""

from __future__ import annotations

from typing import Any

from pipeline.core.config import DEFAULT_STRATEGY
from tests.scoring_data import insert_calls

CONFIG = ["--config", str(DEFAULT_STRATEGY), "--as-of", "2026-08-22T09:00+00:00"]
NOTE = ("note: nothing is scored for greentech-dk yet (2 calls stored); `fundradar score` scores them, "
        "and until then a focus area lists no call\n")


def test_calls_list_says_the_strategy_is_not_scored_yet(cli: Any, engine: Any) -> None:
    insert_calls(engine, [("Offshore wind farms", "Floating offshore wind."),
                          ("Green ports", "Shore power in ports.")])
    listed = cli(*CONFIG, "calls", "list", "--focus", "offshore_energy")
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, "", NOTE + "No calls match.\n")
    assert cli(*CONFIG, "calls", "list", "--min-score", "0.1", "--json").stderr == NOTE
    # without a filter on scores the unscored calls are listed, after any scored ones
    unfiltered = cli(*CONFIG, "calls", "list", "--csv")
    assert unfiltered.stderr == "" and unfiltered.stdout.count("\n") == 3
    assert cli(*CONFIG, "score").exit_code == 0
    scored = cli(*CONFIG, "calls", "list", "--focus", "offshore_energy", "--json")
    assert scored.exit_code == 0 and scored.stderr == ""


def test_an_empty_database_gets_no_note(cli: Any, engine: Any) -> None:
    listed = cli(*CONFIG, "calls", "list")
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, "", "No calls match.\n")
