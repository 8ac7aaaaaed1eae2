"""Compressed bodies httpx hands out unread: a Content-Encoding it cannot undo, and a gzip or deflate
stream that stops before its end (:mod:`watcher.http` refuses both)."""

from __future__ import annotations

import httpx
from httpx import _decoders as httpx_decoders  # which Content-Encodings this httpx can undo

from pipeline.core.errors import FetchError

# compressions a server may send without being asked (IANA's content codings); a Content-Encoding
# that names none ("utf-8", "none", "binary": servers confusing it with the charset) is ignored, as
# httpx ignores it
COMPRESSIONS = frozenset(
    {"br", "zstd", "compress", "x-compress", "x-gzip", "pack200-gzip", "exi", "aes128gcm", "dcb", "dcz"}
)


def check_encoding(response: httpx.Response, source: str, label: str) -> None:
    """FetchError when the body is compressed in a way httpx cannot undo: it hands such a body out as
    it came (it skips a Content-Encoding it does not know), compressed bytes read as the page's text."""
    known = set(getattr(httpx_decoders, "SUPPORTED_DECODERS", ("identity", "gzip", "deflate")))
    written = response.headers.get("content-encoding") or ""
    if any(part.strip().lower() in COMPRESSIONS - known for part in written.split(",")):
        asked = " or ".join(sorted(known - {"identity"}, key=lambda name: name != "gzip"))
        raise FetchError(
            source,
            f"{label} was sent compressed as {' '.join(written.split())[:40]!r}, which "
            f"fundradar cannot decompress (it asks for {asked}); try again later, or "
            "report it to the site",
        )


def decoded_to_the_end(response: httpx.Response) -> bool:
    """False when a gzip or deflate body stopped before the end of its compressed stream. The HTTP
    framing of such a body can be whole (a proxy or server cutting the compressed file), and httpx then
    hands out what decompressed so far without an error: half a listing read as the whole of it."""
    decoder = getattr(response, "_decoder", None)
    for part in getattr(decoder, "children", None) or [decoder]:
        decompressor = getattr(part, "decompressor", None)
        if getattr(decompressor, "eof", True) is False:
            return False
    return True
