"""The selected strategy as a listing needs it, kept beside the config cache so that reading it imports
no pydantic (library).

``calls list`` needs the selected strategy's name and focus areas, and for the stored-scores note what
its scores are computed from (the focus areas as analysed, the rules' identity). Importing pydantic and
building the config models is a third of what the command takes; the validation itself is a
millisecond. So those values are kept in ``data/cache/view/`` (:func:`pipeline.core.config_cache.keep`)
under everything they are computed from: the bytes and paths of every file the config is read from,
the selected strategy's name, the source of the code that reads, validates and hashes the config, the
installed pydantic and snowballstemmer releases and Python's version. A value is only ever kept from
a config that loaded and validated (:func:`pipeline.core.config.load_config`), and only when none of
that changed while it loaded, so a file with a problem gives its error as it always did and any other
file, code or release is another entry. When a release cannot be told (nor the files read) nothing
is kept and the config is loaded as before.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core import config_cache
from pipeline.core.config_files import resolve_funding_rules_path, strategy_files, strategy_path
from pipeline.core.errors import FundradarError

if TYPE_CHECKING:
    from pipeline.core.config import LoadedConfig

_ROOT = Path(__file__).resolve().parent.parent
# what the values depend on besides the files: reading, validating and hashing the config
VIEW_CODE = tuple(_ROOT / name for name in (
    "pipeline/config_view.py", "pipeline/core/config.py", "pipeline/core/config_files.py",
    "pipeline/core/config_strategy.py", "pipeline/core/config_funding.py", "pipeline/core/config_cache.py",
    "pipeline/core/yaml.py", "pipeline/core/call_phrases.py", "classifiers/freshness.py",
    "classifiers/rules.py", "classifiers/funding.py", "classifiers/text.py", "classifiers/query.py"))
RELEASES = ("pydantic", "pydantic_core", "snowballstemmer")


@dataclass(frozen=True)
class StrategyView:
    name: str
    focus_areas: tuple[str, ...]  # in the file's order
    path: Path  # the file the strategy was read from
    analysed: str  # classifiers.freshness.analysed_focus_areas
    rules_hash: str  # classifiers.freshness.rules_hash


def view_of(config: LoadedConfig) -> StrategyView:
    """The selected strategy of a loaded config."""
    from classifiers.freshness import analysed_focus_areas, rules_hash

    return StrategyView(config.strategy.name, tuple(config.strategy.focus_areas), config.strategy_path,
                        analysed_focus_areas(config), rules_hash(config))


def strategy_view(config_path: str | None, strategy: str | None,
                  load: Callable[[], LoadedConfig]) -> StrategyView:
    """The selected strategy of the config ``--config`` and ``--strategy`` name: kept from an earlier
    command when the files, the code and the releases are the same, else from ``load()``."""
    key = _key(config_path, strategy)
    text = config_cache.kept("view", key) if key is not None else None
    if text is None:
        view = view_of(load())
        # kept only when no file changed while it loaded: the entry must be what its key names
        if key is not None and _key(config_path, strategy) == key:
            config_cache.keep("view", key, json.dumps(_plain(view)))
        return view
    data = json.loads(text)
    return StrategyView(data["name"], tuple(data["focus_areas"]), Path(data["path"]), data["analysed"],
                        data["rules_hash"])


def _plain(view: StrategyView) -> dict[str, object]:
    return {"name": view.name, "focus_areas": list(view.focus_areas), "path": str(view.path),
            "analysed": view.analysed, "rules_hash": view.rules_hash}


def _key(config_path: str | None, strategy: str | None) -> str | None:
    """Everything the view is computed from, as one text; None when part of it cannot be told (then
    loading the config says what is wrong, or computes it)."""
    releases = [_release(name) for name in RELEASES]
    if None in releases:
        return None
    digest = hashlib.sha256()
    try:
        resolved = strategy_path(config_path)
        folder = resolved if resolved.is_dir() else None
        files = strategy_files(resolved) if folder is not None else [resolved]
        files.append(resolve_funding_rules_path(None, folder))
        for path in (*VIEW_CODE, *files):
            data = path.read_bytes()
            digest.update(f"{path}\0{len(data)}\0".encode())
            digest.update(data)
    except (OSError, FundradarError):
        return None
    return "\0".join(("view 1", digest.hexdigest(), strategy or "", *releases, sys.version))  # type: ignore[arg-type]


def _release(name: str) -> str | None:
    """``name-1.2.3.dist-info`` of an installed distribution, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent.parent
    found = sorted(p.name for p in folder.glob(f"{name}-*.dist-info"))
    return found[0] if len(found) == 1 else None
