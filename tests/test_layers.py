"""The floor plan, pinned: imports only go down.

- ``pipeline.core`` (the ground floor) imports nothing of ours outside itself;
- ``watcher`` and ``classifiers`` import only ``pipeline.core`` of the rest, and never each other;
- only ``pipeline.sync``, ``pipeline.serve`` and ``pipeline.cli`` import ``watcher``;
- a CLI command module (``pipeline/cli/*_cmd.py``) imports ``pipeline.cli.common`` and the library,
  never another command module.

Every import counts, also those inside functions (the lazy ones) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "watcher", "classifiers")
WATCHER_USERS = ("pipeline.sync", "pipeline.serve", "pipeline.cli")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from pipeline.core import clock" imports the module pipeline.core.clock
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violation(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``; None when it may."""
    ours, theirs = importer.split(".")[0], imported.split(".")[0]
    if theirs not in PACKAGES or (theirs == ours and ours != "pipeline"):
        return None  # a third-party module, or watcher/classifiers within themselves
    if within(importer, "pipeline.core") and not within(imported, "pipeline.core"):
        return "pipeline.core imports nothing of ours outside itself"
    if within(importer, "watcher") or within(importer, "classifiers"):
        if not within(imported, "pipeline.core"):
            return f"{importer.split('.')[0]} imports only pipeline.core of the rest"
    if within(imported, "watcher") and importer.startswith("pipeline") and not any(
            within(importer, user) for user in WATCHER_USERS):
        return "only pipeline.sync, pipeline.serve and pipeline.cli import watcher"
    if within(importer, "pipeline.cli") and importer.endswith("_cmd"):
        if within(imported, "pipeline.cli") and not within(imported, "pipeline.cli.common"):
            return "a CLI command module imports pipeline.cli.common, never another command module"
    return None


def violations(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts[:3] and "versions" in path.parts:
                continue  # migrations are frozen history of the schema
            importer = module_name(root, path)
            for line, imported in imports_of(path, importer):
                why = violation(importer, imported)
                if why:
                    found.append(f"{path.relative_to(root)}:{line}: imports {imported}: {why}")
    return found


def test_the_tree_keeps_the_import_rules() -> None:
    assert violations(ROOT) == []


def test_a_deliberate_violation_is_caught(tmp_path: Path) -> None:
    files = {
        "pipeline/__init__.py": "",
        "pipeline/core/__init__.py": "",
        "pipeline/core/clock.py": "from pipeline.notify import digest\n",
        "pipeline/calls.py": "def f():\n    import watcher.store\n",
        "pipeline/sync.py": "import watcher.store\nfrom classifiers import scoring\n",
        "pipeline/cli/__init__.py": "",
        "pipeline/cli/common.py": "",
        "pipeline/cli/calls_cmd.py": "from pipeline.cli.common import state\n"
                                     "from pipeline.cli import ideas_cmd\n",
        "watcher/__init__.py": "",
        "watcher/store.py": "from pipeline.core.models import Call\nfrom .sources import x\n",
        "watcher/sedia.py": "from classifiers.funding import normalise_whitespace\n",
        "classifiers/__init__.py": "",
        "classifiers/rules.py": "from pipeline.calls import next_deadline\nfrom . import funding\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "pipeline/calls.py:2: imports watcher.store: only pipeline.sync, pipeline.serve and pipeline.cli "
        "import watcher",
        "pipeline/cli/calls_cmd.py:2: imports pipeline.cli.ideas_cmd: a CLI command module imports "
        "pipeline.cli.common, never another command module",
        "pipeline/core/clock.py:1: imports pipeline.notify.digest: pipeline.core imports nothing of ours "
        "outside itself",
        "watcher/sedia.py:1: imports classifiers.funding.normalise_whitespace: watcher imports only "
        "pipeline.core of the rest",
        "classifiers/rules.py:1: imports pipeline.calls.next_deadline: classifiers imports only "
        "pipeline.core of the rest",
    ]
