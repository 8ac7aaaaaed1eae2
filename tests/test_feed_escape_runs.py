"""The feed's repair of bare "&" and "<" looks ahead at tags rather than matching each (no Python call
per tag); what it writes does not depend on how long a run of tags is or where it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.sources.feed import escape_bare_markup

FEED = (Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_text(encoding="utf-8")


def test_the_recorded_feed_is_written_as_it_is() -> None:
    assert escape_bare_markup(FEED) == FEED  # well-formed: nothing to repair


@pytest.mark.parametrize("tags", [1, 999, 1000, 1001, 2500])
def test_a_bare_character_after_a_long_run_of_tags_is_repaired(tags: int) -> None:
    run = '<p class="x"><b>R&amp;D</b><br/></p>' * tags
    text = f"{run}Heat < 100 °C{run}R&D &#0;&#x41;<![CDATA[a<b & c]]>{run}<!-- a<b -->a<b"
    expected = f"{run}Heat &lt; 100 °C{run}R&amp;D &#x41;<![CDATA[a<b & c]]>{run}<!-- a<b -->a&lt;b"
    assert escape_bare_markup(text) == expected


def test_an_ampersand_inside_a_tag_is_escaped_after_a_run() -> None:
    # an attribute's bare "&" is no more well-formed than the text's (feedparser read "&b" as an entity)
    run = "<item><title>Call</title></item>" * 1200
    text = f'{run}<link href="https://example.org/?a=1&b=2"/>&nbsp;&#55296;x'
    assert escape_bare_markup(text) == f'{run}<link href="https://example.org/?a=1&amp;b=2"/>&nbsp;&#xFFFD;x'
