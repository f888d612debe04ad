"""Atomic writes for everything under results/ (and the README block): temp file + rename.

Each writer puts the new content in a temporary file in the same folder and `os.replace`s
it over the target, so a crash, an exception or Ctrl-C in the middle of a write leaves the
previous file whole: a reader sees the old file or the new one, never half of either.
The temporary file sits in the target's folder because a rename is only atomic within one
file system.

`WRITTEN` lists every file this process finished writing, so the CLI can say what was
saved when it is interrupted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WRITTEN: list[Path] = []
NEW_FILE_MODE = 0o644  # mkstemp makes 0600 files; results are meant to be read by anyone


@contextmanager
def replacing(path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on a clean exit it replaces `path`.

    On any exception (KeyboardInterrupt included) the temporary file is removed and `path`
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        mode = path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    WRITTEN.append(path)


def write_text(path, text: str) -> Path:
    """Write `text` to `path` atomically; returns `path`."""
    with replacing(path) as temporary:
        temporary.write_text(text)
    return Path(path)


def write_csv(df, path) -> Path:
    """Write a DataFrame as CSV (no index) to `path` atomically; returns `path`."""
    with replacing(path) as temporary:
        df.to_csv(temporary, index=False)
    return Path(path)


def save_figure(fig, path, **savefig_kwargs) -> Path:
    """`fig.savefig` to `path` atomically (the format comes from `path`'s suffix)."""
    path = Path(path)
    with replacing(path) as temporary:
        fig.savefig(temporary, format=path.suffix.lstrip("."), **savefig_kwargs)
    return path
