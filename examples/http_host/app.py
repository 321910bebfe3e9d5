"""A web host for awaken-eval: the reference server's eval-run routes over ``EvalService``.

The library has no web dependency; this file is the whole HTTP layer, a small Starlette
app you can copy into your service:

* ``POST /v1/eval/runs`` runs a stored dataset (scripted or live) and persists the run;
* ``GET /v1/eval/runs`` lists runs (query ``dataset_id``, ``since_secs``, ``until_secs``,
  ``limit``);
* ``GET /v1/eval/runs/{run_id}`` reads one run (query ``baseline`` for a diff,
  ``aggregate=samples`` for pass@k roll-ups);
* ``GET /v1/eval/runs/{run_id}/report`` the run as a self-contained HTML report (query
  ``baseline`` for its diff);
* ``POST /v1/eval/online`` runs one ad-hoc prompt against live models;
* ``GET|POST /v1/eval/datasets`` lists (query ``offset``, ``limit``) or creates (query
  ``id`` wins over the body's) datasets; ``GET|PUT|DELETE /v1/eval/datasets/{id}`` reads,
  replaces (compare-and-swap) or deletes (query ``expected_revision`` for
  compare-and-swap) one; ``POST /v1/eval/datasets/{id}/fixtures`` appends a fixture;
  ``POST /v1/eval/datasets/{id}/items``, ``.../import-traces`` and
  ``.../import-dialogue`` curate traces into it (503 without a trace store).

Every route requires ``Authorization: Bearer <admin token>`` (exactly one header,
compared in constant time), checked before the body is read; without a configured
token every request is refused. Every error is JSON ``{"error": "<message>"}`` with the
status of :func:`awaken_eval.service.http_status` and the message of
:func:`awaken_eval.service.error_message`: malformed JSON and unknown fields are a 400
naming the JSON path; a 5xx is logged and answered ``internal error`` (its details can
name server files); echoed input is cut to ``MAX_ERROR_CHARS``.

Requests are taken defensively, with the helpers of :mod:`awaken_eval.service`: a body
must be ``application/json`` in UTF-8 (else 415), at most ``max_body_bytes`` (1 MiB by
default; else 413, refused before reading when ``Content-Length`` says so) and arrive
within ``body_timeout_secs`` (10 s by default; else 408); query parameters are checked
strictly (unknown, repeated or out-of-range values are a 400).

Usage (from the repository root)::

    python examples/http_host/app.py --demo   # drive the app in-process, no network
    python examples/http_host/app.py          # serve on 127.0.0.1:8000 (needs uvicorn)
    python examples/http_host/app.py --store postgresql://postgres@127.0.0.1:5432/test
                                              # runs in PostgreSQL, shared by every replica
    python examples/http_host/app.py --trace-root traces
                                              # curate datasets from a trace store
    uvicorn --factory examples.http_host.app:demo_app

The demo service reads datasets from a :class:`~awaken_eval.stores.FileDatasetStore`
(seeded with the quickstart fixtures as dataset ``quickstart``), keeps runs in memory
unless ``--store URL`` names a run store (any URL of :func:`awaken_eval.open_run_store`:
``postgresql://`` for several replicas of the host, ``sqlite:///`` for one machine) and
resolves one model, ``demo``, to a
canned executor. The admin token comes from ``AWAKEN_EVAL_ADMIN_TOKEN`` (default
``dev-token``, printed at start); served datasets live in ``AWAKEN_EVAL_DATA_DIR``
(default ``.awaken-eval-demo``).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import importlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from awaken_eval import (
    DatasetSpec,
    EvalRunStore,
    InvalidInput,
    InvalidRequest,
    NotFound,
    ResolvedModel,
    from_builtins,
    load_directory,
    open_run_store,
    to_builtins,
)
from awaken_eval.errors import NotConfigured
from awaken_eval.protocols import TraceStore
from awaken_eval.records import EvalRunFilter
from awaken_eval.report import REPORT_MEDIA_TYPE
from awaken_eval.service import (
    DEFAULT_BODY_TIMEOUT_SECS,
    DEFAULT_MAX_BODY_BYTES,
    AppendFixtureRequest,
    CreateDatasetRequest,
    CurateItemRequest,
    DatasetService,
    EvalService,
    ImportDialogueRequest,
    ImportTracesRequest,
    OnlineEvalRequest,
    ReplaceDatasetRequest,
    StartRunRequest,
    StaticModelResolver,
    bounded,
    check_content_type,
    error_message,
    http_status,
    parse_request,
    query_integer,
    read_body,
    strict_query,
)
from awaken_eval.sinks import FileTraceStore
from awaken_eval.stores import FileDatasetStore, InMemoryRunStore
from awaken_eval.testing import CannedTextExecutor

logger = logging.getLogger("awaken_eval.http_host")

QUICKSTART_FIXTURES = Path(__file__).resolve().parent.parent / "quickstart" / "fixtures"
TOKEN_ENV = "AWAKEN_EVAL_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a secret
DATA_DIR_ENV = "AWAKEN_EVAL_DATA_DIR"
DEFAULT_TOKEN = "dev-token"  # noqa: S105 - the documented development default
DEMO_MODEL = "demo"

LIST_QUERY = ("dataset_id", "since_secs", "until_secs", "limit")
INTEGER_QUERY = frozenset({"since_secs", "until_secs", "limit"})
GET_QUERY = ("baseline", "aggregate")
REPORT_QUERY = ("baseline",)
DATASETS_QUERY = ("offset", "limit")
CREATE_QUERY = ("id",)
DELETE_QUERY = ("expected_revision",)

Handler = Callable[[Request], Awaitable[Any]]
"""A route body: returns JSON-ready builtins (or a finished response), raises to refuse."""

# -- the HTTP layer ---------------------------------------------------------------------


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body every refusal uses (text that is not valid UTF-8 is replaced)."""
    safe = message.encode("utf-8", "replace").decode("utf-8")
    return JSONResponse({"error": safe}, status_code=status, headers=headers)


