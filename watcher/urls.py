"""URLs as fundradar keeps them: without tracking parameters and fragments, so the same page reached
from a newsletter, a feed or a listing is one URL (and one call)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|"
                             r"yclid|ref|ref_src|trk|pk_\w+|mtm_\w+|hsa_\w+|_hs\w+|wt_\w+)$",
                             re.IGNORECASE)
# a session written into the link (PHP, Java, ASP, ColdFusion) is new on every visit; kept, every fetch of
# a listing gave its items new links, their ids, and each run stored them as new calls
SESSION_PARAMS = re.compile(r"^(phpsessid|jsessionid|sessionid|session_id|aspsessionid\w*|cfid|cftoken)$",
                            re.IGNORECASE)
_PATH_SESSION = re.compile(r";jsessionid=[^/;?#]*", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")  # RFC 3986's scheme, before any "/", "?" or "#"


def clean_url(url: str) -> str:
    """The URL without tracking or session parameters (utm_*, fbclid, PHPSESSID, ";jsessionid=…") and
    without a fragment, its scheme and host in lower case (both are case-insensitive: a link written
    "https://Innovationsfonden.DK/…" is the same page, and the same call, as the one in lower case)."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not TRACKING_PARAMS.match(k) and not SESSION_PARAMS.match(k)]
    user, at, host = parts.netloc.rpartition("@")
    path = _PATH_SESSION.sub("", parts.path)
    return urlunsplit((parts.scheme.lower(), f"{user}{at}{host.lower()}", path, urlencode(query), ""))


def document_base(soup: Any, url: str) -> str:
    """The address a page's relative links are written against: its first ``<base href>`` made
    absolute against ``url`` when that is an http(s) address, else ``url`` (HTML's rule). Sites that
    write one (TYPO3's baseURL) link "da/p/…" against the site's root: joined to the page's own
    address, every such link was a page that does not exist."""
    base = soup.find("base", href=True) if soup is not None else None
    href = "".join(str(base["href"]).split()) if base is not None else ""
    if not href:
        return url
    try:
        resolved = urljoin(url, href)
        parts = urlsplit(resolved)
    except ValueError:  # a base that is no URL ("http://[") is ignored, as a browser ignores it
        return url
    return resolved if parts.scheme.lower() in ("http", "https") and parts.hostname else url


def goes_nowhere(href: str) -> bool:
    """A link to no call page: an anchor in the page itself ("#", "#apply"), a script
    ("javascript:void(0)"), a data: URL or another scheme than http(s) ("mailto:", "tel:"). Items of
    an accordion or a feed share such a link, and as their id it made them one call."""
    href = "".join(href.split())
    if not href or href.startswith("#"):
        return True
    scheme = _SCHEME.match(href)
    return scheme is not None and scheme.group(1).lower() not in ("http", "https")


# what a funder links beside its call pages: the call text as a document, not a page to read
_DOCUMENT_SUFFIX = re.compile(r"\.(?:pdf|docx?|odt|rtf|xlsx?|ods|pptx?|odp|zip)$", re.IGNORECASE)
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml")


def links_to_document(url: str) -> bool:
    """``url``'s path names a document (``…/call.pdf``, ``.docx``, ``.xlsx``, ``.zip``), not a web page."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return _DOCUMENT_SUFFIX.search(path.rstrip("/")) is not None


def is_page_type(content_type: str) -> bool:
    """An answer of this Content-Type is a page whose text can be read (HTML, XHTML, plain text, XML);
    an answer without one is taken as a page, as a browser sniffs it. A header sent twice comes joined by
    a comma ("text/html, text/html; charset=utf-8"): its last type counts, as a browser's does."""
    kind = content_type.split(";", 1)[0].rsplit(",", 1)[-1].strip().lower()
    return not kind or kind in _PAGE_TYPES


def inside_network(host: str) -> bool:
    """``host`` names this machine or a private network: ``localhost``, or an IP address that is not
    global (loopback, private, link-local such as a cloud's 169.254.169.254 metadata service), also
    written as the socket reads it ("127.1", "2130706433"). A name is not resolved here."""
    import ipaddress
    import socket

    name = host.lower().rstrip(".").strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        if not name or not all(ch in "0123456789abcdefx." for ch in name):
            return False
        try:  # the short and numeric IPv4 forms the C library accepts
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return False
    return not address.is_global


# how a listing labels its next page: English and the languages of the funders' sites (Danish, Swedish,
# Norwegian, German), as text, aria-label or title; "›", "»" and ">" as arrows
_NEXT_LABELS = ("next", "næste", "nästa", "neste", "weiter", "nächste", "»", "›", ">")


def next_page_href(soup: Any) -> str | None:
    """The ``href`` of a listing's next page as written: a ``rel="next"`` link, else a pager link
    (``.pagination``, ``.pager``, a pagination ``nav``) labelled next; None on the last page."""
    link = soup.select_one('link[rel~="next"][href], a[rel~="next"][href]')
    if link is not None and goes_nowhere(str(link["href"])):
        return None
    if link is None:
        for anchor in soup.select(".pagination a[href], .pager a[href], nav[aria-label*=agination] a[href]"):
            if goes_nowhere(str(anchor["href"])):
                # the last page's disabled "Next" ("javascript:void(0)", "#"): followed, it was a page
                # on no host, and the listing was never whole
                continue
            label = " ".join(" ".join(str(part) for part in (anchor.get_text(" ", strip=True),
                                                           anchor.get("aria-label") or "",
                                                           anchor.get("title") or "")).split()).lower()
            if label.startswith(_NEXT_LABELS) or "next page" in label:
                link = anchor
                break
    return str(link["href"]) if link is not None else None
