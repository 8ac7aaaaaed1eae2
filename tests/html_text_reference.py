"""The BeautifulSoup implementation of :func:`watcher.html_text.html_to_text`, kept as the reference
its lxml implementation is compared against (tests/test_html_text_lxml.py): the same rules, the same
text for every recorded snippet. Not used by fundradar itself."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import Comment

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

    def walk(self, node: Tag, depth: int = 0) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower() if child.name else ""
            if name in _SKIP:
                continue
            if name == "sup" and _FOOTNOTE_MARK.match(child.get_text()):
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

    def walk_list(self, node: Tag, depth: int) -> None:
        for child in node.children:
            if isinstance(child, Tag) and child.name and child.name.lower() == "li":
                self.walk_item(child, depth)
            elif isinstance(child, Tag) and child.name and child.name.lower() in _LISTS:
                self.walk_list(child, depth + 1)
            elif isinstance(child, NavigableString) and not isinstance(child, Comment) and child.strip():
                self.blocks.append(("li", "  " * depth + "- " + clean_inline(str(child))))

    def walk_item(self, item: Tag, depth: int) -> None:
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


def reference_html_to_text(html: str | None) -> str:
    """Readable plain text of an HTML snippet; "" for None or empty input. Never raises on bad HTML."""
    if not html or not html.strip():
        return ""
    with warnings.catch_warnings():
        # a snippet starting with <?xml is still a description's HTML here, as the product reads it
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    root = soup.body or soup
    writer = _Writer()
    try:
        writer.walk(root)
    except RecursionError:  # nested thousands of levels deep (hostile input): plain text, no layout
        return clean_inline(root.get_text(" "))
    return writer.text()
