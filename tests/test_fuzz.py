"""The fuzz suite: mutated valid documents and raw garbage at every public loader.

The property, for every loader: the input either loads (and then ``to_json`` writes it
and it loads back equal) or raises the library's documented error for that loader.
Anything else (``RecursionError``, ``ValueError``, ``UnicodeEncodeError``, a cattrs
traceback, ...) is a bug.

Inputs are valid documents drawn from ``strategies.py`` and written by ``to_json``, then
mutated as text (bytes flipped, cut, repeated, spliced with hostile tokens such as
``1e999``, ``"\\ud800"``, deep nesting, a BOM, repeated keys), plus raw bytes.

CI runs a few dozen examples per loader. For a longer run::

    AWAKEN_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py -p no:randomly -q

``AWAKEN_FUZZ_EXAMPLES`` sets the examples per loader (default 40).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    AwakenEvalError,
    EvalRun,
    EvalRunItem,
    Expectation,
    Fixture,
    InvalidInput,
    InvalidRequest,
    ReplayReport,
    from_json,
    load_fixture,
    to_json,
)
from awaken_eval.errors import InputUnreadable
from awaken_eval.events import TraceEvent
from awaken_eval.service import OnlineEvalRequest, StartRunRequest, parse_request
from awaken_eval.sinks import FileTraceStore
from awaken_eval.stores import FileDatasetStore, FileEvalRunStore, StoreLocation, parse_store_url
from awaken_eval.wire import read_ndjson, write_ndjson

EXAMPLES = int(os.environ.get("AWAKEN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = [
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    "\ufeff",
    "[" * 200,
    "{" * 50,
    '{"a": 1, "a": 2}',
    "\x00",
    "\\",
    '"',
    "1" * 5000,
    "\ud800",
    "null",
    "[]",
    "{}",
    '"x"',
    ",",
    ":",
    "-0",
    "1e-999",
    "0x10",
    "\u2028",
]
"""Tokens spliced into documents: each one aims at one rule of strict parsing."""


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` after one to three text mutations."""
    for _ in range(draw(st.integers(1, 3))):
        size = len(text)
        at = draw(st.integers(0, size))
        end = draw(st.integers(at, min(size, at + 12)))
        kind = draw(st.sampled_from(["splice", "cut", "repeat", "flip", "nest", "garbage"]))
        if kind == "splice":
            text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[end:]
        elif kind == "cut":
            text = text[:at] + text[end:]
        elif kind == "repeat":
            text = text[:end] + text[at:end] + text[end:]
        elif kind == "flip" and at < size:
            text = text[:at] + chr(ord(text[at]) ^ draw(st.integers(1, 127))) + text[at + 1 :]
        elif kind == "nest":
            depth = draw(st.sampled_from([127, 128, 129, 1000, 100_000]))
            text = text[:at] + "[" * depth + text[at:end] + "]" * depth + text[end:]
        else:
            text = text[:at] + draw(st.text(max_size=8)) + text[end:]
    return text


def documents(records: st.SearchStrategy[Any]) -> st.SearchStrategy[str | bytes]:
    """Valid documents of ``records`` (sometimes unchanged), mutated texts and raw bytes."""
    texts = records.map(to_json)
    return st.one_of(
        texts,
        texts.flatmap(mutated),
        texts.flatmap(mutated).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.binary(max_size=64),
    )


def loads_or_documented(cls: Any, data: str | bytes, *, error: type[Exception]) -> None:
    """``from_json(cls, data)`` loads and round-trips, or raises ``error``."""
    try:
        record = from_json(cls, data)
    except error:
        return
    assert record == from_json(cls, to_json(record))


TARGETS: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (Fixture, s.fixtures()),
    (Expectation, s.expectations()),
    (ReplayReport, s.replay_reports()),
    (EvalRunItem, s.eval_run_items()),
    (EvalRun, s.eval_runs(max_items=3)),
    (TraceEvent, s.trace_events()),
]


@FUZZ
@given(st.data())
def test_from_json_loads_or_raises_invalid_input(data: st.DataObject) -> None:
    cls, records = data.draw(st.sampled_from(TARGETS))
    loads_or_documented(cls, data.draw(documents(records)), error=InvalidInput)


REQUESTS = st.fixed_dictionaries(
    {"dataset_id": s.texts(min_size=1)},
    optional={
        "models": st.lists(s.model_ids(), max_size=2),
        "samples": st.integers(0, 3),
        "agent_overrides": st.fixed_dictionaries(
            {}, optional={"sampling": st.fixed_dictionaries({"temperature": s.finite_floats()})}
        ),
    },
)


