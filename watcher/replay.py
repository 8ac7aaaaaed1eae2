"""Answering HTTP requests from recordings, so the real fetch code runs offline.

* :class:`ReplayTransport` is an httpx transport asking a list of handlers (one per source, see an
  adapter's ``replay_handler(recording_dir)``) for a response; a request nobody answers fails with
  :class:`RecordingError` naming the URL and saying it is not in the recording.
* :class:`SediaSearchRecording` answers the SEDIA search API from a recording folder laid out like
  ``samples/eu_ft/search_<date>/`` (``page_001.json`` … and ``facets.json``). It behaves like the
  API for what fundradar sends: it reads the multipart ``query`` part and serves the recorded page
  files as they are for the recorded query, or the recorded results that match a narrower query's
  ``terms`` filters (type, status, frameworkProgramme). The local test server uses the same class, so
  tests and ``fundradar sync --replay`` exercise the same query code.
* A handler raises :class:`RecordingError` (one line naming the file or folder) for a request the
  recording lacks or a recorded file it cannot read; it is a source failure like an HTTP error.
* :func:`file_replay` answers one URL with a recorded file (a feed, a calendar), for the sources that
  fetch a single document.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from pipeline.core.errors import FetchError, RuntimeFailure

ReplayHandler = Callable[[httpx.Request], httpx.Response | None]
_SEARCH_DIR = re.compile(r"^search_(\d{4}-\d{2}-\d{2})$")


class RecordingError(FetchError):
    """A replay cannot answer: the recording lacks the response, or a recorded file cannot be read.

    Replay handlers do not know which source asks, so the message has no source prefix; the runner
    records it as the asking source's failure, and an adapter that tolerates one failing page
    (a euro-access call page) tolerates a page missing from the recording the same way.
    """

    def __init__(self, message: str) -> None:
        self.source = ""
        RuntimeFailure.__init__(self, message)


def read_recorded(path: Path) -> bytes:
    """The bytes of a recorded file; RecordingError naming it when it cannot be read (a folder named
    like a recording, a link in a loop, a file without read permission)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RecordingError(f"{path} cannot be read ({reason}); record it again or replay another "
                             "folder") from None


def _read_json(path: Path, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:100] or type(exc).__name__
        raise RecordingError(f"{path} is not valid JSON ({detail}); record it again or replay another "
                             "folder") from None


def _listed(result: Any, field: str) -> list[Any]:
    meta = result.get("metadata") if isinstance(result, dict) else None
    value = meta.get(field) if isinstance(meta, dict) else None
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]


class ReplayTransport(httpx.BaseTransport):
    """An httpx transport answering from recordings: the first handler that returns a response wins."""

    def __init__(self, handlers: Sequence[ReplayHandler]) -> None:
        self.handlers = list(handlers)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        for handler in self.handlers:
            response = handler(request)
            if response is not None:
                return response
        # a missing response is the recording's gap, not a failing source: no "try again later"
        raise RecordingError(f"no recording answers {request.method} {request.url}: it is not in the "
                             "recording")


def multipart_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (the standard library's MIME parser, with its
    compat32 policy: the default policies' header objects made parsing a search request cost as much
    as the JSON of the page it asks for)."""
    if "multipart/" not in content_type:
        return {}
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    fields: dict[str, bytes] = {}
    for part in message.get_payload() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            fields[str(email.utils.collapse_rfc2231_value(name))] = \
                payload if isinstance(payload, bytes) else b""
    return fields


def _filters(query: Any) -> list[tuple[str, set[str]]]:
    """(field, accepted values) for each ``terms``/``term`` clause of a bool query's ``must``."""
    out = []
    clauses = query.get("bool", {}).get("must", []) if isinstance(query, dict) else []
    for clause in clauses:
        for kind in ("terms", "term"):
            for field, values in (clause.get(kind) or {}).items():
                accepted = values if isinstance(values, list) else [values]
                out.append((field, {str(v) for v in accepted}))
    return out


def find_search_recording(recording_dir: Path) -> Path | None:
    """The SEDIA recording to serve: ``recording_dir`` itself if it holds pages, else the newest
    ``search_<date>`` folder holding pages in it or in its ``eu_ft/`` subfolder (a dated folder made
    for a recording that never came is passed over: taken, it stopped the replay with a traceback)."""
    if any(recording_dir.glob("page_*.json")):
        return recording_dir
    for folder in (recording_dir / "eu_ft", recording_dir):
        if folder.is_dir():
            dated = sorted(p for p in folder.iterdir() if p.is_dir() and _SEARCH_DIR.match(p.name)
                           and any(p.glob("page_*.json")))
            if dated:
                return dated[-1]
    return None


def recording_date(folder: Path) -> date | None:
    """The date in a ``search_YYYY-MM-DD`` folder name."""
    match = _SEARCH_DIR.match(folder.name)
    return date.fromisoformat(match.group(1)) if match else None


