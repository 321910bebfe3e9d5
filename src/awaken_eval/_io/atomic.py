"""Writing a whole file atomically and durably: the one way the project writes files.

Every file is written the same way: an exclusive temp file in the target's directory
(so the final step never crosses a file system), the content written, flushed and
fsynced, then moved into place, and the directory fsynced so the new name survives a
power loss. A reader sees the old file or the new one, never a partial file; a failure
at any step removes the temp file and leaves the old file untouched.

Two ways to move the temp file into place:

* ``overwrite=True`` renames it over the target (replacing an existing file);
* ``overwrite=False`` hard-links it to the target, which fails with
  :class:`FileExistsError` when the target exists: of two writers of one write-once
  name, exactly one wins.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "append_text",
    "fsync_directory",
    "write_atomic",
    "write_bytes_atomic",
    "write_text_atomic",
]

_CREATE_RETRIES = 5
"""Attempts to create the temp file when its directory is removed meanwhile."""

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
"""An exclusive create that never follows a link planted at the temp name."""

_BUFFER = 1 << 18
"""The write buffer of the temp file (large runs are written in a few hundred calls)."""


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a created, renamed or removed name) to the disk.

    A no-op on Windows, where directories cannot be opened and need no sync.
    """
    if sys.platform == "win32":  # pragma: no cover - not run on POSIX CI
        return
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _create_temp(target: Path) -> tuple[int, Path]:
    """Create an exclusive temp file beside ``target``, creating its directory.

    The directory is created when the create finds it missing; a concurrent clean-up
    may remove an empty directory between ``mkdir`` and the create, so the create is
    retried a few times.
    """
    directory = target.parent
    for attempt in range(_CREATE_RETRIES):
        temp = directory / f".{target.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(temp, _TEMP_FLAGS, 0o666), temp
        except FileExistsError:
            continue  # a name left by another writer: draw another one
        except FileNotFoundError:
            if attempt == _CREATE_RETRIES - 1:
                raise
            directory.mkdir(parents=True, exist_ok=True)
    msg = f"cannot create a temp file in {directory}"
    raise FileExistsError(msg)


def write_atomic(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], object],
    *,
    overwrite: bool = True,
) -> None:
    """Have ``write`` write a file's bytes, then put the file in place atomically.

    Missing parent directories are created.

    Args:
        path: The file to write.
        write: Writes the content to the binary handle it is given (it may write in
            as many calls as it likes; it must not close the handle).
        overwrite: Replace an existing file (rename); when false, the target is
            write-once (hard link) and an existing one is never touched.

    Raises:
        FileExistsError: when ``overwrite`` is false and ``path`` exists.
        OSError: when the file system fails.
        Exception: whatever ``write`` raises. In every case the temp file is removed
            and the previous file (if any) is left as it was.
    """
    target = Path(path)
    descriptor, temp = _create_temp(target)
    try:
        with os.fdopen(descriptor, "wb", buffering=_BUFFER) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            temp.replace(target)
        else:
            os.link(temp, target)
            temp.unlink()  # the link is the file now
        fsync_directory(target.parent)
    except BaseException:
        _remove_quietly(temp)
        raise


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomic`)."""
    write_atomic(path, lambda handle: handle.write(data), overwrite=overwrite)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` atomically as UTF-8 (see :func:`write_atomic`)."""
    write_bytes_atomic(path, text.encode(), overwrite=overwrite)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # the directory vanished or turned read-only
        path.unlink(missing_ok=True)


def append_text(path: str | os.PathLike[str], text: str) -> None:
    """Append ``text`` (UTF-8) to ``path``, creating it, and flush it to the disk.

    For files that other programs append to as well, such as GitHub Actions'
    ``$GITHUB_STEP_SUMMARY``: replacing the file (as :func:`write_atomic` does) would
    drop what another writer appended meanwhile, so the text is appended in one
    ``O_APPEND`` write instead; a reader sees the file without it or with all of it.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        data = text.encode()
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
