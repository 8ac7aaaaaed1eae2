"""Answering HTTP requests from recordings, so the real fetch code runs offline.

* :class:`ReplayTransport` is an httpx transport asking a list of handlers (one per source, see an
  adapter's ``replay_handler(recording_dir)``) for a response; a request nobody answers fails like an
  unreachable host, naming the URL.
* :class:`SediaSearchRecording` answers the SEDIA search API from a recording folder laid out like
  ``samples/eu_ft/search_<date>/`` (``page_001.json`` … and ``facets.json``). It behaves like the
  API for what fundradar sends: it reads the multipart ``query`` part, keeps the recorded results that
  match its ``terms`` filters (type, status, frameworkProgramme), and serves page ``pageNumber`` of
  ``pageSize`` results with ``totalResults`` set to the number that matched. The local test server
  uses the same class, so tests and ``fundradar sync --replay`` exercise the same query code.
* :func:`file_replay` answers one URL with a recorded file (a feed, a calendar), for the sources that
  fetch a single document.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

ReplayHandler = Callable[[httpx.Request], httpx.Response | None]
_SEARCH_DIR = re.compile(r"^search_(\d{4}-\d{2}-\d{2})$")


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
        raise httpx.ConnectError(f"no recording answers {request.method} {request.url}", request=request)


def multipart_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (the standard library's MIME parser)."""
    if "multipart/" not in content_type:
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            fields[str(name)] = payload if isinstance(payload, bytes) else b""
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
    ``search_<date>`` folder in it or in its ``eu_ft/`` subfolder."""
    if any(recording_dir.glob("page_*.json")):
        return recording_dir
    for folder in (recording_dir / "eu_ft", recording_dir):
        if folder.is_dir():
            dated = sorted(p for p in folder.iterdir() if p.is_dir() and _SEARCH_DIR.match(p.name))
            if dated:
                return dated[-1]
    return None


def recording_date(folder: Path) -> date | None:
    """The date in a ``search_YYYY-MM-DD`` folder name."""
    match = _SEARCH_DIR.match(folder.name)
    return date.fromisoformat(match.group(1)) if match else None


class SediaSearchRecording:
    """A recorded SEDIA search result set, answered page by page like the live API."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        pages = sorted(folder.glob("page_*.json"))
        if not pages:
            raise FileNotFoundError(f"no page_*.json in {folder}")
        self.results: list[dict[str, Any]] = []
        self.envelope: dict[str, Any] = {}
        for path in pages:
            data = json.loads(path.read_bytes())
            if not self.envelope:
                self.envelope = {k: v for k, v in data.items() if k != "results"}
            self.results.extend(data.get("results") or [])
        facets_path = folder / "facets.json"
        self.facets: dict[str, Any] = json.loads(facets_path.read_bytes()) if facets_path.is_file() else {}

    def programme_names(self) -> dict[str, str]:
        """frameworkProgramme id → label from ``facets.json`` (URL-decoded, white space normalised)."""
        names = {}
        for item in self.facets.get("frameworkProgramme", []):
            raw, label = str(item.get("rawValue", "")), unquote(str(item.get("value", "")))
            if raw and label and label != raw:
                names[raw] = " ".join(label.split())
        return names

    def matching(self, query: Any) -> list[dict[str, Any]]:
        filters = _filters(query)
        return [r for r in self.results
                if all(values & set(r.get("metadata", {}).get(field) or []) for field, values in filters)]

    def page(self, query: Any, page_number: int, page_size: int) -> dict[str, Any]:
        matched = self.matching(query)
        start = (page_number - 1) * page_size
        return {**self.envelope, "totalResults": len(matched), "pageNumber": page_number,
                "pageSize": page_size, "results": matched[start:start + page_size]}

    def answer(self, content_type: str, body: bytes, params: dict[str, str]) -> tuple[int, bytes]:
        """(status, JSON body) for one search request: its query string params and multipart body."""
        try:
            fields = multipart_fields(content_type, body)
            query = json.loads(fields["query"]) if "query" in fields else {}
            page_number = int(params.get("pageNumber", "1"))
            page_size = int(params.get("pageSize", "50"))
        except (ValueError, KeyError) as exc:
            return 400, json.dumps({"error": f"bad search request: {exc}"}).encode()
        data = self.page(query, page_number, page_size)
        return 200, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")

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
        return httpx.Response(200, content=recording.read_bytes(), headers={"content-type": content_type})

    return handle
