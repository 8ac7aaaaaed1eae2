"""Writing a file so that readers see the old content or the new, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.core.errors import ValidationError

NEW_FILE_MODE = 0o644


def require_file_target(path: Path, example: str) -> None:
    """Refuse, before any work, a ``path`` that names a folder or lies in a folder that is not there:
    a mistyped folder is an error to fix, never a tree of folders made for it. ``example`` is a file
    name the message suggests."""
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give a file name such as {example}")
    if not path.parent.exists():
        raise ValidationError(f"folder {path.parent} does not exist; create it or give a file in an "
                              "existing folder")


def write_atomically(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` in one step: write a temporary file in the same folder (a rename is
    atomic only within one file system), fsync it, then ``os.replace`` it over the target. A crash
    leaves the old file whole, and the temporary file is removed when the write fails. Text is written
    as UTF-8 exactly as given (no newline translation). The file keeps its permission bits; a new one
    gets 0o644 (``mkstemp`` would leave 0o600)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and not path.is_file():
        # a rename over /dev/null or a named pipe would put a file where the device was
        raise ValidationError(f"{path} is not a regular file; give a file name such as deadlines.ics")
    mode = path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:  # a read-only folder, /proc, a folder that is gone
        raise ValidationError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); give a path in "
                              "a folder you can write to") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: the old file is left whole
        Path(tmp).unlink(missing_ok=True)
        raise ValidationError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); the old file "
                              "is unchanged") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
