"""A snippet nesting deeper than libxml2 builds a tree (tags a word processor opened on every line
and never closed) is read as plain text from the parser's events; the text is what BeautifulSoup's
``get_text(" ")`` gave it, whatever it holds besides its lines."""

from __future__ import annotations

import random

import pytest
from bs4 import BeautifulSoup

from watcher.html_text import clean_inline, html_to_text

LINE = '<span lang="EN-GB">Eligible costs include staff &amp; travel.<br>'
PIECES = ["<!-- a note -->", "<script>var x = '<b>';</script>", "<style>p {color: red}</style>",
          "<template><p>hidden</p></template>", "<ruby>漢<rt>kan</rt><rp>(</rp></ruby>", "<?php echo 1; ?>",
          "R&D", "&nbsp;", "&#8211;", "<b>bold</b>", "Ut&shy;lysning", "<p>", "</p>", "<li>item", "</div>",
          "<![CDATA[x]]>", "<td>cell", "<textarea>  kept  </textarea>", "<pre> a\n b </pre>", "word", " ",
          "\n", "<br/>", "<img alt='picture'>", "<noscript>no script</noscript>", "<title>T</title>", "tail"]


def _reference(html: str) -> str:
    return clean_inline(BeautifulSoup(html, "lxml").get_text(" "))


def test_thirty_thousand_unclosed_lines_are_read_whole() -> None:
    html = f"<p>{LINE * 30_000}</p>"
    text = html_to_text(html)
    assert text == _reference(html)
    assert text.count("Eligible costs include staff & travel.") == 30_000


@pytest.mark.parametrize("seed", range(12))
def test_a_deep_snippet_with_comments_scripts_and_entities_reads_as_before(seed: int) -> None:
    rng = random.Random(seed)
    parts = [LINE if rng.random() < 0.6 else rng.choice(PIECES) for _ in range(6_000)]
    # the first 2,100 lines nest past the 2,048 levels of the tree, whatever the pieces after them close
    html = ("<!DOCTYPE html><html><head><title>x</title></head><body>" if seed % 2 else "") + LINE * 2_100 \
        + "".join(parts)
    assert html_to_text(html) == _reference(html)
