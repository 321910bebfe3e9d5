"""``open_run_store`` / ``parse_store_url``: the CLI's ``--store`` URLs."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from awaken_eval import EvalRun, InvalidRequest, NotFound, RunOptions, open_run_store, run_eval_sync
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import (
    FileEvalRunStore,
    InMemoryRunStore,
    SqliteRunStore,
    StoreLocation,
    parse_store_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///runs.sqlite3", StoreLocation("sqlite", Path("runs.sqlite3"))),
        (
            "sqlite:///.awaken-eval/runs.sqlite3",
            StoreLocation("sqlite", Path(".awaken-eval/runs.sqlite3")),
        ),
        ("sqlite:////var/lib/evals.db", StoreLocation("sqlite", Path("/var/lib/evals.db"))),
        ("SQLite:///a%20b.sqlite3", StoreLocation("sqlite", Path("a b.sqlite3"))),
        ("file:///srv/runs", StoreLocation("file", Path("/srv/runs"))),
        ("file://localhost/srv/runs", StoreLocation("file", Path("/srv/runs"))),
        ("file:runs", StoreLocation("file", Path("runs"))),
        ("memory:", StoreLocation("memory")),
        ("runs.sqlite3", StoreLocation("sqlite", Path("runs.sqlite3"))),
        ("data/evals.DB", StoreLocation("sqlite", Path("data/evals.DB"))),
        ("/abs/evals.sqlite", StoreLocation("sqlite", Path("/abs/evals.sqlite"))),
        ("eval-runs", StoreLocation("file", Path("eval-runs"))),
        ("./eval-runs/", StoreLocation("file", Path("eval-runs"))),
        ("C:/runs.db", StoreLocation("sqlite", Path("C:/runs.db"))),
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            StoreLocation("postgresql", url="postgresql://postgres@127.0.0.1:5432/test"),
        ),
        ("postgres://db/evals", StoreLocation("postgresql", url="postgres://db/evals")),
        ("PostgreSQL://h/d?schema=s", StoreLocation("postgresql", url="PostgreSQL://h/d?schema=s")),
    ],
)
def test_parse_store_url(url: str, expected: StoreLocation) -> None:
    assert expected == parse_store_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "it is empty"),
        ("mysql://db/evals", "unknown scheme 'mysql'"),
        ("postgresql:evals", "starts with postgresql://"),
        ("s3://bucket/runs", "unknown scheme 's3'"),
        ("sqlite://runs.db", "three slashes"),
        ("sqlite:///", "the database path is empty"),
        ("memory:name", "a memory store takes no path"),
        ("file://elsewhere/runs", "another host"),
        ("file:", "the directory path is empty"),
    ],
)
def test_unsupported_urls_are_rejected_clearly(url: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_store_url(url)
    assert reason in str(raised.value)
    assert f"unsupported run store URL {url!r}" in str(raised.value)
    assert "sqlite:///PATH" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_memory_store_is_new_each_time() -> None:
    first = open_run_store("memory:")
    assert isinstance(first, InMemoryRunStore)
    assert first is not open_run_store("memory:")


def sample_run() -> EvalRun:
    return run_eval_sync([], RunOptions(dataset_id="suite"))


def write_then_read(url: str) -> EvalRun:
    run = sample_run()
    anyio.run(open_run_store(url).write, run)
    stored: EvalRun = anyio.run(open_run_store(url, create=False).read, run.id)
    assert run.id == stored.id
    return stored


def test_sqlite_store_creates_parent_directories(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/runs.sqlite3"
    assert isinstance(open_run_store(url), SqliteRunStore)
    assert (tmp_path / "a" / "b").is_dir()
    assert "suite" == write_then_read(url).dataset_id


def test_relative_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_then_read("sqlite:///rel/runs.sqlite3")
    assert (tmp_path / "rel" / "runs.sqlite3").is_file()
    write_then_read("file:rel-dir")
    assert (tmp_path / "rel-dir").is_dir()


def test_file_store(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/runs"
    assert isinstance(open_run_store(url), FileEvalRunStore)
    write_then_read(url)
    bare = str(tmp_path / "bare-runs")
    assert isinstance(open_run_store(bare), FileEvalRunStore)
    summaries = anyio.run(open_run_store(url).list, EvalRunFilter())
    assert 1 == len(summaries)


def test_missing_store_without_create_is_not_found(tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/no.sqlite3", f"file://{tmp_path}/no-dir"):
        with pytest.raises(NotFound, match="no run store at"):
            open_run_store(url, create=False)
    assert [] == list(tmp_path.iterdir())


def test_wrong_kind_of_path_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(InvalidRequest, match="is a directory, not a SQLite database"):
        open_run_store(str(tmp_path / "dir.sqlite3"))
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="is a file, not a run directory"):
        open_run_store(str(tmp_path / "plain"))
