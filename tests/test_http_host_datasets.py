"""The dataset routes of the web host example (spec §4.10, §6.3; §7.14 "Datasets", "Curation").

The app is driven through httpx's ASGI transport on asyncio and trio, with the
in-memory and the file dataset store, and an
:class:`~awaken_eval.testing.InMemoryTraceStore` behind the curation routes. Statuses,
bodies and messages are the reference's; ``unpinned`` is this port's (trace-store spec
§8.9).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from awaken_eval.service import DatasetService, EvalService
from awaken_eval.sinks import PinKind
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import InMemoryTraceStore
from dataset_support import DATASET_KINDS, T0_MS, answer, open_datasets, parallel_tools
from test_http_host import AUTH, TOKEN, client_for, error_of, host

pytestmark = pytest.mark.anyio

SUNNY = {"final_answer_contains": ["sunny"]}
FIXTURE = {"id": "a", "user_input": "What is the weather?", "expect": SUNNY}
STORED = {**FIXTURE, "mock_response": {"kind": "text", "text": ""}}  # written out always


@pytest.fixture
def traces() -> InMemoryTraceStore:
    store = InMemoryTraceStore()
    store.add("run-a", [answer("run-a", started_at_ms=T0_MS)])
    store.add("run-b", [answer("run-b", "Sunny again.", started_at_ms=T0_MS + 60_000)])
    store.add("t1", [answer("t1", "Sunny.", question="Weather?", thread_id="th")])
    store.add(
        "t2", [answer("t2", "Still sunny.", question="Later?", thread_id="th")], indexed=False
    )
    return store


@pytest.fixture(params=DATASET_KINDS)
def app(request: pytest.FixtureRequest, tmp_path: Path, traces: InMemoryTraceStore) -> Starlette:
    datasets = open_datasets(request.param, tmp_path)
    service = EvalService(datasets=datasets, runs=InMemoryRunStore())
    dataset_service = DatasetService(datasets=datasets, traces=traces)
    app: Starlette = host.create_app(service, admin_token=TOKEN, datasets=dataset_service)
    return app


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, AUTH) as http:
        yield http


async def create(client: httpx.AsyncClient, dataset_id: str = "ds", **spec: Any) -> Any:
    response = await client.post("/v1/eval/datasets", json={"id": dataset_id, "spec": spec})
    assert 201 == response.status_code, response.text
    return response.json()


# -- CRUD --------------------------------------------------------------------------------


async def test_dataset_create_get_list_delete_round_trip(client: httpx.AsyncClient) -> None:
    created = await create(client, description="weather", fixtures=[FIXTURE])
    assert {"spec": {"description": "weather", "fixtures": [STORED]}, "meta": {"revision": 0}} == (
        created
    )
    assert created == (await client.get("/v1/eval/datasets/ds")).json()
    query_wins = await client.post("/v1/eval/datasets?id=aa", json={"id": "zz", "spec": {}})
    assert 201 == query_wins.status_code
    listed = await client.get("/v1/eval/datasets")
    assert {
        "datasets": [
            {"id": "aa", "description": "", "fixture_count": 0, "revision": 0},
            {"id": "ds", "description": "weather", "fixture_count": 1, "revision": 0},
        ]
    } == listed.json()
    paged = await client.get("/v1/eval/datasets", params={"offset": 1, "limit": 1})
    assert ["ds"] == [row["id"] for row in paged.json()["datasets"]]
    assert 204 == (await client.delete("/v1/eval/datasets/ds")).status_code
    assert 204 == (await client.delete("/v1/eval/datasets/ds")).status_code
    error_of(await client.get("/v1/eval/datasets/ds"), 404)


async def test_dataset_create_400s_without_an_id(client: httpx.AsyncClient) -> None:
    assert "id" in error_of(await client.post("/v1/eval/datasets", json={"spec": {}}), 400)


async def test_delete_dataset_guarded_by_expected_revision(client: httpx.AsyncClient) -> None:
    await create(client)
    await client.put("/v1/eval/datasets/ds", json={"expected_revision": 0, "spec": {}})
    stale = await client.delete("/v1/eval/datasets/ds", params={"expected_revision": 0})
    assert "revision conflict: expected 0, actual 1" == error_of(stale, 409)
    fresh = await client.delete("/v1/eval/datasets/ds", params={"expected_revision": 1})
    assert 204 == fresh.status_code
    bad = await client.delete("/v1/eval/datasets/ds", params={"expected_revision": "x"})
    assert "expected_revision" in error_of(bad, 400)


async def test_dataset_create_400s_on_duplicate_fixture_id(client: httpx.AsyncClient) -> None:
    body = {"id": "ds", "spec": {"fixtures": [FIXTURE, FIXTURE]}}
    response = await client.post("/v1/eval/datasets", json=body)
    assert "duplicate fixture id in dataset: a" in error_of(response, 400)


async def test_dataset_create_400s_on_invalid_min_judge_score(client: httpx.AsyncClient) -> None:
    judged = {**FIXTURE, "expect": {"min_judge_score": 1.5}}
    response = await client.post(
        "/v1/eval/datasets", json={"id": "ds", "spec": {"fixtures": [judged]}}
    )
    assert "min_judge_score" in error_of(response, 400)


async def test_dataset_put_400s_on_duplicate_fixture_id(client: httpx.AsyncClient) -> None:
    await create(client)
    body = {"expected_revision": 0, "spec": {"fixtures": [FIXTURE, FIXTURE]}}
    response = await client.put("/v1/eval/datasets/ds", json=body)
    assert "duplicate fixture id in dataset: a" in error_of(response, 400)


async def test_dataset_create_conflicts_on_duplicate_id(client: httpx.AsyncClient) -> None:
    await create(client)
    again = await client.post("/v1/eval/datasets", json={"id": "ds", "spec": {}})
    assert "already exists" in error_of(again, 409)


async def test_dataset_put_with_stale_revision_returns_409(client: httpx.AsyncClient) -> None:
    await create(client)
    first = await client.put("/v1/eval/datasets/ds", json={"expected_revision": 0, "spec": {}})
    assert (200, {"revision": 1}) == (first.status_code, first.json()["meta"])
    stale = await client.put("/v1/eval/datasets/ds", json={"expected_revision": 0, "spec": {}})
    assert "revision conflict: expected 0, actual 1" == error_of(stale, 409)


async def test_dataset_get_returns_404_for_unknown_id(client: httpx.AsyncClient) -> None:
    assert "dataset not found: nope" == error_of(await client.get("/v1/eval/datasets/nope"), 404)


async def test_dataset_bodies_and_queries_are_strict(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/v1/eval/datasets", json={"id": "ds", "spec": {}, "x": 1})
    assert "$.x: unknown key" in error_of(unknown, 400)
    query = await client.get("/v1/eval/datasets", params={"limt": 3})
    assert "limt" in error_of(query, 400)


async def test_append_fixture_adds_to_existing_dataset_and_bumps_revision(
    client: httpx.AsyncClient,
) -> None:
    await create(client)
    response = await client.post(
        "/v1/eval/datasets/ds/fixtures", json={"fixture": FIXTURE, "expected_revision": 0}
    )
    assert (201, {"revision": 1}, [STORED]) == (
        response.status_code,
        response.json()["meta"],
        response.json()["spec"]["fixtures"],
    )


async def test_append_fixture_409s_on_stale_revision(client: httpx.AsyncClient) -> None:
    await create(client)
    body = {"fixture": FIXTURE, "expected_revision": 5}
    response = await client.post("/v1/eval/datasets/ds/fixtures", json=body)
    assert "revision conflict" in error_of(response, 409)


async def test_append_fixture_409s_on_duplicate_id(client: httpx.AsyncClient) -> None:
    await create(client, fixtures=[FIXTURE])
    body = {"fixture": FIXTURE, "expected_revision": 0}
    response = await client.post("/v1/eval/datasets/ds/fixtures", json=body)
    assert "already has fixture" in error_of(response, 409)


async def test_dataset_routes_require_admin_bearer(app: Starlette) -> None:
    async with client_for(app) as anonymous:
        for method, url in [
            ("GET", "/v1/eval/datasets"),
            ("POST", "/v1/eval/datasets"),
            ("GET", "/v1/eval/datasets/ds"),
            ("PUT", "/v1/eval/datasets/ds"),
            ("DELETE", "/v1/eval/datasets/ds"),
            ("POST", "/v1/eval/datasets/ds/fixtures"),
            ("POST", "/v1/eval/datasets/ds/items"),
            ("POST", "/v1/eval/datasets/ds/import-traces"),
            ("POST", "/v1/eval/datasets/ds/import-dialogue"),
        ]:
            response = await anonymous.request(method, url, json={})
            assert 401 == response.status_code, (method, url)


# -- curation ----------------------------------------------------------------------------


async def test_curate_items_appends_fixture_recovered_from_trace(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    body = {"from_run_id": "run-a", "expected": SUNNY}
    response = await client.post("/v1/eval/datasets/ds/items", json=body)
    assert 201 == response.status_code, response.text
    record = response.json()
    assert {"revision": 1} == record["meta"]
    assert "unpinned" not in record
    (fixture,) = record["spec"]["fixtures"]
    assert ("run-a", "What is the weather?", "run-a") == (
        fixture["id"],
        fixture["user_input"],
        fixture["source_run_id"],
    )
    assert [("run-a", PinKind.DATASET)] == traces.pins


async def test_curate_items_statuses_follow_the_reference(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    url = "/v1/eval/datasets/ds/items"
    empty = await client.post(url, json={"from_run_id": "run-a"})
    assert "at least one expectation" in error_of(empty, 400)
    ghost = await client.post(url, json={"from_run_id": "ghost", "expect": SUNNY})
    assert "trace not found: ghost" == error_of(ghost, 404)
    invalid = await client.post(url, json={"from_run_id": "a\\b", "expect": SUNNY})
    assert "run id" in error_of(invalid, 400)
    traces.add("par", parallel_tools("par"))
    strict = {"from_run_id": "par", "expect": SUNNY, "provider_script_mode": "require"}
    assert "curating trace: " in error_of(await client.post(url, json=strict), 400)
    traces.add("mute", [answer("mute", question=None)])
    mute = await client.post(url, json={"from_run_id": "mute", "expect": SUNNY})
    assert "user_input" in error_of(mute, 400)
    first = await client.post(url, json={"from_run_id": "run-a", "expect": SUNNY})
    assert 201 == first.status_code
    again = await client.post(url, json={"from_run_id": "run-a", "expect": SUNNY})
    assert "already has fixture" in error_of(again, 409)
    unknown = await client.post(
        "/v1/eval/datasets/nope/items", json={"from_run_id": "run-a", "expect": SUNNY}
    )
    assert "dataset not found: nope" == error_of(unknown, 404)


async def test_curate_items_pin_failure_is_reported_in_unpinned(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    traces.fail_pin("run-a")
    body = {"from_run_id": "run-a", "expected": SUNNY}
    response = await client.post("/v1/eval/datasets/ds/items", json=body)
    assert (201, ["run-a"], {"revision": 1}) == (
        response.status_code,
        response.json()["unpinned"],
        response.json()["meta"],
    )


async def test_curation_503s_without_a_trace_store(tmp_path: Path) -> None:
    datasets = open_datasets("files", tmp_path)
    service = EvalService(datasets=datasets, runs=InMemoryRunStore())
    app = host.create_app(service, admin_token=TOKEN)  # no dataset service: no traces
    async with client_for(app, AUTH) as client:
        await create(client)
        body = {"from_run_id": "run-a", "expected": SUNNY}
        response = await client.post("/v1/eval/datasets/ds/items", json=body)
        assert "trace store not configured" == error_of(response, 503)


async def test_import_traces_appends_curatable_traces_and_skips_existing(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    url = "/v1/eval/datasets/ds/import-traces"
    first = await client.post(url, json={"expected_revision": 0, "expected": SUNNY})
    assert (200, {"imported_count": 3, "skipped_count": 0, "dataset_revision": 1}) == (
        first.status_code,
        first.json(),
    )
    assert {"run-a", "run-b", "t1"} == {run for run, _ in traces.pins}
    second = await client.post(url, json={"expected_revision": 1, "expected": SUNNY})
    assert {"imported_count": 0, "skipped_count": 3, "dataset_revision": 1} == second.json()
    stale = await client.post(url, json={"expected_revision": 0, "expected": SUNNY})
    assert "revision conflict" in error_of(stale, 409)


async def test_import_traces_400s_when_trace_lacks_user_and_skip_disabled(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    traces.add("mute", [answer("mute", question=None, started_at_ms=T0_MS + 900_000)])
    await create(client)
    url = "/v1/eval/datasets/ds/import-traces"
    body: dict[str, Any] = {"expected_revision": 0, "expected": SUNNY, "max_count": 1}
    assert "request_messages" in error_of(await client.post(url, json=body), 400)
    body["skip_uncuratable"] = True
    skipped = await client.post(url, json=body)
    assert {"imported_count": 0, "skipped_count": 1, "dataset_revision": 0} == skipped.json()


async def test_import_dialogue_stitches_runs_into_multiturn_fixture(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    url = "/v1/eval/datasets/ds/import-dialogue"
    body = {"expected_revision": 0, "run_ids": ["t1", "t2"], "expected": SUNNY}
    response = await client.post(url, json=body)
    assert (200, {"fixture_id": "t1", "dataset_revision": 1}) == (
        response.status_code,
        response.json(),
    )
    (fixture,) = (await client.get("/v1/eval/datasets/ds")).json()["spec"]["fixtures"]
    assert ["Later?"] == [turn["user_input"] for turn in fixture["continued_turns"]]
    assert [("t1", PinKind.DATASET), ("t2", PinKind.DATASET)] == traces.pins
    again = await client.post(url, json={**body, "expected_revision": 1})
    assert "already has fixture t1" in error_of(again, 409)


async def test_import_dialogue_400s_on_thread_id_mismatch_and_empty_run_ids(
    client: httpx.AsyncClient, traces: InMemoryTraceStore
) -> None:
    await create(client)
    url = "/v1/eval/datasets/ds/import-dialogue"
    mixed = {"expected_revision": 0, "run_ids": ["t1", "run-a"], "expected": SUNNY}
    assert "thread_id=" in error_of(await client.post(url, json=mixed), 400)
    empty = {"expected_revision": 0, "run_ids": [], "expected": SUNNY}
    assert "non-empty" in error_of(await client.post(url, json=empty), 400)
    assert [] == traces.pins


async def test_the_demo_app_curates_from_its_trace_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's --trace-root is a FileTraceStore: a sample trace curates and is pinned."""
    monkeypatch.setenv(host.DATA_DIR_ENV, str(tmp_path / "data"))
    root = tmp_path / "traces"
    shutil.copytree(Path(__file__).parent / "data" / "trace-samples", root)
    run_b = "019c1f39-db38-7056-8fbf-3bafc5e8d47e"
    app = host.demo_app(admin_token=TOKEN, trace_root=str(root))
    async with app.router.lifespan_context(app), client_for(app, AUTH) as client:
        body: dict[str, Any] = {"from_run_id": "ghost", "expected": SUNNY}
        response = await client.post("/v1/eval/datasets/quickstart/items", json=body)
        assert "trace not found: ghost" == error_of(response, 404)  # a store, not a 503
        assert not (root / "2026-02" / f"{run_b}.ref").exists()
        body = {"from_run_id": run_b, "expected": {"final_answer_contains": ["weather"]}}
        response = await client.post("/v1/eval/datasets/quickstart/items", json=body)
        assert 201 == response.status_code, response.text
        fixtures = response.json()["spec"]["fixtures"]
        curated = next(fixture for fixture in fixtures if fixture["id"] == run_b)
        assert "What can you help me with?" == curated["user_input"]
    assert b"D\n" == (root / "2026-02" / f"{run_b}.ref").read_bytes()  # pinned after the write
