"""Dataset stores: datasets by id with compare-and-swap revisions (spec §1.16).

Both stores implement :class:`~awaken_eval.protocols.DatasetStore` and
:class:`~awaken_eval.protocols.DatasetLister`. ``put(..., expected_revision=None)``
creates a dataset at revision 0 (:class:`~awaken_eval.Conflict` ``dataset already
exists: <id>`` when it exists); every later ``put`` must name the revision it read and
stores that + 1, or it fails with :class:`~awaken_eval.Conflict` (``revision conflict:
expected X, actual Y``) and nothing changes. A missing dataset counts as revision 0 for
a compare-and-swap (the reference's ``put`` with ``expected_revision`` 0 creates). Every
write is validated first (unique fixture ids, judge score ranges).

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
from typing import TypeVar

import anyio
import attrs

from awaken_eval._io.atomic import write_bytes_atomic
from awaken_eval._io.below import open_below, read_nofollow
from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.rules import validate_dataset_for_write
from awaken_eval._records.store import DatasetRecord, DatasetSummary
from awaken_eval._records.types import U64
from awaken_eval.errors import Conflict, InvalidInput, InvalidRequest, NotFound, StoreFailure

T = TypeVar("T")

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


def stale_revision(expected: int, actual: int) -> Conflict:
    return Conflict(f"revision conflict: expected {expected}, actual {actual}")


def next_revision(dataset_id: str, current: int | None, expected: int | None) -> int:
    """The revision a write stores, given the ``current`` one (``None``: missing).

    Raises:
        Conflict: creating an existing dataset, or ``expected`` is stale.
        NotFound: replacing a missing dataset with ``expected`` > 0.
    """
    if expected is None:
        if current is not None:
            msg = f"dataset already exists: {dataset_id}"
            raise Conflict(msg)
        return 0
    if current is None:
        if expected != 0:
            msg = f"dataset not found: {dataset_id}"
            raise NotFound(msg)
        return 1
    if current != expected:
        raise stale_revision(expected, current)
    return current + 1


def check_delete(current: int | None, expected: int | None) -> None:
    """Refuse a compare-and-swap delete whose ``expected`` revision is stale.

    Raises:
        Conflict: ``expected`` is given and the dataset exists at another revision.
    """
    if expected is not None and current is not None and current != expected:
        raise stale_revision(expected, current)


def summarize(dataset_id: str, record: DatasetRecord) -> DatasetSummary:
    """The listing row of ``record``."""
    return DatasetSummary(
        id=dataset_id,
        description=record.spec.description,
        fixture_count=len(record.spec.fixtures),
        revision=record.revision,
    )


def page(rows: list[T], offset: int, limit: int | None) -> list[T]:
    """``rows[offset:offset + limit]`` (all from ``offset`` when ``limit`` is ``None``)."""
    if offset < 0 or (limit is not None and limit < 0):
        msg = f"offset and limit must be >= 0, got {offset} and {limit}"
        raise InvalidRequest(msg)
    return rows[offset:] if limit is None else rows[offset : offset + limit]


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

    async def put(
        self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
    ) -> int:
        """Create (``expected_revision=None``) or compare-and-swap replace; return the revision.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is stored).
            Conflict: the dataset exists (create) or its revision is not ``expected_revision``.
            NotFound: replacing a missing dataset with ``expected_revision`` > 0.
        """
        validate_dataset_id(dataset_id)
        validate_dataset_for_write(spec)
        async with self._lock:
            current = self._records.get(dataset_id)
            revision = next_revision(
                dataset_id, None if current is None else current.revision, expected_revision
            )
            self._records[dataset_id] = DatasetRecord(spec, revision)
            return revision

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        """Delete ``dataset_id`` (nothing when missing).

        Raises:
            Conflict: ``expected_revision`` is given and stale.
        """
        async with self._lock:
            current = self._records.get(dataset_id)
            check_delete(None if current is None else current.revision, expected_revision)
            self._records.pop(dataset_id, None)

    async def list_datasets(
        self, *, offset: int = 0, limit: int | None = None
    ) -> list[DatasetSummary]:
        """The datasets sorted by id, from ``offset``, at most ``limit``."""
        rows = [summarize(key, self._records[key]) for key in sorted(self._records)]
        return page(rows, offset, limit)


@attrs.frozen(kw_only=True)
class _Meta:
    revision: U64  # no default: revision 0 is written out, as the reference does


@attrs.frozen(kw_only=True)
class _Envelope:
    spec: DatasetSpec = attrs.field(factory=DatasetSpec)
    meta: _Meta


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

    async def put(
        self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
    ) -> int:
        """Create (``expected_revision=None``) or compare-and-swap replace; return the revision.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is written).
            Conflict: the dataset exists (create) or its revision is not ``expected_revision``.
            NotFound: replacing a missing dataset with ``expected_revision`` > 0.
            StoreFailure: the file could not be written (the old one is intact).
        """
        path = self.path_of(dataset_id)
        validate_dataset_for_write(spec)
        return await anyio.to_thread.run_sync(self._put, dataset_id, path, spec, expected_revision)

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        """Delete ``dataset_id`` (nothing when missing).

        Raises:
            Conflict: ``expected_revision`` is given and stale.
            StoreFailure: the file could not be removed.
        """
        path = self.path_of(dataset_id)
        await anyio.to_thread.run_sync(self._delete, dataset_id, path, expected_revision)

    async def list_datasets(
        self, *, offset: int = 0, limit: int | None = None
    ) -> list[DatasetSummary]:
        """The datasets sorted by id, from ``offset``, at most ``limit``.

        Raises:
            InvalidInput: a dataset file is malformed (naming the file).
            StoreFailure: the directory or a file could not be read.
        """
        return await anyio.to_thread.run_sync(self._list, offset, limit)

    def _list(self, offset: int, limit: int | None) -> list[DatasetSummary]:
        try:
            names = sorted(
                entry.name[: -len(".json")]
                for entry in os.scandir(self.root)
                if entry.name.endswith(".json")
            )
        except OSError as exc:
            msg = f"could not list datasets in {self.root}: {exc.strerror or exc}"
            raise StoreFailure(msg) from exc
        rows: list[DatasetSummary] = []
        for name in page(names, offset, limit):
            try:
                rows.append(summarize(name, self._read(name, self.path_of(name))))
            except NotFound:  # deleted meanwhile
                continue
        return rows

    def _delete(self, dataset_id: str, path: Path, expected: int | None) -> None:
        with self._locked():
            try:
                current: int | None = self._read(dataset_id, path).revision
            except NotFound:
                current = None
            check_delete(current, expected)
            if current is None:
                return
            try:
                path.unlink()
            except FileNotFoundError:
                return
            except OSError as exc:
                msg = f"could not delete dataset file {path}: {exc.strerror or exc}"
                raise StoreFailure(msg) from exc

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

    def _put(self, dataset_id: str, path: Path, spec: DatasetSpec, expected: int | None) -> int:
        from awaken_eval._wire.converter import to_json  # noqa: PLC0415

        with self._locked():
            try:
                current: int | None = self._read(dataset_id, path).revision
            except NotFound:
                current = None
            revision = next_revision(dataset_id, current, expected)
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
