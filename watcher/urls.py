"""URLs as fundradar keeps them: without tracking parameters and fragments, so the same page reached
from a newsletter, a feed or a listing is one URL (and one call)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|"
                             r"yclid|ref|ref_src|trk|pk_\w+|mtm_\w+|hsa_\w+|_hs\w+|wt_\w+)$",
                             re.IGNORECASE)


def clean_url(url: str) -> str:
    """The URL without tracking query parameters (utm_*, fbclid, …) and without a fragment."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not TRACKING_PARAMS.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