def refusal(request: Request, admin_token: str | None) -> str | None:
    """Why ``request`` is not authorized, or ``None`` when it carries the admin token."""
    if not admin_token:
        return "eval API admin token not configured"
    values = request.headers.getlist("authorization")
    if not values:
        return "missing Authorization header"
    if len(values) > 1:
        return "expected exactly one Authorization header"
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() != "bearer":
        return "expected a Bearer token"
    if not hmac.compare_digest(token.encode(), admin_token.encode()):
        return "invalid admin token"
    return None


def answer_error(exc: Exception) -> JSONResponse:
    """Map an exception to its JSON error; a 5xx is logged and answered without details.

    A :class:`~awaken_eval.errors.NotConfigured` (503: no trace store) is neither: its
    message names only what the host lacks.
    """
    status = http_status(exc)
    if status >= 500 and not isinstance(exc, NotConfigured):  # a 503 is no failure
        logger.error("eval request failed", exc_info=exc)
    return error_response(status, error_message(exc))


def endpoint(handler: Handler, admin_token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler``: authorize first, then answer its result or its error as JSON."""

    async def respond(request: Request) -> Response:
        reason = refusal(request, admin_token)
        if reason is not None:
            return error_response(401, reason, {"WWW-Authenticate": "Bearer"})
        try:
            result = await handler(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered as JSON
            return answer_error(exc)
        return result if isinstance(result, Response) else JSONResponse(result)

    return respond


def run_filter(params: QueryParams) -> EvalRunFilter:
    """The listing filter of ``GET /v1/eval/runs``."""
    fields: dict[str, str | int] = {}
    for key, value in strict_query(params.multi_items(), LIST_QUERY).items():
        fields[key] = query_integer(key, value) if key in INTEGER_QUERY else value
    try:
        return from_builtins(EvalRunFilter, fields)
    except InvalidInput as exc:  # out of range
        msg = f"invalid query: {exc}"
        raise InvalidRequest(msg) from exc


async def http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path, wrong method) as JSON too."""
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, bounded(str(exc.detail)), exc.headers)
    return answer_error(exc)


DATASET_PATH = "/v1/eval/datasets/{dataset_id}"
"""The path of one dataset; its routes hang below it."""


def dataset_id(request: Request) -> str:
    """The ``{dataset_id}`` of a dataset route."""
    value: str = request.path_params["dataset_id"]
    return value


def route(admin_token: str | None, path: str, handler: Handler, method: str) -> Route:
    """One admin route: ``handler`` answers ``method`` at ``path``."""
    return Route(path, endpoint(handler, admin_token), methods=[method])


