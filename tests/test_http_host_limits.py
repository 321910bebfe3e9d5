"""The example HTTP host taking hostile requests (issue 12, item 14).

A request body has a size limit (413) and a read timeout (408), must be JSON in UTF-8
(415); query integers are checked before conversion (400); errors echo at most
``MAX_ERROR_CHARS`` of the input and a 5xx never shows server paths; a cell deadline
above ``EvalLimits.max_walltime_secs`` is a 400. Most tests drive the app in-process
(httpx's ASGI transport); the last ones run it under a real uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from awaken_eval import (
    DatasetSpec,
    Expectation,
    Fixture,
    InvalidRequest,
    ResolvedModel,
    StoreFailure,
)
from awaken_eval.errors import (
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    UnsupportedMediaType,
)
from awaken_eval.service import (
    DEFAULT_MAX_BODY_BYTES,
    MAX_ERROR_CHARS,
    EvalLimits,
    EvalService,
    StaticModelResolver,
    bounded,
    check_content_type,
    error_message,
    http_status,
    query_integer,
    read_body,
)
from awaken_eval.stores import InMemoryDatasetStore, InMemoryRunStore, SqliteRunStore
from awaken_eval.testing import CannedTextExecutor
from test_http_host import AUTH, TOKEN, client_for, error_of, host

JSON = {"Content-Type": "application/json"}
U64_MAX = 2**64 - 1
WAIT_SECS = 60.0  # a bound for a loaded machine, reached only when something is broken


def small_datasets() -> InMemoryDatasetStore:
    store = InMemoryDatasetStore()
    fixture = Fixture("greet", "Say hello.", expect=Expectation(final_answer_contains=("hello",)))
    anyio.run(lambda: store.put("small", DatasetSpec(fixtures=(fixture,)), expected_revision=None))
    return store


@pytest.fixture
def datasets() -> InMemoryDatasetStore:
    return small_datasets()


def make_service(datasets: InMemoryDatasetStore, runs: Any = None) -> EvalService:
    model = ResolvedModel(
        model_id="demo", executor=CannedTextExecutor(["hello"]), upstream_model="canned"
    )
    return EvalService(
        datasets=datasets, runs=runs or InMemoryRunStore(), models=StaticModelResolver([model])
    )


@pytest.fixture
def app(datasets: InMemoryDatasetStore) -> Starlette:
    built: Starlette = host.create_app(
        make_service(datasets), admin_token=TOKEN, max_body_bytes=1000, body_timeout_secs=0.2
    )
    return built


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, AUTH) as http:
        yield http


# -- content type (415) --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16"],
)
@pytest.mark.parametrize("url", ["/v1/eval/runs", "/v1/eval/online"])
async def test_only_json_bodies_are_accepted(
    client: httpx.AsyncClient, url: str, content_type: str | None
) -> None:
    body = '{"dataset_id": "small"}'.encode("utf-16" if content_type else "utf-8")
    headers = {} if content_type is None else {"Content-Type": content_type}
    message = error_of(await client.post(url, content=body, headers=headers), 415)
    assert message.startswith("expected Content-Type application/json (UTF-8), got")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8", 'application/json;charset="utf8"'],
)
async def test_json_with_or_without_a_utf8_charset_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    body = b'{"dataset_id": "small"}'
    response = await client.post(
        "/v1/eval/runs", content=body, headers={"Content-Type": content_type}
    )
    assert 200 == response.status_code, response.text


# -- body size (413) and read timeout (408) ----------------------------------------------------------


@pytest.mark.anyio
async def test_a_body_over_the_limit_is_a_413(client: httpx.AsyncClient) -> None:
    body = b'{"dataset_id": "' + b"x" * 1000 + b'"}'
    message = error_of(await client.post("/v1/eval/runs", content=body, headers=JSON), 413)
    assert "request body is larger than the limit of 1000 bytes" == message


@pytest.mark.anyio
async def test_a_body_without_a_length_is_cut_off_at_the_limit() -> None:
    pulled: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            pulled.append(1)
            yield b"x" * 100

    with pytest.raises(PayloadTooLarge, match="larger than the limit of 1000 bytes"):
        await read_body(endless(), max_bytes=1000)
    assert 11 == len(pulled)  # up to the limit and one chunk more, never the rest


@pytest.mark.anyio
async def test_a_body_that_stops_arriving_is_a_408(client: httpx.AsyncClient) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b'{"dataset_id": '
        await anyio.sleep_forever()

    response = await client.post("/v1/eval/runs", content=stalled(), headers=JSON)
    assert "request body not received within 0.2 seconds" == error_of(response, 408)


@pytest.mark.anyio
async def test_a_malformed_content_length_is_a_400() -> None:
    async def one() -> AsyncIterator[bytes]:
        yield b"{}"

    with pytest.raises(InvalidRequest, match="invalid Content-Length header '1e3'"):
        await read_body(one(), content_length="1e3")


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    read: list[bytes] = []

    async def never_read() -> AsyncIterator[bytes]:
        read.append(b"{}")
        yield b"{}"

    with pytest.raises(PayloadTooLarge) as raised:
        await read_body(never_read(), content_length=str(DEFAULT_MAX_BODY_BYTES + 1))
    assert (DEFAULT_MAX_BODY_BYTES, 413) == (raised.value.limit_bytes, raised.value.status)
    assert [] == read


@pytest.mark.anyio
async def test_a_body_at_the_limit_is_read_whole() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 100

    assert b"y" * 1000 == await read_body(chunks(), content_length="1000", max_bytes=1000)


# -- queries (400) ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["9" * 5000, str(2**64), "1" + "0" * 25])
async def test_a_huge_query_integer_is_a_small_400(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get("/v1/eval/runs", params={"limit": value})
    message = error_of(response, 400)
    assert message.startswith("query parameter 'limit' must be a non-negative integer")
    assert len(response.content) < 300


def test_query_integer_accepts_the_full_range() -> None:
    assert (0, U64_MAX) == (query_integer("n", "0"), query_integer("n", str(U64_MAX)))
    with pytest.raises(InvalidRequest, match="at most 10"):
        query_integer("n", "11", maximum=10)


# -- bounded, path-free errors -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unknown_baseline_id_is_echoed_bounded(datasets: InMemoryDatasetStore) -> None:
    app = host.create_app(make_service(datasets), admin_token=TOKEN)
    long_id = "b" * 500_000
    async with client_for(app, AUTH) as http:
        body = {"dataset_id": "small", "baseline_run_id": long_id}
        response = await http.post("/v1/eval/runs", json=body)
    message = error_of(response, 404)
    assert MAX_ERROR_CHARS == len(message)
    assert message.startswith("baseline eval run not found: bbbb")
    assert message.endswith("more characters)")
    assert len(response.content) < 2 * MAX_ERROR_CHARS


@pytest.mark.anyio
async def test_a_store_failure_answers_without_server_paths(
    datasets: InMemoryDatasetStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = SqliteRunStore(tmp_path)  # a directory: the database cannot be opened
    app = host.create_app(make_service(datasets, broken), admin_token=TOKEN)
    async with client_for(app, AUTH) as http:
        response = await http.get("/v1/eval/runs")
    assert "internal error" == error_of(response, 500)
    assert str(tmp_path) not in response.text
    assert str(tmp_path) in caplog.text  # the details are in the server's log


@given(st.text(), st.integers(min_value=0, max_value=200))
def test_bounded_keeps_a_prefix_within_the_limit(text: str, limit: int) -> None:
    shown = bounded(text, limit)
    assert len(shown) <= max(limit, 0)
    if len(text) <= limit:
        assert text == shown
    else:
        kept = shown.split("…", 1)[0] if "…" in shown else ""
        assert text.startswith(kept)


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (StoreFailure("/srv/evals/runs.sqlite3: disk I/O error"), 500, "internal error"),
        (RuntimeError("/srv/secret"), 500, "internal error"),
        (PayloadTooLarge(10), 413, "request body is larger than the limit of 10 bytes"),
        (RequestTimeout(2.5), 408, "request body not received within 2.5 seconds"),
        (
            UnsupportedMediaType("text/plain" + "x" * 500),
            415,
            "expected Content-Type application/json (UTF-8), got Content-Type 'text/plain"
            + "x" * 90
            + "'",
        ),
    ],
)
def test_error_statuses_and_messages(error: Exception, status: int, message: str) -> None:
    assert (status, message) == (http_status(error), error_message(error))


def test_the_new_refusals_are_invalid_requests() -> None:
    for error in (PayloadTooLarge(1), RequestTimeout(1.0), UnsupportedMediaType(None)):
        assert isinstance(error, InvalidRequest)
        assert isinstance(error, ServiceError)


def test_check_content_type_without_a_header() -> None:
    with pytest.raises(UnsupportedMediaType, match="got no Content-Type"):
        check_content_type(None)


# -- the walltime cap ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/v1/eval/runs", {"dataset_id": "small", "models": ["demo"]}),
        ("/v1/eval/online", {"user_input": "hi", "models": ["demo"], "persist": False}),
    ],
)
async def test_a_walltime_above_the_cap_is_a_400(
    datasets: InMemoryDatasetStore, url: str, body: dict[str, Any]
) -> None:
    app = host.create_app(make_service(datasets), admin_token=TOKEN)
    async with client_for(app, AUTH) as http:
        refused = await http.post(url, json={**body, "max_walltime_secs": U64_MAX})
        assert f"max_walltime_secs={U64_MAX} exceeds cap 3600" == error_of(refused, 400)
        accepted = await http.post(url, json={**body, "max_walltime_secs": 3600})
        assert 200 == accepted.status_code, accepted.text


def test_the_walltime_cap_is_configurable_and_bounds_the_default() -> None:
    assert 7200 == EvalLimits(max_walltime_secs=7200).max_walltime_secs
    with pytest.raises(
        ValueError, match="default_max_walltime_secs=61 exceeds max_walltime_secs=60"
    ):
        EvalLimits(default_max_walltime_secs=61, max_walltime_secs=60)


# -- under a real server -----------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[str, int]]:
    """The host under uvicorn on 127.0.0.1 (a free port), body timeout 1 s, limit 1 MiB."""
    uvicorn = pytest.importorskip("uvicorn")
    app = host.create_app(make_service(small_datasets()), admin_token=TOKEN, body_timeout_secs=1.0)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECS
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.01)  # polling a condition, not a barrier
    try:
        yield listener.getsockname()
    finally:
        server.should_exit = True
        thread.join(WAIT_SECS)
        listener.close()


def raw_exchange(address: tuple[str, int], head: bytes) -> bytes:
    """Send ``head`` (headers and a partial body) and read the whole response."""
    with socket.create_connection(address, timeout=WAIT_SECS) as connection:
        connection.sendall(head)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def request_head(length: int, partial: bytes) -> bytes:
    return (
        b"POST /v1/eval/runs HTTP/1.1\r\nHost: test\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        + partial
    )


def test_under_uvicorn_a_run_starts(served: tuple[str, int]) -> None:
    host_name, port = served
    response = httpx.post(
        f"http://{host_name}:{port}/v1/eval/runs", json={"dataset_id": "small"}, headers=AUTH
    )
    assert 200 == response.status_code, response.text
    assert 1 == len(response.json()["run"]["items"])


def test_under_uvicorn_a_declared_huge_body_is_refused_unread(served: tuple[str, int]) -> None:
    response = raw_exchange(served, request_head(300 * 1024 * 1024, b'{"dataset_id": '))
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]
    assert b"larger than the limit of 1048576 bytes" in response


def test_under_uvicorn_a_chunked_body_over_the_limit_is_a_413(served: tuple[str, int]) -> None:
    # Exactly 1 MiB, then one byte more and no end: the server must read all of it to
    # see the body is too large, so it answers (and closes) with nothing left unread.
    chunks = [b"x" * 65536] * 16 + [b"x"]
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    head = (
        b"POST /v1/eval/runs HTTP/1.1\r\nHost: test\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n".encode()
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    response = raw_exchange(served, head + body)
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]


def test_under_uvicorn_a_slow_body_is_a_408(served: tuple[str, int]) -> None:
    response = raw_exchange(served, request_head(100, b'{"dataset_id": '))
    assert response.startswith(b"HTTP/1.1 408 "), response[:200]
    assert b"request body not received within 1 seconds" in response