@FUZZ
@given(st.data())
def test_parse_request_loads_or_raises_invalid_request(data: st.DataObject) -> None:
    import json  # noqa: PLC0415

    cls = data.draw(st.sampled_from([StartRunRequest, OnlineEvalRequest]))
    text = data.draw(st.one_of(REQUESTS.map(json.dumps), REQUESTS.map(json.dumps).flatmap(mutated)))
    body: str | bytes | Any = data.draw(
        st.sampled_from(["text", "bytes"]).map(
            lambda form: text if form == "text" else text.encode("utf-8", "surrogatepass")
        )
    )
    try:
        request: Any = parse_request(cls, body)
    except InvalidRequest:
        return
    assert request == parse_request(cls, to_json(request))


def in_a_directory(function: Callable[[Path], None]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        function(Path(directory))


@FUZZ
@given(st.lists(documents(s.expectations()), min_size=1, max_size=4))
def test_read_ndjson_loads_or_raises_documented_errors(lines: list[str | bytes]) -> None:
    def check(directory: Path) -> None:
        path = directory / "lines.ndjson"
        path.write_bytes(
            b"\n".join(
                line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
                for line in lines
            )
        )
        try:
            records = read_ndjson(path, Expectation)
        except (InvalidInput, InputUnreadable):
            return
        write_ndjson(path, records)
        assert records == read_ndjson(path, Expectation)

    in_a_directory(check)


def raw(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")


@FUZZ
@given(documents(s.fixtures()))
def test_fixture_files_load_or_raise_documented_errors(data: str | bytes) -> None:
    def check(directory: Path) -> None:
        path = directory / "f.json"
        path.write_bytes(raw(data))
        try:
            fixture = load_fixture(path)
        except (InvalidInput, InputUnreadable):
            return
        assert fixture == from_json(Fixture, to_json(fixture))

    in_a_directory(check)


@FUZZ
@given(documents(s.dataset_specs().map(lambda spec: spec)))
def test_dataset_files_load_or_raise_documented_errors(data: str | bytes) -> None:
    def check(directory: Path) -> None:
        store = FileDatasetStore(directory)
        document = raw(data)
        if document.startswith(b"{") and b'"fixtures"' in document:  # a spec: wrap it
            document = b'{"spec": ' + document + b', "meta": {"revision": 1}}'
        store.path_of("d").write_bytes(document)
        try:
            record = anyio.run(store.get, "d")
        except AwakenEvalError:
            return
        assert record.revision >= 0

    in_a_directory(check)


@FUZZ
@given(documents(s.eval_runs(max_items=3)))
def test_run_files_read_or_raise_documented_errors(data: str | bytes) -> None:
    def check(directory: Path) -> None:
        store = FileEvalRunStore(directory)
        shard = directory / "eval_runs" / "2023-11"
        shard.mkdir()
        (shard / "run.json").write_bytes(raw(data))
        try:
            run = anyio.run(store.read, "run")
        except AwakenEvalError:
            return
        assert run == from_json(EvalRun, to_json(run))

    in_a_directory(check)


@FUZZ
@given(st.lists(documents(s.tool_spans()), min_size=1, max_size=4))
def test_trace_files_keep_intact_lines_and_report_damaged_ones(lines: list[str | bytes]) -> None:
    def check(directory: Path) -> None:
        path = directory / "2026-01" / "r.ndjson"
        path.parent.mkdir()
        path.write_bytes(b"\n".join(raw(line).replace(b"\n", b" ") for line in lines))
        read = anyio.run(FileTraceStore(directory).read_trace, "r")
        assert len(read.events) + len(read.damaged) <= len(lines)

    in_a_directory(check)


URLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["sqlite:", "sqlite3:", "file:", "memory:", "postgres:"]).flatmap(
        lambda scheme: st.text(max_size=20).map(lambda rest: scheme + rest)
    ),
    st.sampled_from(["sqlite:///", "file:///", "file://host/"]).flatmap(
        lambda scheme: st.text(alphabet="%0aA/\\.\x00\ud800é", max_size=20).map(
            lambda rest: scheme + rest
        )
    ),
)


@FUZZ
@given(URLS)
def test_store_urls_parse_or_raise_invalid_request(url: str) -> None:
    try:
        location = parse_store_url(url)
    except InvalidRequest:
        return
    assert isinstance(location, StoreLocation)
    if location.path is not None:
        os.fsencode(location.path)  # a parsed path can always name a file
