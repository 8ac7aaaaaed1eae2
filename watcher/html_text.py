"""HTML descriptions → clean readable text (pure; lxml).

Made for the EU portal's topic descriptions, reusable by any source that gets HTML snippets:

* paragraphs and headings become paragraphs separated by a blank line; the portal's section headings
  (``<p class="topicdescriptionkind">Expected Outcome:</p>``, ``Scope:``) stay on their own line;
* ``<ul>``/``<ol>`` items become ``- `` lines (nested lists indented by two spaces);
* entities are decoded, links keep only their text, ``<br>`` breaks the line;
* footnote markers (``<sup>[1]</sup>``) are dropped; the footnotes themselves stay as paragraphs;
* U+FEFF (a BOM left inside the text) and other zero-width characters are removed, no-break spaces
  become spaces, and runs of white space collapse to one space.

This is a small tree walk rather than trafilatura: trafilatura finds the main text of a *page* and
drops short fragments and list structure, while these are already-isolated description snippets
whose every line matters. The tree is lxml's (libxml2's HTML parser, the one BeautifulSoup's "lxml"
builder drives too), walked directly: a text node is an element's ``text`` or a child's ``tail``, and
comments and processing instructions are skipped with their tails kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree
from lxml import html as lxml_html

_BLOCKS = {"p", "div", "section", "article", "header", "footer", "blockquote", "h1", "h2", "h3", "h4",
           "h5", "h6", "table", "tr", "dl", "dt", "dd", "pre", "figure", "figcaption", "address"}
_LISTS = {"ul", "ol"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_FOOTNOTE_MARK = re.compile(r"^\s*\[?\s*\d{1,3}\s*\]?\s*$")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_SPACES = re.compile(r"\s+")


def clean_inline(text: str) -> str:
    """One line of text: invisible characters removed, white space (incl. no-break) collapsed."""
    return _SPACES.sub(" ", text.translate(_INVISIBLE).replace("\u00a0", " ")).strip()


def _is_element(node: object) -> bool:
    """An element proper: not a comment, processing instruction or entity (their ``tag`` is a function)."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def _name(node: etree._Element) -> str:
    return node.tag.lower() if isinstance(node.tag, str) else ""


def _children(node: etree._Element) -> Iterator[str | etree._Element]:
    """The node's children in document order, text nodes as str (what BeautifulSoup lists as
    NavigableStrings): its text, then each child element followed by that child's tail."""
    if node.text:
        yield node.text
    for child in node:
        if _is_element(child):
            yield child
        if child.tail:
            yield child.tail


def _all_text(node: etree._Element) -> str:
    """The text of the node's descendants (not its tail), comments left out."""
    return "".join(part if isinstance(part, str) else _all_text(part) for part in _children(node))


def _strings(node: etree._Element) -> Iterator[str]:
    stack: list[str | etree._Element] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        else:
            stack.extend(reversed(list(_children(item))))


class _Writer:
    """Collects blocks: ("p", text) paragraphs and ("li", text) list lines."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.inline: list[str] = []

    def flush(self, kind: str = "p") -> None:
        text = clean_inline("".join(self.inline))
        self.inline = []
        if text:
            self.blocks.append((kind, text))

    def walk(self, node: etree._Element, depth: int = 0) -> None:
        for child in _children(node):
            if isinstance(child, str):
                self.inline.append(child)
                continue
            name = _name(child)
            if name in _SKIP:
                continue
            if name == "sup" and _FOOTNOTE_MARK.match(_all_text(child)):
                continue  # a footnote marker such as [1]
            if name == "br":
                self.flush()
            elif name in _LISTS:
                self.flush()
                self.walk_list(child, depth)
            elif name == "li":  # an <li> outside any list
                self.flush()
                self.walk_item(child, depth)
            elif name in _BLOCKS:
                self.flush()
                self.walk(child, depth)
                self.flush()
            else:
                self.walk(child, depth)

    def walk_list(self, node: etree._Element, depth: int) -> None:
        for child in _children(node):
            if isinstance(child, str):
                if child.strip():
                    self.blocks.append(("li", "  " * depth + "- " + clean_inline(child)))
            elif _name(child) == "li":
                self.walk_item(child, depth)
            elif _name(child) in _LISTS:
                self.walk_list(child, depth + 1)

    def walk_item(self, item: etree._Element, depth: int) -> None:
        inner = _Writer()
        inner.walk(item, depth + 1)  # nested lists inside the item are one level deeper
        inner.flush()
        first = True
        for kind, text in inner.blocks:
            if kind == "li":
                self.blocks.append(("li", text))
            elif first:
                self.blocks.append(("li", "  " * depth + "- " + text))
                first = False
            else:
                self.blocks.append(("li", "  " * (depth + 1) + text))

    def text(self) -> str:
        self.flush()
        out: list[str] = []
        previous = None
        for kind, text in self.blocks:
            if out:
                out.append("\n" if kind == "li" and previous == "li" else "\n\n")
            out.append(text)
            previous = kind
        return "".join(out)


def _root(html: str) -> etree._Element | None:
    """The element whose content is the snippet: the document's body, else the document itself."""
    try:
        document = lxml_html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError):  # nothing but white space or comments
        return None
    body = document.find("body")
    return document if body is None else body


_PARSER = lxml_html.HTMLParser(recover=True, remove_comments=False, remove_pis=False)


def html_to_text(html: str | None) -> str:
    """Readable plain text of an HTML snippet; "" for None or empty input. Never raises on bad HTML."""
    if not html or not html.strip():
        return ""
    root = _root(html)
    if root is None:
        return ""
    writer = _Writer()
    try:
        writer.walk(root)
    except RecursionError:  # nested thousands of levels deep (hostile input): plain text, no layout
        return clean_inline(" ".join(_strings(root)))
    return writer.text()
