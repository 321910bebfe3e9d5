"""A torn trace line (a failed append) damages that line only, never the whole trace."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from awaken_eval import Fixture, InvalidInput, from_json
from awaken_eval.events import InferenceSpan, SpanRecorded, ToolSpan
from awaken_eval.sinks import DamagedLine, FileTraceStore, JsonlTraceSink

pytestmark = pytest.mark.anyio

MONTH = "2026-01"
"""The month folder of the traces written at :data:`JAN`."""
JAN = 1_769_764_502.0


def span(index: int, run_id: str = "r") -> ToolSpan:
    return ToolSpan(name=f"tool-{index}", run_id=run_id, call_id=f"c{index}")


async def emit(sink: JsonlTraceSink, *spans: ToolSpan | InferenceSpan) -> None:
    for one in spans:
        await sink.emit(SpanRecorded(span=one))


async def test_an_append_after_a_torn_line_starts_on_a_fresh_line(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path, clock=lambda: JAN)
    await emit(sink, span(1), span(2))
    path = tmp_path / MONTH / "r.ndjson"
    with path.open("ab") as handle:  # what a failed append (a full disk) leaves
        handle.write(b'{"type":"tool","name":"tor')
    await emit(sink, span(3))
    read = await sink.store.read_trace("r")
    assert (span(1), span(2), span(3)) == read.events
    assert [3] == [damaged.line for damaged in read.damaged]
    assert "invalid JSON" in read.damaged[0].error
    assert b'"tor\n{"type":"tool","run_id":"r","name":"tool-3"' in path.read_bytes()


async def test_a_failed_write_then_a_good_one_keeps_every_intact_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = JsonlTraceSink(tmp_path, clock=lambda: JAN)
    await emit(sink, span(1))
    real_write = os.write
    calls: list[int] = []

    def disk_full_after_ten_bytes(descriptor: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(descriptor, bytes(data)[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full_after_ten_bytes)
    await emit(sink, span(2))  # logged, never raised
    monkeypatch.setattr(os, "write", real_write)
    await emit(sink, span(3), span(4))
    read = await sink.store.read_trace("r")
    assert (span(1), span(3), span(4)) == read.events
    assert (2,) == tuple(damaged.line for damaged in read.damaged)


async def test_read_trace_reports_every_damaged_line_and_keeps_the_rest(tmp_path: Path) -> None:
    good = json.dumps({"type": "tool", "name": "t", "run_id": "r"})
    path = tmp_path / MONTH / "r.ndjson"
    path.parent.mkdir()
    path.write_bytes(
        b"\n".join(
            [
                good.encode(),
                b"{not json",
                b'{"type": "tool", "name": "\xff\xfe"}',
                b'{"type": "tool", "colour": 1}',
                b"[" * 5_000 + b"]" * 5_000,
                good.encode(),
                b'{"type":"tool","na',
            ]
        )
    )
    read = await FileTraceStore(tmp_path).read_trace("r")
    assert 2 == len(read.events)
    assert [2, 3, 4, 5, 7] == [damaged.line for damaged in read.damaged]
    assert all(isinstance(damaged, DamagedLine) for damaged in read.damaged)
    assert "unknown key" in read.damaged[2].error
    assert "nested deeper" in read.damaged[3].error
    with pytest.raises(InvalidInput) as caught:  # the all-or-nothing reader names the first
        await FileTraceStore(tmp_path).read_events("r")
    assert (str(path), 2) == (caught.value.source, caught.value.line)


def test_curate_works_on_the_intact_part_of_a_damaged_trace(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "traces"
    spans = [
        InferenceSpan(
            run_id="run-1",
            thread_id="t",
            step_index=0,
            model="gpt-test",
            finish_reasons=("end_turn",),
            input_tokens=5,
            output_tokens=1,
            total_tokens=6,
            response_content=[{"type": "text", "text": "4"}],
            request_messages=[{"role": "user", "content": [{"type": "text", "text": "2+2?"}]}],
        )
    ]

    async def record() -> None:
        sink = JsonlTraceSink(root, clock=lambda: JAN)
        path = root / MONTH / "run-1.ndjson"
        path.parent.mkdir(parents=True)
        path.write_bytes(b'{"type":"inference","run_id":"ru')  # torn by an earlier failure
        await emit(sink, *spans)

    anyio.run(record)
    out = tmp_path / "curated.json"
    result = cli(
        "curate",
        "--trace-root",
        str(root),
        "--run-id",
        "run-1",
        "--out",
        str(out),
        "--expect-final-contains",
        "4",
    )
    assert 0 == result.code, result.err
    assert "line 1 skipped" in result.err
    assert 1 == len(from_json(Fixture, out.read_text(encoding="utf-8")).provider_script)
