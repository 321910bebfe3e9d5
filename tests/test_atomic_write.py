"""The one atomic-write helper: replace or write-once, durable, nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

import pytest

from awaken_eval import Expectation
from awaken_eval._io.atomic import (
    fsync_directory,
    write_atomic,
    write_bytes_atomic,
    write_text_atomic,
)
from awaken_eval.wire import write_ndjson


class WriterFailed(Exception):
    pass


def names_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_content_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "report.ndjson"
    target.write_bytes(b"old\n")
    write_bytes_atomic(target, b"new\n")
    assert b"new\n" == target.read_bytes()
    assert ["report.ndjson"] == names_in(tmp_path)


def test_text_is_written_as_utf8(tmp_path: Path) -> None:
    target = tmp_path / "fixture.json"
    write_text_atomic(target, "caf\u00e9\n")
    assert "caf\u00e9\n".encode() == target.read_bytes()


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.json"
    write_bytes_atomic(target, b"{}")
    assert b"{}" == target.read_bytes()


def test_a_writer_failing_midway_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    target.write_bytes(b"old")

    def half_then_fail(handle: IO[bytes]) -> None:
        handle.write(b"half of the new conte")
        handle.flush()
        raise WriterFailed

    with pytest.raises(WriterFailed):
        write_atomic(target, half_then_fail)
    assert (b"old", ["data.json"]) == (target.read_bytes(), names_in(tmp_path))


def test_a_failing_fsync_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.json"
    target.write_bytes(b"old")

    def broken_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        write_bytes_atomic(target, b"new")
    assert (b"old", ["data.json"]) == (target.read_bytes(), names_in(tmp_path))


def test_write_once_refuses_an_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "marker"
    target.write_bytes(b"first\n")
    with pytest.raises(FileExistsError):
        write_bytes_atomic(target, b"second\n", overwrite=False)
    assert (b"first\n", ["marker"]) == (target.read_bytes(), names_in(tmp_path))


def test_write_once_creates_a_missing_target(tmp_path: Path) -> None:
    target = tmp_path / "marker"
    write_bytes_atomic(target, b"first\n", overwrite=False)
    assert (b"first\n", ["marker"]) == (target.read_bytes(), names_in(tmp_path))


@pytest.mark.parametrize("overwrite", [True, False])
def test_the_file_and_then_its_directory_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append("directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    write_bytes_atomic(tmp_path / "out.json", b"{}", overwrite=overwrite)
    assert ["file", "directory"] == synced


def test_fsync_directory_syncs_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(os.stat(descriptor).st_ino)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    fsync_directory(tmp_path)
    assert [tmp_path.stat().st_ino] == synced


def test_ndjson_reports_are_written_with_the_same_rigor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append("directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    target = tmp_path / "reports.ndjson"
    write_ndjson(target, [Expectation()])
    assert ["file", "directory"] == synced
    assert ["reports.ndjson"] == names_in(tmp_path)
