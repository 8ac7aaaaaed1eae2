""":func:`watcher.html_text.html_to_text` (lxml) gives exactly the text of the BeautifulSoup reference
(tests/html_text_reference.py) for every HTML snippet of the recordings in FUNDRADAR_SAMPLES, and for
awkward hand-made ones (comments, processing instructions, broken and nested markup)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.html_text_reference import reference_html_to_text
from watcher.html_text import html_to_text

HTML_FIELDS = ("descriptionByte", "destinationDetails", "content")  # the fields holding HTML
AWKWARD = [
    "<p>a<!-- hidden -->b</p>", "<!-- only a comment -->", "<?xml version='1.0'?><p>x</p>",
    "<title>t</title>",
    "<head><title>t</title></head>text", "plain text", "<p>cut mid-<b>wo", "<ul><li>one<ul><li>sub</li></ul>"
    "</li>loose<li>two</li></ul>", "<li>orphan</li><li>second<p>para</p>more</li>", "x<br>y<br/>z",
    "<p>Expected Outcome:</p><p>R&amp;D&nbsp;in\u00a0EU.</p>", "<sup>[1]</sup>foot<sup>note</sup>",
    "<table><tr><td>a</td><td>b</td></tr></table>", "<script>bad()</script><style>p{}</style>ok",
    "\ufeff<p>bom\u200b</p>", "<ol><li><p>p1</p><p>p2</p></li></ol>", "<div><![CDATA[x]]>y</div>",
    "<p>" * 300 + "deep", "<ul>" * 50 + "<li>deep list", "</p></div>stray closers", "<P CLASS=x>UPPER</P>",
    "&lt;not a tag&gt; &amp;amp; &#x27;", "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>",
    "a<b>b<br>c</b>d<p>e</p>f<i>g<div>h</div>i</i>j", "<ul><!-- c -->tail<li>x</li> loose <ol>in</ol></ul>",
    "x\u00ad\u200by \u2060\x1c\u2003z\u3000", "<UL><LI>Upper<BR>case</LI></UL>",
    "<li><br>a<ul><li>b</li></ul>c</li>",
    "<sup>12</sup>x<sup>[3] </sup><sup>note<br>two</sup>y",
]


def _snippets(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in HTML_FIELDS:
                for text in item if isinstance(item, list) else [item]:
                    if isinstance(text, str) and text.strip():
                        yield text
            else:
                yield from _snippets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _snippets(item)


def recorded_snippets(samples: Path) -> list[str]:
    found: dict[str, None] = {}
    for path in sorted((samples / "eu_ft").rglob("*.json")):
        for text in _snippets(json.loads(path.read_bytes())):
            found[text] = None
    return list(found)


def test_every_recorded_snippet_gives_the_reference_text(samples: Path) -> None:
    snippets = recorded_snippets(samples)
    assert len(snippets) > 600  # 644 distinct snippets in 1,800-odd recorded descriptions
    different = [s for s in snippets if html_to_text(s) != reference_html_to_text(s)]
    assert different == []


@pytest.mark.parametrize("html", AWKWARD)
def test_awkward_snippets_give_the_reference_text(html: str) -> None:
    assert html_to_text(html) == reference_html_to_text(html)
