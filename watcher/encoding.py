"""Response bytes to text, the same way for every source (pure: bytes and a Content-Type in, str out).

The encoding is the first of these that decodes the bytes without error:

1. a byte order mark (UTF-8, UTF-16, UTF-32), which outranks any label as in browsers (a label of
   windows-1252 read a UTF-8 mark as "ï»¿");
2. the ``charset`` of the HTTP Content-Type, when the server sent one;
3. the document's own declaration in its first 2 KB: ``<?xml … encoding="…"?>`` or an HTML
   ``<meta charset="…">`` / ``<meta http-equiv="Content-Type" content="…; charset=…">``;
4. UTF-8, when the bytes are valid UTF-8 (the default of XML and iCalendar, and text in another
   encoding is almost never valid UTF-8 by accident);
5. UTF-8 with each byte that is no UTF-8 read as windows-1252, when the valid multi-byte UTF-8
   characters outnumber such bytes: a UTF-8 page with one field pasted from a Windows program (the
   apostrophe 0x92 of "SMV’er") was detected as Shift-JIS whole, every "ø" stored as "ﾃｸ";
6. charset-normalizer's detection (the detector httpx itself depends on); when windows-1252 is among
   the encodings it finds least chaotic, windows-1252: on a short Danish, Swedish or Norwegian text
   the detector ranks cp1250 or hp_roman8 as high ("Ansřgningsfrist", "ans—kningsdag"), and the
   funders fundradar reads write Western European languages;
7. UTF-8 with undecodable bytes replaced (the last resort, so a source never fails on encoding).

An unknown or wrong label falls through to the next rule, and so does a Western single-byte label
(windows-1252, ISO-8859-1 or -15) on bytes that are valid UTF-8 with letters beyond ASCII: servers and
templates label UTF-8 pages "ISO-8859-1" by default, which read every "ø" as "Ã¸", and a text in such
a charset is valid UTF-8 by accident only if it was written as mojibake to begin with. A UTF-16 or
UTF-32 label on a text without a zero byte in its first 2 KB falls through too (such text has one in
every ASCII letter). ISO-8859-1
and US-ASCII labels are read as windows-1252, as browsers do (servers label cp1252 text "latin-1";
the C1 controls latin-1 would give are never meant). A leading byte order mark is dropped, and the
text is put in Unicode NFC, so a decomposed "Öresund" compares, filters and is stored like the composed one.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

_BOMS = (  # UTF-32 LE first: its mark starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(r"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "iso_8859-1",
                 "cp819", "ibm819"}
SNIFF_BYTES = 2048
_WESTERN_SINGLE_BYTE = frozenset({"cp1252", "iso8859-15"})


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when Python does not know it."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def http_charset(content_type: str | None) -> str | None:
    match = _HTTP_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The encoding a document declares for itself: BOM, XML declaration, then HTML meta."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    head = body[:SNIFF_BYTES].decode("ascii", "ignore")
    match = _XML_DECLARATION.search(head) or _META_CHARSET.search(head)
    return match.group(1) if match else None


def _labelled(body: bytes, codec: str | None) -> str | None:
    """``body`` decoded by a label's codec; None when it fails, or when a Western single-byte label
    is put on bytes that are UTF-8 (see the module docstring)."""
    if codec in _WESTERN_SINGLE_BYTE and not body.isascii() and _decode(body, "utf-8") is not None:
        return None
    if codec is not None and codec.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:SNIFF_BYTES]:
        # text in UTF-16 or -32 has a zero byte in every ASCII letter; without one the label is wrong,
        # and reading by it succeeded or failed by the body's length (decodable when even)
        return None
    return _decode(body, codec)


def _decode(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        if codec == "cp1252":  # bytes cp1252 leaves undefined (0x81, 0x8D, …): real latin-1
            return body.decode("latin-1")
        return None


def _windows_1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # a byte cp1252 leaves undefined (0x81, 0x8D, …): latin-1's control
        return chr(byte)


# each byte no UTF-8 as the decoder's "surrogateescape" writes it (U+DC80 + the byte less 0x80), to the
# character windows-1252 reads it as: the decoding and the counting stay in C, where a Python error
# handler called once a stray byte made a 10 MB Windows page take seconds to be found no UTF-8
_WINDOWS_1252_OF_STRAY = {0xDC00 + byte: _windows_1252(byte) for byte in range(0x80, 0x100)}


def _mostly_utf8(body: bytes) -> str | None:
    """``body`` as UTF-8 with its stray bytes read as windows-1252, when it is UTF-8 but for them (more
    UTF-8 characters beyond ASCII than stray bytes); None otherwise."""
    text = body.decode("utf-8", "surrogateescape")
    stray = len(text) - len(body.decode("utf-8", "ignore"))
    beyond_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return text.translate(_WINDOWS_1252_OF_STRAY) if beyond_ascii - stray > stray else None


def _detected(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = from_bytes(body)
    least = min((match.chaos for match in matches), default=None)
    if any(match.chaos == least and "cp1252" in match.could_be_from_charset for match in matches):
        return _decode(body, "cp1252")
    best = matches.best()
    return str(best) if best is not None else None


def decode_text(body: bytes, content_type: str | None = None) -> str:
    """``body`` as NFC text, decoded by the rules of the module docstring."""
    if not body:
        return ""
    bom = next((codec for mark, codec in _BOMS if body.startswith(mark)), None)
    text = _decode(body, bom) if bom else None
    if text is None:
        text = _labelled(body, _codec(http_charset(content_type)))
    if text is None:
        text = _labelled(body, _codec(declared_charset(body)))
    if text is None:
        text = _decode(body, "utf-8")
    if text is None:
        text = _mostly_utf8(body)
    if text is None:
        text = _detected(body)
    if text is None:
        text = body.decode("utf-8", "replace")
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