class SediaSearchRecording:
    """A recorded SEDIA search result set, answered page by page like the live API.

    A recorded page is a response: a request the recording was made with (its query selects every
    recorded result, at the recorded page size) is answered with that page's file, bytes as they are,
    so a recording that declares more results than it holds makes the run stop where the live API
    would. A narrower query is answered from the recorded results that match it, filtered once per
    query; its ``totalResults`` counts the matches plus every declared result the recording lacks
    (any of them might match), so a lacking recording never reads as complete. A page the recording
    lacks raises :class:`RecordingError` "not in the recording <folder>"; an unreadable page file
    raises it naming the file, when the first request reads the recording.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths = sorted(folder.glob("page_*.json"))
        if not self.paths:
            raise FileNotFoundError(f"no page_*.json in {folder}")
        self._bodies: list[bytes] = []
        self._results: list[dict[str, Any]] = []
        self._envelope: dict[str, Any] = {}
        self._declared = self._page_size = 0
        self._matches: dict[str, list[dict[str, Any]]] = {}
        self._facets: dict[str, Any] | None = None

    def _load(self) -> None:
        """Read every page once; RecordingError naming the first file that is not a search page."""
        if self._bodies:
            return
        bodies, results = [], []
        for path in self.paths:
            body = read_recorded(path)  # a folder named page_001.json, a file without read permission
            data = _read_json(path, body)
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise RecordingError(f"{path} has no 'results' list; it is not a recorded search page, "
                                     "record it again or replay another folder")
            if path == self.paths[0]:
                total, size = data.get("totalResults"), data.get("pageSize")
                if not isinstance(total, int) or isinstance(total, bool) or total < 0:
                    raise RecordingError(f"{path} has no valid 'totalResults'; it is not a recorded search "
                                         "page, record it again or replay another folder")
                self._envelope = {k: v for k, v in data.items() if k != "results"}
                self._declared = total
                self._page_size = size if isinstance(size, int) and size > 0 else len(data["results"])
            bodies.append(body)
            results.extend(data["results"])
        self._results, self._bodies = results, bodies

    @property
    def results(self) -> list[dict[str, Any]]:
        """Every recorded result, in page order."""
        self._load()
        return self._results

    @property
    def facets(self) -> dict[str, Any]:
        if self._facets is None:
            path = self.folder / "facets.json"
            data = _read_json(path, read_recorded(path)) if path.is_file() else {}
            self._facets = data if isinstance(data, dict) else {}
        return self._facets

    def programme_names(self) -> dict[str, str]:
        """frameworkProgramme id → label from ``facets.json`` (URL-decoded, white space normalised)."""
        names = {}
        for item in self.facets.get("frameworkProgramme", []):
            raw, label = str(item.get("rawValue", "")), unquote(str(item.get("value", "")))
            if raw and label and label != raw:
                names[raw] = " ".join(label.split())
        return names

    def matching(self, query: Any) -> list[dict[str, Any]]:
        """The recorded results that ``query``'s filters keep (computed once per query)."""
        key = json.dumps(query, sort_keys=True, default=str)
        if key not in self._matches:
            filters = _filters(query)
            self._matches[key] = [r for r in self.results if all(
                values & set(_listed(r, field)) for field, values in filters)]
        return self._matches[key]

    def page(self, query: Any, page_number: int, page_size: int) -> dict[str, Any]:
        """Page ``page_number`` of ``query``'s matches; RecordingError when the recording lacks it."""
        matched = self.matching(query)
        unrecorded = max(0, self._declared - len(self.results))
        start = (page_number - 1) * page_size
        if len(matched) <= start < len(matched) + unrecorded:
            raise RecordingError(f"page {page_number} of the search is not in the recording {self.folder} "
                                 f"(it declares {self._declared} results and holds {len(self.results)})")
        return {**self._envelope, "totalResults": len(matched) + unrecorded, "pageNumber": page_number,
                "pageSize": page_size, "results": matched[start:start + page_size]}

    def response(self, query: Any, page_number: int, page_size: int) -> bytes:
        """The body answering one search request: the recorded page file when the request is the
        recorded one, else :meth:`page` as compact JSON."""
        matched = self.matching(query)
        if (len(matched) == len(self.results) and page_size == self._page_size
                and 1 <= page_number <= len(self._bodies)):
            return self._bodies[page_number - 1]
        return json.dumps(self.page(query, page_number, page_size), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")

    def answer(self, content_type: str, body: bytes, params: dict[str, str]) -> tuple[int, bytes]:
        """(status, JSON body) for one search request: its query string params and multipart body."""
        try:
            fields = multipart_fields(content_type, body)
            query = json.loads(fields["query"]) if "query" in fields else {}
            page_number = int(params.get("pageNumber", "1"))
            page_size = int(params.get("pageSize", "50"))
            if page_number < 1 or page_size < 1:
                raise ValueError(f"pageNumber {page_number} and pageSize {page_size} must be positive")
        except (ValueError, KeyError) as exc:
            return 400, json.dumps({"error": f"bad search request: {exc}"}).encode()
        return 200, self.response(query, page_number, page_size)

    def handler(self, search_url: str) -> ReplayHandler:
        """A replay handler answering POSTs to ``search_url`` (any query string)."""
        target = httpx.URL(search_url)

        def handle(request: httpx.Request) -> httpx.Response | None:
            if (request.url.host, request.url.path) != (target.host, target.path):
                return None
            status, payload = self.answer(request.headers.get("content-type", ""), request.content,
                                          dict(request.url.params))
            return httpx.Response(status, content=payload,
                                  headers={"content-type": "application/json;charset=UTF-8"})

        return handle


def file_replay(recording_dir: Path, name: str, url: str, suffixes: tuple[str, ...], content_type: str,
                ) -> Callable[[httpx.Request], httpx.Response | None] | None:
    """A replay handler answering ``url`` with ``recording_dir/<name><suffix>`` if it exists."""
    candidates = [recording_dir / f"{name}{suffix}" for suffix in suffixes]
    recording = next((path for path in candidates if path.is_file()), None)
    if recording is None:
        return None
    target = httpx.URL(url)

    def handle(request: httpx.Request) -> httpx.Response | None:
        if (request.url.host, request.url.path) != (target.host, target.path):
            return None
        return httpx.Response(200, content=read_recorded(recording), headers={"content-type": content_type})

    return handle