def dataset_routes(
    dataset_service: DatasetService,
    json_body: Callable[[Request], Awaitable[bytes]],
    admin_token: str | None,
) -> list[Route]:
    """The dataset routes (spec §4.10): list, create, get, replace, delete, append."""

    async def list_datasets(request: Request) -> Any:
        query = strict_query(request.query_params.multi_items(), DATASETS_QUERY)
        numbers = {key: query_integer(key, value) for key, value in query.items()}
        return to_builtins(await dataset_service.list(**numbers))

    async def create_dataset(request: Request) -> Response:
        query = strict_query(request.query_params.multi_items(), CREATE_QUERY)
        body = parse_request(CreateDatasetRequest, await json_body(request))
        created = await dataset_service.create(body, dataset_id=query.get("id"))
        return JSONResponse(to_builtins(created), status_code=201)

    async def get_dataset(request: Request) -> Any:
        strict_query(request.query_params.multi_items(), ())
        return to_builtins(await dataset_service.get(dataset_id(request)))

    async def put_dataset(request: Request) -> Any:
        body = parse_request(ReplaceDatasetRequest, await json_body(request))
        return to_builtins(await dataset_service.replace(dataset_id(request), body))

    async def delete_dataset(request: Request) -> Response:
        query = strict_query(request.query_params.multi_items(), DELETE_QUERY)
        expected = query.get("expected_revision")
        await dataset_service.delete(
            dataset_id(request),
            expected_revision=None
            if expected is None
            else query_integer(DELETE_QUERY[0], expected),
        )
        return Response(status_code=204)

    async def append_fixture(request: Request) -> Response:
        body = parse_request(AppendFixtureRequest, await json_body(request))
        record = await dataset_service.append_fixture(dataset_id(request), body)
        return JSONResponse(to_builtins(record), status_code=201)

    return [
        route(admin_token, "/v1/eval/datasets", list_datasets, "GET"),
        route(admin_token, "/v1/eval/datasets", create_dataset, "POST"),
        route(admin_token, DATASET_PATH, get_dataset, "GET"),
        route(admin_token, DATASET_PATH, put_dataset, "PUT"),
        route(admin_token, DATASET_PATH, delete_dataset, "DELETE"),
        route(admin_token, f"{DATASET_PATH}/fixtures", append_fixture, "POST"),
    ]


def curation_routes(
    dataset_service: DatasetService,
    json_body: Callable[[Request], Awaitable[bytes]],
    admin_token: str | None,
) -> list[Route]:
    """The curation routes (spec §6.3): one trace, traces in bulk, a dialogue."""

    async def curate_item(request: Request) -> Response:
        body = parse_request(CurateItemRequest, await json_body(request))
        record = await dataset_service.curate_item(dataset_id(request), body)
        return JSONResponse(to_builtins(record), status_code=201)

    async def import_traces(request: Request) -> Any:
        body = parse_request(ImportTracesRequest, await json_body(request))
        return to_builtins(await dataset_service.import_traces(dataset_id(request), body))

    async def import_dialogue(request: Request) -> Any:
        body = parse_request(ImportDialogueRequest, await json_body(request))
        return to_builtins(await dataset_service.import_dialogue(dataset_id(request), body))

    return [
        route(admin_token, f"{DATASET_PATH}/items", curate_item, "POST"),
        route(admin_token, f"{DATASET_PATH}/import-traces", import_traces, "POST"),
        route(admin_token, f"{DATASET_PATH}/import-dialogue", import_dialogue, "POST"),
    ]


