"""Store URLs and output paths: every failure is a documented error, never a traceback.

Also pins the one atomic-write rule: every file the library writes goes through
``awaken_eval._io.atomic``, and a full disk leaves the previous file intact.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import pytest

from awaken_eval import AwakenEvalError, Expectation, InvalidRequest, StoreFailure, open_run_store
from awaken_eval.errors import OutputUnwritable
from awaken_eval.events import InferenceSpan, SpanRecorded
from awaken_eval.sinks import JsonlTraceSink
from awaken_eval.stores import parse_store_url
from awaken_eval.wire import read_ndjson, write_ndjson

SRC = Path(__file__).resolve().parent.parent / "src" / "awaken_eval"


@pytest.mark.parametrize(
    "url", ["sqlite:///q%00.db", "file:a%00b", "file:///tmp/a%00", "runs\0.db", "dir\0x"]
)
def test_a_nul_in_a_store_path_is_an_invalid_request(url: str) -> None:
    with pytest.raises(InvalidRequest, match="NUL character"):
        parse_store_url(url)
    with pytest.raises(InvalidRequest, match="NUL character"):
        open_run_store(url)


@pytest.mark.parametrize("scheme", ["file:", "sqlite:///"])
def test_an_over_long_path_is_a_store_failure(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}{tmp_path}/{'x' * 5000}/runs.db"
    with pytest.raises(StoreFailure, match="cannot open run store"):
        open_run_store(url)


def test_the_cli_reports_a_nul_store_url_with_exit_2(cli: Any) -> None:
    result = cli("runs", "list", "--store", "sqlite:///q%00.db")
    assert 2 == result.code
    assert "NUL character" in result.err
    assert "Traceback" not in result.err


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)


def test_write_ndjson_on_a_full_disk_is_output_unwritable_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "e.ndjson"
    write_ndjson(path, [Expectation(final_answer_contains=("a",))])
    before = path.read_bytes()
    full_disk(monkeypatch)
    with pytest.raises(OutputUnwritable) as caught:
        write_ndjson(path, [Expectation(final_answer_contains=("b",))] * 100)
    assert isinstance(caught.value, AwakenEvalError)
    assert isinstance(caught.value, OSError)
    assert (str(path), "No space left on device") == (caught.value.path, caught.value.reason)
    monkeypatch.undo()
    assert before == path.read_bytes()
    assert [Expectation(final_answer_contains=("a",))] == read_ndjson(path, Expectation)
    assert [path.name] == [entry.name for entry in tmp_path.iterdir()]  # no temp file left


def test_curate_out_on_a_full_disk_exits_2_and_keeps_the_old_file(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio  # noqa: PLC0415

    span = InferenceSpan(
        run_id="run-1",
        thread_id="t",
        step_index=0,
        model="m",
        finish_reasons=("end_turn",),
        response_content=[{"type": "text", "text": "4"}],
        request_messages=[{"role": "user", "content": [{"type": "text", "text": "2+2?"}]}],
    )
    anyio.run(JsonlTraceSink(tmp_path / "traces").emit, SpanRecorded(span=span))
    out = tmp_path / "fixture.json"
    out.write_text('{"id": "previous"}\n', encoding="utf-8")
    full_disk(monkeypatch)
    args = ["curate", "--trace-root", str(tmp_path / "traces"), "--run-id", "run-1"]
    result = cli(*args, "--out", str(out), "--expect-final-contains", "4")
    monkeypatch.undo()
    assert 2 == result.code
    assert "No space left on device" in result.err
    assert '{"id": "previous"}\n' == out.read_text(encoding="utf-8")


_WRITES = re.compile(
    r"\.write_text\(|\.write_bytes\(|os\.replace\(|\.open\(\s*[\"'][wax]|"
    r"\bopen\([^)]*[\"'][wax]b?\+?[\"']"
)


def test_every_file_write_goes_through_the_atomic_helper() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "atomic.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _WRITES.search(line)
    ]
    assert [] == offenders
