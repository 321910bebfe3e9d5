"""Opening paths below a store root without following symbolic links out of it.

A store owns the tree below its root: a symbolic link planted there (a trace file, a
shard, a marker, a staging directory) must never make the store read or write outside
it. The root itself may be a symbolic link (it is the user's choice of a place).

:func:`open_below` opens a path one component at a time from a descriptor of the root,
each directory with ``O_NOFOLLOW`` relative to its parent's descriptor, so no component
can be swapped for a link between a check and the use. :func:`check_below` checks an
existing path component by component (``lstat``) for the operations that go through
path names (renames, removals, directory listings).

Both raise :class:`OSError` with ``errno.ELOOP`` naming the offending path, which the
stores report like any other file-system failure (a ``StoreFailure`` naming the path).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import IO

__all__ = [
    "LINK_REFUSED",
    "check_below",
    "open_below",
    "open_nofollow",
    "read_nofollow",
    "refused_link",
]

LINK_REFUSED = "a symbolic link below the store root is not followed"
"""The reason given when a link is refused."""

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def refused_link(path: Path) -> OSError:
    """The error for a symbolic link found at ``path``."""
    return OSError(errno.ELOOP, LINK_REFUSED, str(path))


def _parts(root: Path, path: Path) -> tuple[str, ...]:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        msg = f"{path} is not below the store root {root}"
        raise OSError(errno.EXDEV, msg, str(path)) from None
    if not parts or any(part in ("..", ".") for part in parts):
        msg = f"{path} does not name an entry below the store root {root}"
        raise OSError(errno.EINVAL, msg, str(path))
    return parts


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=directory).st_mode)
    except OSError:
        return False


def _open_directory(name: str, parent: int, path: Path, *, create: bool) -> int:
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, parent):
            raise refused_link(path) from None
        raise
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=parent)
    return _open_directory(name, parent, path, create=False)


def open_below(
    root: Path,
    path: Path,
    flags: int,
    mode: int = 0o666,
    *,
    make_parents: bool = False,
) -> int:
    """Open ``path`` (below ``root``) with ``flags``, following no link below ``root``.

    Args:
        root: The store root (may itself be a symbolic link).
        path: The file or directory to open, below ``root``.
        flags: ``os.open`` flags (``O_NOFOLLOW`` is added).
        mode: The mode of a created file.
        make_parents: Create missing directories between ``root`` and ``path``.

    Returns:
        The descriptor (the caller closes it).

    Raises:
        OSError: ``ELOOP`` naming the link when a component is a symbolic link, or
            the file system's error.
    """
    parts = _parts(root, path)
    if make_parents:
        root.mkdir(parents=True, exist_ok=True)
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        walked = root
        for name in parts[:-1]:
            walked /= name
            inner = _open_directory(name, directory, walked, create=make_parents)
            os.close(directory)
            directory = inner
        try:
            return os.open(parts[-1], flags | os.O_NOFOLLOW, mode, dir_fd=directory)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EEXIST) and _is_link(
                parts[-1], directory
            ):
                raise refused_link(path) from None
            raise
    finally:
        os.close(directory)


def check_below(root: Path, path: Path) -> None:
    """Check that no existing component of ``path`` below ``root`` is a symbolic link.

    Components that do not exist (yet) are fine.

    Raises:
        OSError: ``ELOOP`` naming the first link found.
    """
    walked = root
    for name in _parts(root, path):
        walked /= name
        try:
            if stat.S_ISLNK(os.lstat(walked).st_mode):
                raise refused_link(walked)
        except FileNotFoundError:
            return
        except NotADirectoryError:
            return


def read_nofollow(path: Path) -> bytes:
    """The bytes of the file ``path``, refusing a symbolic link at ``path`` itself.

    Raises:
        OSError: ``ELOOP`` naming ``path`` when it is a link, or the file system's error.
    """
    with open_nofollow(path) as handle:
        return handle.read()


def open_nofollow(path: Path) -> IO[bytes]:
    """``path`` opened for binary reading, refusing a symbolic link at ``path`` itself.

    Raises:
        OSError: ``ELOOP`` naming ``path`` when it is a link, or the file system's error.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refused_link(path) from None
        raise
    return os.fdopen(descriptor, "rb")
