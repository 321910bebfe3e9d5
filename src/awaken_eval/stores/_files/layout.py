"""Where a file store keeps things: month shards, run files, write-once markers.

The layout is the reference implementation's, so a directory written by either one is
read by the other::

    <root>/eval_runs/                         created on construction
    <root>/eval_runs/YYYY-MM/<run_id>.json    one run; the shard is the UTC year-month
                                              of its started_at_secs
    <root>/eval_runs/.ids/<run_id>            write-once marker (content: final path)
    <root>/eval_runs/<dir>/.<name>.<pid>.<random>.tmp   transient temp files

Every directory under ``eval_runs`` whose name starts with ``.`` is internal, and
every name starting with ``.`` and ending in ``.tmp`` is a temp file of
:func:`~awaken_eval._io.atomic.write_atomic` (ignored by reads and listings).

Nothing below the root is followed through a symbolic link (the root itself may be
one): a linked shard is skipped by listings and refused by writes, a linked run file,
marker, journal or staging directory is a :class:`~awaken_eval.errors.StoreFailure`
naming the path (see :mod:`awaken_eval._io.below`).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import logging
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from awaken_eval._io.atomic import write_bytes_atomic
from awaken_eval._io.below import LINK_REFUSED, check_below, read_nofollow
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.rules import validate_unique_item_keys
from awaken_eval._records.runs import EvalRun
from awaken_eval._wire.converter import from_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.json import loads_strict
from awaken_eval.errors import (
    AlreadyExists,
    AwakenEvalError,
    DuplicateItemKeys,
    InvalidExecutionShape,
    InvalidInput,
    InvalidRunId,
    StoreFailure,
)

__all__ = [
    "HEADER",
    "ITEMS",
    "LOG",
    "SUFFIX",
    "Layout",
    "decode_run",
    "io_failure",
    "load_document",
    "load_valid",
    "parse_run",
    "raw_identity",
    "shard_of",
    "unlink_quietly",
]

LOG = logging.getLogger("awaken_eval.stores")
"""The logger of skipped files (``awaken_eval.stores``)."""

_RUNS = "eval_runs"
_IDS = ".ids"
_OPEN = ".open"
_STAGING = ".staging"

HEADER = "header.json"
"""The name of an open run's header file in its journal directory."""

ITEMS = "items.ndjson"
"""The name of an open run's items file in its journal directory."""

SUFFIX = ".json"
"""The suffix of a run file."""


def shard_of(started_at_secs: int) -> str:
    """The ``YYYY-MM`` shard (UTC) of a run started at ``started_at_secs``.

    Civil-from-days arithmetic (proleptic Gregorian), so every u64 has a shard, even
    beyond the years :mod:`datetime` can represent.
    """
    days = started_at_secs // 86_400 + 719_468  # days since 0000-03-01
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153  # 0 = March
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return f"{year:04d}-{month:02d}"


def io_failure(run_id: str, action: str, path: Path, exc: OSError) -> StoreFailure:
    """The store failure of a file-system error, naming the run, the action and the path."""
    reason = LINK_REFUSED if exc.errno == errno.ELOOP else exc.strerror or str(exc)
    return StoreFailure(f"eval run {run_id}: cannot {action} {path}: {reason}")


def unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it is there, ignoring file-system errors (best effort)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class Layout:
    """The paths of a store's ``eval_runs`` directory, and the write-once markers.

    Args:
        root: The store's root directory (absolute).
    """

    def __init__(self, root: Path) -> None:
        """Lay out the store at ``root`` (``root/eval_runs`` is the runs directory)."""
        self.root = root
        self.runs = root / _RUNS

    def below(self, path: Path) -> Path:
        """``path``, checked: no existing component below the root is a symbolic link.

        Raises:
            StoreFailure: naming the link.
        """
        try:
            check_below(self.root, path)
        except OSError as exc:
            msg = f"{exc.filename}: {exc.strerror or exc}"
            raise StoreFailure(msg) from None
        return path

    def final_path(self, run_id: str, started_at_secs: int) -> Path:
        """The run file of ``run_id`` in its month shard (checked, see :meth:`below`)."""
        return self.below(self.runs / shard_of(started_at_secs) / f"{run_id}{SUFFIX}")

    def marker(self, run_id: str) -> Path:
        """The write-once marker of ``run_id`` (checked, see :meth:`below`)."""
        return self.below(self.runs / _IDS / run_id)

    def journal_dir(self, run_id: str) -> Path:
        """The journal directory of the open run ``run_id`` (checked, see :meth:`below`)."""
        return self.below(self.runs / _OPEN / run_id)

    def new_staging_dir(self) -> Path:
        """A fresh, unique path to stage a journal in (not created; checked)."""
        name = f"{os.getpid()}.{time.time_ns()}.{secrets.token_hex(4)}"
        return self.below(self.runs / _STAGING / name)

    def shards(self) -> builtins.list[Path]:
        """The non-internal shard directories, by name."""
        try:
            with os.scandir(self.runs) as scan:
                entries = list(scan)
        except FileNotFoundError:
            return []
        except OSError as exc:
            msg = f"cannot list {self.runs}: {exc.strerror or exc}"
            raise StoreFailure(msg) from None
        shards = [
            Path(entry.path)
            for entry in entries
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)
        ]
        return sorted(shards)

    def locate(self, run_id: str) -> Path | None:
        """The file of ``run_id`` in the first shard (by name) that has one."""
        name = f"{run_id}{SUFFIX}"
        for shard in self.shards():
            candidate = shard / name
            if os.path.lexists(candidate):
                return self.below(candidate)
        return None

    @staticmethod
    def run_files(shard: Path) -> Iterator[tuple[Path, str]]:
        """Every ``*.json`` entry of a shard with its stem (the run id it must hold)."""
        try:
            names = sorted(entry.name for entry in shard.iterdir())
        except OSError as exc:
            LOG.warning("skipping eval run shard %s: %s", shard, exc.strerror or exc)
            return
        for name in names:
            if name.endswith(SUFFIX):
                yield shard / name, name[: -len(SUFFIX)]

    def ensure_absent(self, run_id: str) -> None:
        """Write-once, before anything is written: no run file and no marker.

        Raises:
            AlreadyExists: when either is there.
        """
        self.below(self.runs)
        if self.locate(run_id) is not None or os.path.lexists(self.marker(run_id)):
            raise AlreadyExists(run_id)

    def take_marker(self, run_id: str, final: Path) -> None:
        """Create the write-once marker (the step that decides a race), naming ``final``.

        Raises:
            AlreadyExists: when another writer holds the marker.
            StoreFailure: when the file system fails.
        """
        marker = self.marker(run_id)
        try:
            write_bytes_atomic(marker, os.fsencode(f"{final}\n"), overwrite=False)
        except FileExistsError:
            raise AlreadyExists(run_id) from None
        except OSError as exc:
            raise io_failure(run_id, "create the marker", marker, exc) from None


# -- reading run files --------------------------------------------------------------------


def parse_run(path: Path, run_id: str, data: bytes) -> Any:
    """The parsed JSON of a run file.

    Raises:
        StoreFailure: when it is not JSON (naming the run and the file).
    """
    try:
        with gc_paused():
            return loads_strict(data)
    except (ValueError, RecursionError) as exc:
        msg = f"eval run {run_id} is corrupt ({path}): invalid JSON: {exc}"
        raise StoreFailure(msg) from None


def decode_run(path: Path, stem: str, document: Any) -> EvalRun:
    """Build and validate the run of ``path`` (whose name is ``<stem>.json``).

    Raises:
        InvalidExecutionShape: when the items disagree with the mode.
        StoreFailure: when the document is not a valid run.
        InvalidRunId: when it holds an invalid run id or another one than ``stem``.
        DuplicateItemKeys: when two items share a key.
    """
    try:
        run = from_builtins(EvalRun, document)
    except InvalidExecutionShape as exc:
        raise exc.located(source=str(path)) from None
    except InvalidInput as exc:
        msg = f"eval run {stem} is corrupt ({path}): {exc}"
        raise StoreFailure(msg) from None
    try:
        validate_run_id(run.id)
    except InvalidRunId as exc:
        reason = f"{path} holds the invalid run id {run.id!r} ({exc.reason})"
        raise InvalidRunId(stem, reason) from None
    if run.id != stem:
        reason = f"{path} holds eval run {run.id!r}; the file name and the run id differ"
        raise InvalidRunId(stem, reason)
    try:
        validate_unique_item_keys(run.items)
    except DuplicateItemKeys as exc:
        raise DuplicateItemKeys(f"eval run {stem} ({path}): {exc.message}") from None
    return run


def load_document(path: Path, stem: str) -> Any | None:
    """The parsed JSON of a run file, or ``None`` (with a warning) when unusable."""
    try:
        data = read_nofollow(path)
    except FileNotFoundError:
        return None  # removed meanwhile
    except OSError as exc:
        LOG.warning("skipping unreadable eval run file %s: %s", path, exc.strerror or exc)
        return None
    try:
        return parse_run(path, stem, data)
    except StoreFailure as exc:
        LOG.warning("skipping eval run file %s: %s", path, exc)
        return None


def load_valid(path: Path, stem: str, document: Any) -> EvalRun | None:
    """The validated run of a parsed file, or ``None`` (with a warning)."""
    try:
        return decode_run(path, stem, document)
    except AwakenEvalError as exc:
        LOG.warning("skipping eval run file %s: %s", path, exc)
        return None


def raw_identity(document: Any) -> tuple[str, int] | None:
    """``(dataset_id, started_at_secs)`` of a parsed run document, if well typed."""
    if type(document) is not dict:
        return None
    dataset_id = document.get("dataset_id")
    started_at = document.get("started_at_secs")
    if type(dataset_id) is not str or type(started_at) is not int:
        return None
    return dataset_id, started_at
