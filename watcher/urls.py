"""URLs as fundradar keeps them: without tracking parameters and fragments, so the same page reached
from a newsletter, a feed or a listing is one URL (and one call)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|"
                             r"yclid|ref|ref_src|trk|pk_\w+|mtm_\w+|hsa_\w+|_hs\w+|wt_\w+)$",
                             re.IGNORECASE)
# a session written into the link (PHP, Java, ASP, ColdFusion) is new on every visit; kept, every fetch of
# a listing gave its items new links, their ids, and each run stored them as new calls
SESSION_PARAMS = re.compile(r"^(phpsessid|jsessionid|sessionid|session_id|aspsessionid\w*|cfid|cftoken)$",
                            re.IGNORECASE)
_PATH_SESSION = re.compile(r";jsessionid=[^/;?#]*", re.IGNORECASE)


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
