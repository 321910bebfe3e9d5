"""Reading and writing the project's files: NDJSON reports and fixture files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar, overload

from awaken_eval._io.atomic import write_bytes_atomic
from awaken_eval._records.fixtures import Fixture
from awaken_eval._wire.converter import from_json, to_json
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import (
    DuplicateFixtureId,
    InputUnreadable,
    InvalidInput,
    OutputUnwritable,
)

__all__ = ["load_directory", "load_fixture", "read_ndjson", "write_ndjson"]

T = TypeVar("T")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputUnreadable(str(path), str(exc)) from None


@overload
def read_ndjson(path: str | os.PathLike[str], cls: type[T]) -> list[T]: ...
@overload
def read_ndjson(path: str | os.PathLike[str], cls: Any) -> list[Any]: ...
def read_ndjson(path: str | os.PathLike[str], cls: Any) -> list[Any]:
    """Read one ``cls`` record per line of an NDJSON file.

    Blank and whitespace-only lines are skipped.

    Raises:
        InputUnreadable: when the file cannot be read.
        InvalidInput: naming the file and the 1-based line of the first bad line.
    """
    source = Path(path)
    records: list[Any] = []
    with gc_paused():
        for number, line in enumerate(_read_text(source).split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(from_json(cls, line))
            except InvalidInput as exc:
                raise exc.located(source=str(source), line=number) from None
    return records


def write_ndjson(path: str | os.PathLike[str], records: Iterable[Any]) -> None:
    """Write one compact JSON line per record, each ending in ``\\n``.

    Missing parent directories are created. The file is replaced atomically: a reader
    sees the old content or the new, never a partial file, and an error while
    serializing or writing leaves the old file untouched (see
    :func:`awaken_eval._io.atomic.write_atomic`).

    Raises:
        InvalidInput: when a record holds what JSON cannot carry (nothing is written).
        OutputUnwritable: when the file system fails (a full disk, no permission).
    """
    with gc_paused():
        data = "".join([to_json(record) + "\n" for record in records]).encode()
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise OutputUnwritable(os.fsdecode(path), exc.strerror or str(exc)) from None


def load_fixture(path: str | os.PathLike[str]) -> Fixture:
    """Load one fixture file.

    Raises:
        InputUnreadable: when the file cannot be read.
        InvalidInput: naming the file and every problem with its JSON path.
    """
    source = Path(path)
    try:
        return from_json(Fixture, _read_text(source))
    except InvalidInput as exc:
        raise exc.located(source=str(source)) from None


def load_directory(path: str | os.PathLike[str]) -> list[Fixture]:
    """Load every fixture of a directory, sorted by id.

    Only regular files whose extension is exactly ``.json`` are read; names starting
    with ``.`` are skipped; subdirectories are not searched. An empty directory gives
    an empty list.

    Raises:
        InputUnreadable: when the directory or a file cannot be read.
        InvalidInput: for the first file that does not parse, naming it.
        DuplicateFixtureId: when two files share a fixture id (naming the second file).
    """
    directory = Path(path)
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise InputUnreadable(str(directory), str(exc)) from None
    by_id: dict[str, Fixture] = {}
    for entry in entries:
        if entry.name.startswith(".") or entry.suffix != ".json" or not entry.is_file():
            continue
        fixture = load_fixture(entry)
        if fixture.id in by_id:
            raise DuplicateFixtureId(fixture.id, source=str(entry))
        by_id[fixture.id] = fixture
    return [by_id[key] for key in sorted(by_id)]
