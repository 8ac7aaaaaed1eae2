"""An amount 'in total' of one project is that project's maximum, not the call's pool."""

from __future__ import annotations

import pytest

from watcher.amounts import EUR_PER, budget_and_maximum


@pytest.mark.parametrize(("text", "maximum", "currency"), [
    ("Der kan søges op til 500.000 kr. i alt pr. projekt.", 500_000, "DKK"),
    ("Each project can receive up to EUR 60,000 in total.", 60_000, "EUR"),
    ("Tilskuddet er på højst 2 mio. kr. i alt per ansøger.", 2_000_000, "DKK"),
    ("Varje projekt kan få 3 miljoner kronor totalt.", 3_000_000, "SEK"),
])
def test_a_projects_total_is_its_maximum(text: str, maximum: float, currency: str) -> None:
    """Read as a pool ('i alt', 'in total' after the amount), a call's per-project grant was its
    budget and the maximum per project unknown, so the budget rule could not tell a grant too small."""
    assert budget_and_maximum(text) == (None, round(maximum / EUR_PER[currency], 2))


def test_a_pool_said_after_its_amount_is_still_the_budget() -> None:
    text = "Der er 100 mio. kr. til rådighed. Der kan søges op til 5 mio. kr. pr. projekt."
    assert budget_and_maximum(text) == (round(100e6 / EUR_PER["DKK"], 2), round(5e6 / EUR_PER["DKK"], 2))
