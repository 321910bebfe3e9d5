"""Dataset stores: datasets by id with compare-and-swap revisions (spec §1.16).

Both stores implement :class:`~awaken_eval.DatasetStore`. A dataset that was never
written has the implicit revision 0, so the first ``put`` passes
``expected_revision=0`` and stores revision 1; every later ``put`` must name the
revision it read, or it fails with :class:`~awaken_eval.Conflict`
(``revision conflict: expected X, actual Y``) and nothing changes. Every write is
validated first (unique fixture ids, judge score ranges).

* :class:`InMemoryDatasetStore` keeps datasets in a dictionary.
* :class:`FileDatasetStore` keeps one JSON document per dataset in a directory, in the
  reference's record envelope ``{"spec": DatasetSpec, "meta": {"revision": N}}``.
  Writes are atomic (:func:`~awaken_eval._io.atomic.write_atomic`: temporary file,
  fsync, rename, directory fsync) and serialized across processes by
  an exclusive lock on ``<root>/.lock``, so two processes can never both win one
  revision.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import attrs

from awaken_eval._io.atomic import write_bytes_atomic
from awaken_eval._io.below import open_below, read_nofollow
from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.rules import validate_dataset_for_write
from awaken_eval._records.store import DatasetRecord
from awaken_eval._records.types import U64
from awaken_eval.errors import Conflict, InvalidInput, InvalidRequest, NotFound, StoreFailure

__all__ = [
    "FileDatasetStore",
    "InMemoryDatasetStore",
    "validate_dataset_id",
]


def validate_dataset_id(dataset_id: str) -> str:
    """Return ``dataset_id`` if it can name a dataset (the run-id rules).

    Raises:
        InvalidRequest: for an empty id, ``.``, ``..``, or an id containing ``/``,
            ``\\`` or NUL, or a lone surrogate.
    """
    if not dataset_id or dataset_id in {".", ".."} or any(c in dataset_id for c in "/\\\0"):
        msg = f"invalid dataset id {dataset_id!r}: must be non-empty, not . or .., without / \\ NUL"
        raise InvalidRequest(msg)
    try:
        dataset_id.encode()
    except UnicodeEncodeError:
        msg = f"invalid dataset id {dataset_id!r}: must not contain a lone surrogate"
        raise InvalidRequest(msg) from None
    return dataset_id


def _stale(expected: int, actual: int) -> Conflict:
    return Conflict(f"revision conflict: expected {expected}, actual {actual}")


class InMemoryDatasetStore:
    """Datasets in a dictionary; for tests and embedded use."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._records: dict[str, DatasetRecord] = {}
        self._lock = anyio.Lock()

    async def get(self, dataset_id: str) -> DatasetRecord:
        """Load ``dataset_id``.

        Raises:
            NotFound: ``dataset not found: <id>``.
        """
        try:
            return self._records[dataset_id]
        except KeyError:
            msg = f"dataset not found: {dataset_id}"
            raise NotFound(msg) from None

    async def put(self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int) -> int:
        """Store ``spec`` if the stored revision is ``expected_revision``; return the new one.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is stored).
            Conflict: the stored revision is not ``expected_revision``.
        """
        validate_dataset_id(dataset_id)
        validate_dataset_for_write(spec)
        async with self._lock:
            current = self._records.get(dataset_id)
            actual = 0 if current is None else current.revision
            if actual != expected_revision:
                raise _stale(expected_revision, actual)
            self._records[dataset_id] = DatasetRecord(spec, actual + 1)
            return actual + 1


@attrs.frozen(kw_only=True)
class _Meta:
    revision: U64 = 0


@attrs.frozen(kw_only=True)
class _Envelope:
    spec: DatasetSpec = attrs.field(factory=DatasetSpec)
    meta: _Meta = attrs.field(factory=_Meta)


class FileDatasetStore:
    """One JSON document per dataset in a directory, written atomically under a lock.

    Args:
        root: The directory (created when missing).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Create the store over ``root``."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, dataset_id: str) -> Path:
        """The file holding ``dataset_id``."""
        return self.root / f"{validate_dataset_id(dataset_id)}.json"

    async def get(self, dataset_id: str) -> DatasetRecord:
        """Load ``dataset_id``.

        Raises:
            NotFound: ``dataset not found: <id>``.
            InvalidInput: the file is not a valid dataset record (with the file and the
                JSON path of every problem).
            StoreFailure: the file could not be read.
        """
        path = self.path_of(dataset_id)
        return await anyio.to_thread.run_sync(self._read, dataset_id, path)

    async def put(self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int) -> int:
        """Store ``spec`` if the stored revision is ``expected_revision``; return the new one.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is written).
            Conflict: the stored revision is not ``expected_revision``.
            StoreFailure: the file could not be written (the old one is intact).
        """
        path = self.path_of(dataset_id)
        validate_dataset_for_write(spec)
        return await anyio.to_thread.run_sync(self._put, dataset_id, path, spec, expected_revision)

    def _read(self, dataset_id: str, path: Path) -> DatasetRecord:
        from awaken_eval._wire.converter import from_json  # noqa: PLC0415

        try:
            text = read_nofollow(path)
        except FileNotFoundError:
            msg = f"dataset not found: {dataset_id}"
            raise NotFound(msg) from None
        except OSError as exc:
            msg = f"could not read dataset {dataset_id} from {path}: {exc.strerror or exc}"
            raise StoreFailure(msg) from exc
        try:
            envelope = from_json(_Envelope, text)
        except InvalidInput as exc:
            raise exc.located(source=str(path)) from None
        return DatasetRecord(envelope.spec, envelope.meta.revision)

    def _put(self, dataset_id: str, path: Path, spec: DatasetSpec, expected: int) -> int:
        from awaken_eval._wire.converter import to_json  # noqa: PLC0415

        with self._locked():
            try:
                actual = self._read(dataset_id, path).revision
            except NotFound:
                actual = 0
            if actual != expected:
                raise _stale(expected, actual)
            revision = actual + 1
            body = to_json(_Envelope(spec=spec, meta=_Meta(revision=revision)), pretty=True)
            self._replace(path, body.encode() + b"\n")
            return revision

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.root / ".lock"
        try:
            descriptor = open_below(self.root, lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            msg = f"could not open the dataset store lock {lock}: {exc.strerror or exc}"
            raise StoreFailure(msg) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    def _replace(self, path: Path, data: bytes) -> None:
        try:
            write_bytes_atomic(path, data)
        except OSError as exc:
            msg = f"could not write dataset file {path}: {exc}"
            raise StoreFailure(msg) from exc