def create_app(
    service: EvalService,
    *,
    admin_token: str | None,
    datasets: DatasetService | None = None,
    lifespan: Lifespan[Starlette] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_timeout_secs: float = DEFAULT_BODY_TIMEOUT_SECS,
) -> Starlette:
    """The eval routes of ``service`` (and the dataset routes of ``datasets``) as an app.

    Args:
        service: The service answering the run routes.
        datasets: The service answering the dataset routes (default: one over
            ``service.datasets`` without a trace store, so curation answers 503).
        admin_token: The bearer token every request must carry; ``None`` (or empty)
            refuses every request with a 401.
        lifespan: Startup and shutdown work of the host (opening stores, ...).
        max_body_bytes: The largest request body accepted (413 above it).
        body_timeout_secs: How long a request body may take to arrive (408 after).
    """

    async def json_body(request: Request) -> bytes:
        check_content_type(request.headers.get("content-type"))
        return await read_body(
            request.stream(),
            content_length=request.headers.get("content-length"),
            max_bytes=max_body_bytes,
            timeout_secs=body_timeout_secs,
        )

    async def start_run(request: Request) -> Any:
        body = parse_request(StartRunRequest, await json_body(request))
        return to_builtins(await service.start_run(body))

    async def list_runs(request: Request) -> Any:
        runs = await service.list_runs(run_filter(request.query_params))
        return {"runs": to_builtins(runs)}

    async def get_run(request: Request) -> Any:
        query = strict_query(request.query_params.multi_items(), GET_QUERY)
        response = await service.get_run(
            request.path_params["run_id"],
            baseline=query.get("baseline"),
            aggregate=query.get("aggregate"),
        )
        return to_builtins(response)

    async def get_report(request: Request) -> Response:
        query = strict_query(request.query_params.multi_items(), REPORT_QUERY)
        page = await service.get_report(
            request.path_params["run_id"], baseline=query.get("baseline")
        )
        return Response(page, media_type=REPORT_MEDIA_TYPE)

    async def online_eval(request: Request) -> Any:
        body = parse_request(OnlineEvalRequest, await json_body(request))
        return to_builtins(await service.online_eval(body))

    dataset_service = DatasetService(datasets=service.datasets) if datasets is None else datasets
    return Starlette(
        routes=[
            route(admin_token, "/v1/eval/runs", start_run, "POST"),
            route(admin_token, "/v1/eval/runs", list_runs, "GET"),
            route(admin_token, "/v1/eval/runs/{run_id}", get_run, "GET"),
            route(admin_token, "/v1/eval/runs/{run_id}/report", get_report, "GET"),
            route(admin_token, "/v1/eval/online", online_eval, "POST"),
            *dataset_routes(dataset_service, json_body, admin_token),
            *curation_routes(dataset_service, json_body, admin_token),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )


# -- the demo service ---------------------------------------------------------------------


def admin_token_from_env() -> str:
    """The admin token from ``AWAKEN_EVAL_ADMIN_TOKEN``; the default one is printed."""
    token = os.environ.get(TOKEN_ENV)
    if token:
        return token
    print(f"admin token: {DEFAULT_TOKEN} (set {TOKEN_ENV} to choose one)")
    return DEFAULT_TOKEN


async def seed_quickstart(datasets: FileDatasetStore) -> int:
    """Store the quickstart fixtures as dataset ``quickstart`` unless it exists.

    Returns:
        The dataset's revision.
    """
    try:
        return (await datasets.get("quickstart")).revision
    except NotFound:
        fixtures = await anyio.to_thread.run_sync(load_directory, QUICKSTART_FIXTURES)
        spec = DatasetSpec(description="The quickstart fixtures", fixtures=tuple(fixtures))
        return await datasets.put("quickstart", spec, expected_revision=None)


def demo_service(datasets: FileDatasetStore, runs: EvalRunStore | None = None) -> EvalService:
    """A service over ``datasets``, ``runs`` (default: in memory) and the model ``demo``."""
    model = ResolvedModel(
        model_id=DEMO_MODEL,
        executor=CannedTextExecutor(["Hello from the demo model."]),
        upstream_model="canned-demo",
    )
    return EvalService(
        datasets=datasets,
        runs=InMemoryRunStore() if runs is None else runs,
        models=StaticModelResolver([model]),
    )


def open_trace_store(root: str | os.PathLike[str]) -> TraceStore:
    """The :class:`~awaken_eval.sinks.FileTraceStore` over ``root``, as a trace store.

    Raises:
        SystemExit: this version's file trace store cannot list or pin traces.
    """
    store: object = FileTraceStore(root)
    if not isinstance(store, TraceStore):
        msg = "this FileTraceStore cannot list and pin traces; --trace-root is unavailable"
        raise SystemExit(msg)
    return store


def demo_app(
    *,
    admin_token: str | None = None,
    store_url: str | None = None,
    trace_root: str | None = None,
) -> Starlette:
    """The demo host for a real server (``uvicorn --factory examples.http_host.app:demo_app``).

    ``store_url`` names the run store (default: in memory); it is closed at shutdown.
    ``trace_root`` names the trace store curation reads (default: none, curation
    answers 503).
    """
    datasets = FileDatasetStore(os.environ.get(DATA_DIR_ENV, ".awaken-eval-demo"))
    runs = None if store_url is None else open_run_store(store_url)

    @contextlib.asynccontextmanager
    async def seed(_app: Starlette) -> AsyncIterator[None]:
        await seed_quickstart(datasets)
        try:
            yield
        finally:
            close = getattr(runs, "close", None)
            if callable(close):
                await anyio.to_thread.run_sync(close)

    token = admin_token if admin_token is not None else admin_token_from_env()
    traces = None if trace_root is None else open_trace_store(trace_root)
    return create_app(
        demo_service(datasets, runs),
        admin_token=token,
        datasets=DatasetService(datasets=datasets, traces=traces),
        lifespan=seed,
    )


def summary(body: Any) -> dict[str, Any]:
    """The headline of a JSON response: counts instead of every item."""
    if "error" in body:
        return {"error": body["error"]}
    if "runs" in body:
        return {"runs": [run["id"] for run in body["runs"]]}
    if "datasets" in body:
        return {"datasets": {row["id"]: row["revision"] for row in body["datasets"]}}
    if "meta" in body:
        return {"revision": body["meta"]["revision"], "fixtures": len(body["spec"]["fixtures"])}
    run = body["run"]
    shown: dict[str, Any] = {
        "run_id": run["id"],
        "dataset_id": run["dataset_id"],
        "mode": run.get("execution_mode", "scripted"),
        "items": len(run["items"]),
        "passed": sum(1 for item in run["items"] if item["report"]["passed"]),
    }
    if "diff" in body:
        kinds = [entry["kind"] for entry in body["diff"]["entries"]]
        shown["diff"] = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
    if "aggregates" in body:
        shown["aggregates"] = len(body["aggregates"])
    if "persisted" in body:
        shown["persisted"] = body["persisted"]
    return shown


async def run_demo(data_dir: Path, token: str) -> int:
    """Drive the app in-process through httpx; return 0 when every answer is as expected."""
    datasets = FileDatasetStore(data_dir)
    revision = await seed_quickstart(datasets)
    print(f"dataset quickstart, revision {revision}")
    app = create_app(demo_service(datasets), admin_token=token)
    transport = httpx.ASGITransport(app=app)
    auth = {"Authorization": f"Bearer {token}"}
    ok = True
    async with httpx.AsyncClient(transport=transport, base_url="http://demo", headers=auth) as http:

        async def call(method: str, url: str, expected: int, **options: Any) -> Any:
            nonlocal ok
            response = await http.request(method, url, **options)
            print(
                f"{method} {url} -> {response.status_code} {json.dumps(summary(response.json()))}"
            )
            ok = ok and response.status_code == expected
            return response.json()

        await call("POST", "/v1/eval/runs", 401, json={}, headers={"Authorization": "Bearer no"})
        first = await call("POST", "/v1/eval/runs", 200, json={"dataset_id": "quickstart"})
        baseline = {"dataset_id": "quickstart", "baseline_run_id": first["run"]["id"]}
        await call("POST", "/v1/eval/runs", 200, json=baseline)
        await call("POST", "/v1/eval/runs", 400, json={"dataset_id": "quickstart", "samples": 3})
        await call("GET", "/v1/eval/runs?dataset_id=quickstart", 200)
        await call("GET", f"/v1/eval/runs/{first['run']['id']}?aggregate=samples", 200)
        online = {"user_input": "Say hello.", "models": [DEMO_MODEL], "persist": False}
        await call("POST", "/v1/eval/online", 200, json=online)
        await call("GET", "/v1/eval/datasets", 200)
        fixture = {"id": "wave", "user_input": "Wave.", "expect": {"final_answer_contains": ["o"]}}
        append = {"fixture": fixture, "expected_revision": revision}
        await call("POST", "/v1/eval/datasets/quickstart/fixtures", 201, json=append)
        again = {**append, "expected_revision": revision + 1}
        await call("POST", "/v1/eval/datasets/quickstart/fixtures", 409, json=again)
        curate = {"from_run_id": "some-run", "expected": {"final_answer_contains": ["o"]}}
        await call("POST", "/v1/eval/datasets/quickstart/items", 503, json=curate)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo in-process (``--demo``) or serve the demo app with uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="drive the app in-process and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--store", help="run store URL (default: in memory), e.g. postgresql://…")
    parser.add_argument("--trace-root", help="trace store directory that curation reads")
    options = parser.parse_args(argv)
    token = admin_token_from_env()
    if options.demo:
        with tempfile.TemporaryDirectory() as scratch:
            return anyio.run(run_demo, Path(scratch), token)
    try:
        uvicorn = importlib.import_module("uvicorn")
    except ImportError:
        print("uvicorn is not installed; try: python examples/http_host/app.py --demo")
        return 2
    app = demo_app(admin_token=token, store_url=options.store, trace_root=options.trace_root)
    uvicorn.run(app, host=options.host, port=options.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
