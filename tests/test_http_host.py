"""The web host example (``examples/http_host/app.py``) over HTTP.

The app is driven through httpx's ASGI transport (no socket) on asyncio and trio. The
tests pin the reference server's eval routes (spec §4.4, §4.5, §4.9, §4.10; the test
names of §7.14) and the improvements of §8.1 item 16: authorization is checked before
the body is read, and every error, including a malformed body, is JSON.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from awaken_eval import DatasetSpec, Expectation, Fixture, ResolvedModel, load_directory
from awaken_eval.records import EvalRunFilter
from awaken_eval.service import EvalService, StaticModelResolver
from awaken_eval.stores import FileDatasetStore, InMemoryDatasetStore, InMemoryRunStore
from awaken_eval.testing import CannedTextExecutor

ROOT = Path(__file__).resolve().parent.parent
APP_PATH = ROOT / "examples" / "http_host" / "app.py"
QUICKSTART_FIXTURES = ROOT / "examples" / "quickstart" / "fixtures"
TOKEN = "s3cret-token"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CANNED_ANSWER = "hello from the canned model"
UNKNOWN_RUN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def load_host() -> ModuleType:
    """Import the example by path: ``examples/`` is not a package."""
    spec = importlib.util.spec_from_file_location("http_host_app", APP_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


host = load_host()


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def runs() -> InMemoryRunStore:
    return InMemoryRunStore()


@pytest.fixture
async def datasets() -> InMemoryDatasetStore:
    store = InMemoryDatasetStore()
    quickstart = DatasetSpec(fixtures=tuple(load_directory(QUICKSTART_FIXTURES)))
    await store.put("quickstart", quickstart, expected_revision=None)
    small = DatasetSpec(
        fixtures=(
            Fixture("greet", "Say hello.", expect=Expectation(final_answer_contains=("hello",))),
            Fixture("model", "Who are you?", expect=Expectation(final_answer_contains=("model",))),
        )
    )
    await store.put("small", small, expected_revision=None)
    judged = DatasetSpec(
        fixtures=(Fixture("kind", "Be kind.", expect=Expectation(min_judge_score=0.5)),)
    )
    await store.put("judged", judged, expected_revision=None)
    await store.put("empty", DatasetSpec(), expected_revision=None)
    return store


@pytest.fixture
def service(datasets: InMemoryDatasetStore, runs: InMemoryRunStore) -> EvalService:
    model = ResolvedModel(
        model_id="demo", executor=CannedTextExecutor([CANNED_ANSWER]), upstream_model="canned"
    )
    return EvalService(datasets=datasets, runs=runs, models=StaticModelResolver([model]))


@pytest.fixture
def app(service: EvalService) -> Starlette:
    app: Starlette = host.create_app(service, admin_token=TOKEN)
    return app


def client_for(app: Starlette, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, AUTH) as http:
        yield http


@pytest.fixture
async def anonymous(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


def error_of(response: httpx.Response, status: int) -> str:
    """Check ``response`` is a JSON error with ``status``; return its message."""
    assert (status, "application/json") == (
        response.status_code,
        response.headers["content-type"],
    ), response.text
    body = response.json()
    assert ["error"] == list(body)
    message: str = body["error"]
    return message


async def stored_run_ids(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/v1/eval/runs")
    assert 200 == response.status_code, response.text
    return [run["id"] for run in response.json()["runs"]]


ROUTES = [
    ("POST", "/v1/eval/runs"),
    ("GET", "/v1/eval/runs"),
    ("GET", f"/v1/eval/runs/{UNKNOWN_RUN_ID}"),
    ("GET", f"/v1/eval/runs/{UNKNOWN_RUN_ID}/report"),
    ("POST", "/v1/eval/online"),
]

# -- authorization (spec §4.10, §8.1 item 16) ------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "url"), ROUTES)
async def test_eval_routes_require_admin_bearer(
    anonymous: httpx.AsyncClient, method: str, url: str
) -> None:
    response = await anonymous.request(method, url, json={"dataset_id": "quickstart"})
    assert "missing Authorization header" == error_of(response, 401)
    assert "Bearer" == response.headers["www-authenticate"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer wrong", "invalid admin token"),
        (f"Bearer {TOKEN}x", "invalid admin token"),
        (f"Bearer {TOKEN[:-1]}", "invalid admin token"),
        ("Bearer ", "invalid admin token"),
        (f"Bearer  {TOKEN}", "invalid admin token"),
        (f"Basic {TOKEN}", "expected a Bearer token"),
        (TOKEN, "expected a Bearer token"),
    ],
)
@pytest.mark.parametrize(("method", "url"), ROUTES)
async def test_eval_routes_refuse_a_wrong_token(
    anonymous: httpx.AsyncClient, method: str, url: str, header: str, message: str
) -> None:
    response = await anonymous.request(method, url, headers={"Authorization": header})
    assert message == error_of(response, 401)


@pytest.mark.anyio
async def test_the_bearer_scheme_is_case_insensitive(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/eval/runs", headers={"Authorization": f"bearer {TOKEN}"})
    assert 200 == response.status_code


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "url"), ROUTES)
async def test_eval_routes_refuse_two_authorization_headers(
    anonymous: httpx.AsyncClient, method: str, url: str
) -> None:
    headers = [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")]
    response = await anonymous.request(method, url, headers=headers)
    assert "expected exactly one Authorization header" == error_of(response, 401)


@pytest.mark.anyio
@pytest.mark.parametrize("configured", [None, ""])
async def test_eval_routes_refuse_everything_without_a_configured_token(
    service: EvalService, configured: str | None
) -> None:
    app = host.create_app(service, admin_token=configured)
    async with client_for(app, {"Authorization": "Bearer "}) as http:
        for method, url in ROUTES:
            response = await http.request(method, url)
            assert "eval API admin token not configured" == error_of(response, 401)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body", [b"{", b"not json", b'{"dataset_idd": "quickstart"}', b"\xff"], ids=repr
)
@pytest.mark.parametrize("url", ["/v1/eval/runs", "/v1/eval/online"])
async def test_unauthorized_beats_a_malformed_body(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, url: str, body: bytes
) -> None:
    response = await anonymous.post(url, content=body, headers={"Authorization": "Bearer no"})
    assert "invalid admin token" == error_of(response, 401)
    assert [] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_unauthorized_beats_a_bad_query(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/eval/runs?limit=x&offset=3")
    assert "missing Authorization header" == error_of(response, 401)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/eval/runs"), ("POST", "/v1/eval/online")]
)
async def test_authorization_is_checked_before_the_body_is_read(
    app: Starlette, method: str, path: str
) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        pytest.fail("the body was read before authorization")

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", b"Bearer wrong"), (b"content-length", b"2")],
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
    }
    await app(scope, receive, send)
    assert 401 == sent[0]["status"]
    assert {"error": "invalid admin token"} == json.loads(sent[1]["body"])


# -- starting a dataset run (spec §4.4) -------------------------------------------------------

START_RUN_RULES = [
    pytest.param(
        {"mode": "scripted", "models": ["demo"]},
        '`models` is only valid with mode="live"',
        id="start_eval_run_400s_when_scripted_mode_has_models",
    ),
    pytest.param(
        {"models": []}, "non-empty", id="start_eval_run_400s_when_models_supplied_but_empty"
    ),
    pytest.param(
        {"mode": "live", "models": []},
        "non-empty",
        id="start_eval_run_400s_when_live_mode_has_empty_models",
    ),
    pytest.param(
        {"models": ["demo", "other", "demo"]},
        "duplicate model id in models axis: demo",
        id="start_eval_run_400s_on_duplicate_models",
    ),
    pytest.param(
        {"mode": "live"},
        'mode="live" requires',
        id="start_eval_run_400s_when_live_mode_omits_models",
    ),
    pytest.param(
        {"max_walltime_secs": 5},
        'max_walltime_secs requires mode="live"',
        id="start_eval_run_400s_when_scripted_sets_walltime",
    ),
    pytest.param(
        {"max_total_tokens": 500},
        'max_total_tokens requires mode="live"',
        id="start_eval_run_400s_when_scripted_sets_token_budget",
    ),
    pytest.param(
        {"models": ["demo"], "max_walltime_secs": 0},
        "max_walltime_secs must be >= 1",
        id="start_eval_run_400s_on_zero_walltime",
    ),
    pytest.param(
        {"agent_id": "helper"},
        'agent_id requires mode="live"',
        id="start_eval_run_400s_when_scripted_with_agent_id",
    ),
    pytest.param(
        {"agent_overrides": {"system_prompt": "Be brief."}},
        'agent_overrides requires mode="live"',
        id="start_eval_run_400s_when_scripted_with_agent_overrides",
    ),
    pytest.param(
        {"models": ["demo"], "samples": 0},
        "samples must be >= 1",
        id="start_eval_run_400s_on_zero_samples",
    ),
    pytest.param(
        {"samples": 0}, "samples must be >= 1", id="start_eval_run_400s_on_zero_samples_scripted"
    ),
    pytest.param(
        {"samples": 2},
        'samples requires mode="live": scripted replays are deterministic',
        id="start_eval_run_400s_when_samples_without_models",
    ),
    pytest.param(
        {"models": ["demo"], "samples": 21},
        "samples=21 exceeds cap 20",
        id="start_eval_run_400s_when_samples_above_cap",
    ),
    pytest.param(
        {"judge": {"model_id": "demo", "rubric": "Be kind."}},
        'judge requires mode="live"',
        id="start_eval_run_400s_when_judge_without_models",
    ),
    pytest.param(
        {"models": ["demo"], "judge": {"model_id": "demo", "revise_max_retries": 4}},
        "revise_max_retries=4 exceeds cap 3",
        id="start_eval_run_400s_when_revise_max_retries_above_cap",
    ),
    pytest.param(
        {"models": ["demo"], "samples": 11},
        "expands to 154 units",
        id="start_eval_run_caps_total_cells",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("fields", "fragment"), START_RUN_RULES)
async def test_start_run_rules(
    client: httpx.AsyncClient, fields: dict[str, Any], fragment: str
) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "quickstart", **fields})
    message = error_of(response, 400)
    assert fragment in message
    assert [] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_404s_on_unknown_dataset(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "nope"})
    assert "dataset not found: nope" == error_of(response, 404)


@pytest.mark.anyio
async def test_start_eval_run_400s_for_empty_dataset(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "empty"})
    assert "dataset empty has no fixtures to replay" == error_of(response, 400)


@pytest.mark.anyio
async def test_start_eval_run_baseline_validated_before_replay(
    client: httpx.AsyncClient,
) -> None:
    body = {"dataset_id": "quickstart", "baseline_run_id": UNKNOWN_RUN_ID}
    response = await client.post("/v1/eval/runs", json=body)
    assert f"baseline eval run not found: {UNKNOWN_RUN_ID}" == error_of(response, 404)
    assert [] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_shape_errors_surface_before_baseline_check(
    client: httpx.AsyncClient,
) -> None:
    body = {"dataset_id": "quickstart", "baseline_run_id": UNKNOWN_RUN_ID, "samples": 0}
    response = await client.post("/v1/eval/runs", json=body)
    assert "samples must be >= 1" in error_of(response, 400)


@pytest.mark.anyio
async def test_start_eval_run_drives_dataset_and_persists(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})
    assert 200 == response.status_code, response.text
    body = response.json()
    assert {"run"} == set(body)
    run = body["run"]
    assert ("quickstart", 0, "scripted") == (
        run["dataset_id"],
        run["dataset_revision"],
        run["execution_mode"],
    )
    assert 14 == len(run["items"])
    assert all(item["report"]["passed"] for item in run["items"])
    assert all("cell" not in item for item in run["items"])
    assert [run["id"]] == await stored_run_ids(client)
    stored = await client.get(f"/v1/eval/runs/{run['id']}")
    assert 200 == stored.status_code
    assert {"run": run} == stored.json()


@pytest.mark.anyio
async def test_start_eval_run_accepts_explicit_scripted_mode(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "small", "mode": "scripted"})
    assert 200 == response.status_code, response.text
    items = response.json()["run"]["items"]
    assert [None, None] == [item.get("cell") for item in items]


@pytest.mark.anyio
async def test_start_run_with_a_baseline_includes_the_diff(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()
    body = {"dataset_id": "quickstart", "baseline_run_id": first["run"]["id"]}
    response = await client.post("/v1/eval/runs", json=body)
    assert 200 == response.status_code, response.text
    second = response.json()
    assert {"run", "diff", "baseline_check"} <= set(second)
    assert 14 * ["unchanged"] == [entry["kind"] for entry in second["diff"]["entries"]]
    assert [second["run"]["id"], first["run"]["id"]] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_live_run_with_a_resolved_model(client: httpx.AsyncClient) -> None:
    body = {"dataset_id": "small", "models": ["demo"], "samples": 2}
    response = await client.post("/v1/eval/runs", json=body)
    assert 200 == response.status_code, response.text
    run = response.json()["run"]
    assert "live" == run["execution_mode"]
    summary = [
        (item["fixture_id"], item["sample_index"], item["report"]["passed"])
        for item in run["items"]
    ]
    assert [
        ("greet", 0, True),
        ("greet", 1, True),
        ("model", 0, True),
        ("model", 1, True),
    ] == summary
    assert {"demo"} == {item["cell"]["model_id"] for item in run["items"]}
    assert [run["id"]] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_live_run_applies_agent_overrides(
    client: httpx.AsyncClient, service: EvalService
) -> None:
    body = {
        "dataset_id": "small",
        "models": ["demo"],
        "agent_overrides": {"system_prompt": "Be brief.", "sampling": {"temperature": 0.5}},
    }
    response = await client.post("/v1/eval/runs", json=body)
    assert 200 == response.status_code, response.text
    assert service.models is not None
    executor = (await service.models.resolve_model("demo")).executor
    assert isinstance(executor, CannedTextExecutor)
    assert [("Be brief.", 0.5), ("Be brief.", 0.5)] == [
        (request.system, request.sampling.temperature) for request in executor.requests
    ]


@pytest.mark.anyio
async def test_start_eval_run_baseline_rejects_sample_count_mismatch_before_replay(
    client: httpx.AsyncClient,
) -> None:
    body = {"dataset_id": "small", "models": ["demo"], "samples": 2}
    baseline = (await client.post("/v1/eval/runs", json=body)).json()["run"]
    response = await client.post(
        "/v1/eval/runs", json={**body, "samples": 3, "baseline_run_id": baseline["id"]}
    )
    assert "different sample counts: baseline=2 new=3" in error_of(response, 400)
    assert [baseline["id"]] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_baseline_rejects_execution_mode_mismatch_before_replay(
    client: httpx.AsyncClient,
) -> None:
    live = {"dataset_id": "small", "models": ["demo"]}
    baseline = (await client.post("/v1/eval/runs", json=live)).json()["run"]
    body = {"dataset_id": "small", "baseline_run_id": baseline["id"]}
    response = await client.post("/v1/eval/runs", json=body)
    expected = "cannot diff across execution modes: baseline=live new=scripted"
    assert expected == error_of(response, 400)
    assert [baseline["id"]] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_baseline_rejects_wrong_dataset_before_replay(
    client: httpx.AsyncClient,
) -> None:
    baseline = (await client.post("/v1/eval/runs", json={"dataset_id": "small"})).json()["run"]
    body = {"dataset_id": "quickstart", "baseline_run_id": baseline["id"]}
    response = await client.post("/v1/eval/runs", json=body)
    assert "cannot diff across datasets" in error_of(response, 400)
    assert [baseline["id"]] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_with_models_404s_on_unknown_model(
    client: httpx.AsyncClient,
) -> None:
    body = {"dataset_id": "small", "models": ["demo", "nope"]}
    response = await client.post("/v1/eval/runs", json=body)
    assert "model not found: models/nope" == error_of(response, 404)
    assert [] == await stored_run_ids(client)


@pytest.mark.anyio
async def test_start_eval_run_404s_on_unknown_agent_id(client: httpx.AsyncClient) -> None:
    body = {"dataset_id": "small", "models": ["demo"], "agent_id": "helper"}
    response = await client.post("/v1/eval/runs", json=body)
    assert "agent not found: agents/helper" in error_of(response, 404)


@pytest.mark.anyio
async def test_start_eval_run_404s_on_unknown_judge_model(client: httpx.AsyncClient) -> None:
    body = {
        "dataset_id": "judged",
        "models": ["demo"],
        "judge": {"model_id": "grader", "rubric": "Kindness."},
    }
    response = await client.post("/v1/eval/runs", json=body)
    assert "model not found: models/grader" == error_of(response, 404)


@pytest.mark.anyio
async def test_start_eval_run_400s_when_min_judge_score_has_no_live_judge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/eval/runs", json={"dataset_id": "judged", "models": ["demo"]})
    assert "fixture kind: min_judge_score needs an LLM judge" in error_of(response, 400)


@pytest.mark.anyio
async def test_an_unused_judge_is_not_resolved_and_is_reported(client: httpx.AsyncClient) -> None:
    body = {"dataset_id": "small", "models": ["demo"], "judge": {"model_id": "grader"}}
    response = await client.post("/v1/eval/runs", json=body)
    assert 200 == response.status_code, response.text
    [warning] = response.json()["warnings"]
    assert "judge model 'grader' was not resolved or invoked" in warning


# -- malformed bodies (spec §8.1 item 16) ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "body", "fragment"),
    [
        ("/v1/eval/runs", b"{", "$: invalid JSON"),
        ("/v1/eval/runs", b"", "$: invalid JSON"),
        ("/v1/eval/runs", b"[]", "$: expected a JSON object, got an array"),
        ("/v1/eval/runs", b'{"dataset_idd": "quickstart"}', "$.dataset_idd: unknown key"),
        ("/v1/eval/runs", b'{"dataset_id": "quickstart", "samples": -1}', "$.samples"),
        (
            "/v1/eval/runs",
            b'{"dataset_id": "q", "judge": {"model_idd": "x"}}',
            "$.judge.model_idd: unknown key",
        ),
        ("/v1/eval/runs", b'{"dataset_id": "q", "mode": "replay"}', "$.mode"),
        ("/v1/eval/online", b"{", "$: invalid JSON"),
        (
            "/v1/eval/online",
            b'{"user_input": "hi", "models": ["demo"], "expectations": {"final_answer_contain": []}}',
            "$.expectations.final_answer_contain: unknown key",
        ),
        ("/v1/eval/online", b'{"models": ["demo"]}', "$.user_input: required key is missing"),
    ],
)
async def test_malformed_bodies_are_json_400s_with_the_path(
    client: httpx.AsyncClient, url: str, body: bytes, fragment: str
) -> None:
    response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
    message = error_of(response, 400)
    assert message.startswith("invalid request body: ")
    assert fragment in message


# -- reading runs (spec §4.9) ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_eval_run_with_baseline_surfaces_diff(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()
    second = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()
    url = f"/v1/eval/runs/{second['run']['id']}"
    response = await client.get(url, params={"baseline": first["run"]["id"]})
    assert 200 == response.status_code, response.text
    body = response.json()
    assert second["run"] == body["run"]
    assert 14 * ["unchanged"] == [entry["kind"] for entry in body["diff"]["entries"]]
    assert "aggregates" not in body


@pytest.mark.anyio
async def test_get_eval_run_with_unknown_baseline_returns_404(client: httpx.AsyncClient) -> None:
    run = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()["run"]
    response = await client.get(f"/v1/eval/runs/{run['id']}", params={"baseline": UNKNOWN_RUN_ID})
    assert f"baseline eval run not found: {UNKNOWN_RUN_ID}" == error_of(response, 404)


@pytest.mark.anyio
async def test_get_eval_run_baseline_400s_on_dataset_id_mismatch(
    client: httpx.AsyncClient,
) -> None:
    small = (await client.post("/v1/eval/runs", json={"dataset_id": "small"})).json()["run"]
    quick = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()["run"]
    response = await client.get(f"/v1/eval/runs/{quick['id']}", params={"baseline": small["id"]})
    assert "cannot diff across datasets" in error_of(response, 400)


@pytest.mark.anyio
async def test_get_eval_run_baseline_400s_on_adhoc_run(client: httpx.AsyncClient) -> None:
    online = {"user_input": "Say hello.", "models": ["demo"]}
    adhoc = (await client.post("/v1/eval/online", json=online)).json()["run"]
    live = {"dataset_id": "small", "models": ["demo"]}
    run = (await client.post("/v1/eval/runs", json=live)).json()["run"]
    for current, baseline in ((adhoc, run), (run, adhoc)):
        url = f"/v1/eval/runs/{current['id']}"
        response = await client.get(url, params={"baseline": baseline["id"]})
        assert "cannot diff ad-hoc runs" in error_of(response, 400)


@pytest.mark.anyio
async def test_get_run_with_aggregate_samples_returns_pass_at_k_rollup(
    client: httpx.AsyncClient,
) -> None:
    body = {"dataset_id": "small", "models": ["demo"], "samples": 3}
    run = (await client.post("/v1/eval/runs", json=body)).json()["run"]
    response = await client.get(f"/v1/eval/runs/{run['id']}", params={"aggregate": "samples"})
    assert 200 == response.status_code, response.text
    aggregates = response.json()["aggregates"]
    assert [("greet", 3, 3, True, [1.0, 1.0, 1.0]), ("model", 3, 3, True, [1.0, 1.0, 1.0])] == [
        (row["fixture_id"], row["samples"], row["passed"], row["pass_pow_k"], row["pass_at"])
        for row in aggregates
    ]


@pytest.mark.anyio
async def test_get_run_default_omits_aggregates(client: httpx.AsyncClient) -> None:
    run = (await client.post("/v1/eval/runs", json={"dataset_id": "small"})).json()["run"]
    response = await client.get(f"/v1/eval/runs/{run['id']}")
    assert {"run"} == set(response.json())


@pytest.mark.anyio
async def test_get_run_rejects_unknown_aggregate_value(client: httpx.AsyncClient) -> None:
    run = (await client.post("/v1/eval/runs", json={"dataset_id": "small"})).json()["run"]
    response = await client.get(f"/v1/eval/runs/{run['id']}", params={"aggregate": "other"})
    assert "unknown aggregate 'other'" in error_of(response, 400)


@pytest.mark.anyio
async def test_get_run_404s_on_unknown_run(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/eval/runs/{UNKNOWN_RUN_ID}")
    assert f"eval run not found: {UNKNOWN_RUN_ID}" == error_of(response, 404)


@pytest.mark.anyio
async def test_get_run_400s_on_invalid_run_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/eval/runs/a%5Cb")
    assert "invalid run id" in error_of(response, 400)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "query", ["since_secs=1", "baseline=x&baselines=y", "aggregate=samples&x="]
)
async def test_get_run_refuses_unknown_query_keys(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/v1/eval/runs/{UNKNOWN_RUN_ID}?{query}")
    assert "unknown query parameter" in error_of(response, 400)


@pytest.mark.anyio
async def test_get_run_refuses_a_repeated_query_key(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/eval/runs/{UNKNOWN_RUN_ID}?aggregate=samples&aggregate=x")
    assert "query parameter 'aggregate' is given more than once" == error_of(response, 400)


@pytest.mark.anyio
async def test_list_runs_filters_newest_first(
    client: httpx.AsyncClient, runs: InMemoryRunStore
) -> None:
    ids = [
        (await client.post("/v1/eval/runs", json={"dataset_id": dataset})).json()["run"]["id"]
        for dataset in ("small", "quickstart", "small")
    ]
    expected = await runs.list(EvalRunFilter(dataset_id="small"))
    response = await client.get("/v1/eval/runs", params={"dataset_id": "small"})
    assert 200 == response.status_code
    listed = response.json()["runs"]
    assert [summary.id for summary in expected] == [row["id"] for row in listed]
    assert {ids[0], ids[2]} == {row["id"] for row in listed}
    limited = await client.get("/v1/eval/runs", params={"limit": "1"})
    assert [(await runs.list(EvalRunFilter(limit=1)))[0].id] == [
        row["id"] for row in limited.json()["runs"]
    ]
    started = listed[0]["started_at_secs"]
    window = {"since_secs": str(started + 1), "until_secs": str(started + 2)}
    assert [] == (await client.get("/v1/eval/runs", params=window)).json()["runs"]


@pytest.mark.anyio
@pytest.mark.parametrize("query", ["offset=0", "dataset=small", "limit=1&page=2"])
async def test_list_runs_refuses_unknown_query_keys(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/v1/eval/runs?{query}")
    assert "unknown query parameter" in error_of(response, 400)


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["since_secs", "until_secs", "limit"])
@pytest.mark.parametrize("value", ["x", "-1", "1.5", "", " 1", "\u00b2"])
async def test_list_runs_refuses_non_integers_naming_the_key(
    client: httpx.AsyncClient, key: str, value: str
) -> None:
    response = await client.get("/v1/eval/runs", params={key: value})
    assert f"query parameter {key!r} must be a non-negative integer" in error_of(response, 400)


@pytest.mark.anyio
async def test_list_runs_refuses_out_of_range_integers(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/eval/runs", params={"limit": str(2**32)})
    assert "invalid query: $.limit" in error_of(response, 400)


@pytest.mark.anyio
async def test_list_runs_refuses_a_repeated_query_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/eval/runs?limit=1&limit=2")
    assert "query parameter 'limit' is given more than once" == error_of(response, 400)


# -- online runs (spec §4.5) --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_online_eval_runs_and_persists(client: httpx.AsyncClient) -> None:
    body = {
        "user_input": "Say hello.",
        "models": ["demo"],
        "expectations": {"final_answer_contains": ["hello"]},
    }
    response = await client.post("/v1/eval/online", json=body)
    assert 200 == response.status_code, response.text
    answer = response.json()
    assert True is answer["persisted"]
    run = answer["run"]
    assert ("_adhoc", 0, "live") == (
        run["dataset_id"],
        run["dataset_revision"],
        run["execution_mode"],
    )
    [item] = run["items"]
    assert ("_adhoc", True, CANNED_ANSWER) == (
        item["fixture_id"],
        item["report"]["passed"],
        item["report"]["final_text"],
    )
    stored = await client.get(f"/v1/eval/runs/{run['id']}")
    assert run == stored.json()["run"]


@pytest.mark.anyio
async def test_online_eval_without_persist_stores_nothing(client: httpx.AsyncClient) -> None:
    body = {"user_input": "Say hello.", "models": ["demo"], "persist": False}
    response = await client.post("/v1/eval/online", json=body)
    assert 200 == response.status_code, response.text
    assert False is response.json()["persisted"]
    assert [] == await stored_run_ids(client)


ONLINE_RULES = [
    pytest.param({"models": []}, 400, "`models`", id="online_eval_400s_on_empty_models"),
    pytest.param(
        {"models": [f"m{number}" for number in range(11)]},
        400,
        "11 units",
        id="online_eval_400s_on_too_many_models",
    ),
    pytest.param(
        {"models": ["demo", "demo"]},
        400,
        "duplicate model id in models axis: demo",
        id="online_eval_400s_on_duplicate_models",
    ),
    pytest.param(
        {"max_walltime_secs": 0},
        400,
        "max_walltime_secs must be >= 1",
        id="online_eval_400s_on_zero_walltime",
    ),
    pytest.param(
        {"samples": 0}, 400, "samples must be >= 1", id="online_eval_400s_on_zero_samples"
    ),
    pytest.param(
        {"samples": 21},
        400,
        "samples=21 exceeds cap 20",
        id="online_eval_400s_on_samples_above_cap",
    ),
    pytest.param(
        {"models": ["demo", "other"], "samples": 6},
        400,
        "12 units",
        id="online_eval_400s_when_total_units_blow_cap",
    ),
    pytest.param(
        {"expectations": {"min_judge_score": 0.5}},
        400,
        "online expectations: min_judge_score needs an LLM judge",
        id="online_eval_400s_when_min_judge_score_has_no_judge",
    ),
    pytest.param(
        {"judge": {"model_id": "demo", "revise_max_retries": 4}},
        400,
        "revise_max_retries=4 exceeds cap 3",
        id="online_eval_400s_when_revise_max_retries_above_cap",
    ),
    pytest.param(
        {"models": ["nope"]},
        404,
        "model not found: models/nope",
        id="online_eval_404s_on_unknown_model",
    ),
    pytest.param(
        {"agent_id": "helper"},
        404,
        "agent not found: agents/helper",
        id="online_eval_404s_on_unknown_agent_id",
    ),
    pytest.param(
        {
            "expectations": {"min_judge_score": 0.5},
            "judge": {"model_id": "grader", "rubric": "Kindness."},
        },
        404,
        "model not found: models/grader",
        id="online_eval_404s_on_unknown_judge_model",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("fields", "status", "fragment"), ONLINE_RULES)
async def test_online_eval_rules(
    client: httpx.AsyncClient, fields: dict[str, Any], status: int, fragment: str
) -> None:
    body = {"user_input": "Say hello.", "models": ["demo"], **fields}
    response = await client.post("/v1/eval/online", json=body)
    assert fragment in error_of(response, status)
    assert [] == await stored_run_ids(client)


# -- other errors ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unknown_paths_and_methods_are_json_errors(client: httpx.AsyncClient) -> None:
    assert "Not Found" == error_of(await client.get("/v1/eval/nothing"), 404)
    assert "Method Not Allowed" == error_of(await client.delete("/v1/eval/runs"), 405)
    assert "Method Not Allowed" == error_of(await client.get("/v1/eval/online"), 405)


def failing_id_factory() -> str:
    msg = "id source unavailable"
    raise RuntimeError(msg)


@pytest.mark.anyio
async def test_an_unexpected_exception_is_a_logged_500(
    datasets: InMemoryDatasetStore, runs: InMemoryRunStore, caplog: pytest.LogCaptureFixture
) -> None:
    service = EvalService(datasets=datasets, runs=runs, id_factory=failing_id_factory)
    async with client_for(host.create_app(service, admin_token=TOKEN), AUTH) as http:
        with caplog.at_level(logging.ERROR, logger="awaken_eval.http_host"):
            response = await http.post("/v1/eval/runs", json={"dataset_id": "small"})
    assert "internal error" == error_of(response, 500)
    [record] = caplog.records
    assert isinstance(record.exc_info, tuple)
    assert "id source unavailable" == str(record.exc_info[1])


class BrokenRunStore(InMemoryRunStore):
    async def list(self, run_filter: EvalRunFilter) -> list[Any]:
        msg = "disk on fire"
        raise OSError(msg)


@pytest.mark.anyio
async def test_a_store_failure_is_a_logged_500_without_its_details(
    datasets: InMemoryDatasetStore, caplog: pytest.LogCaptureFixture
) -> None:
    service = EvalService(datasets=datasets, runs=BrokenRunStore())
    async with client_for(host.create_app(service, admin_token=TOKEN), AUTH) as http:
        with caplog.at_level(logging.ERROR, logger="awaken_eval.http_host"):
            response = await http.get("/v1/eval/runs")
    assert "internal error" == error_of(response, 500)  # the details can name server files
    [record] = caplog.records
    assert isinstance(record.exc_info, tuple)
    assert "could not list eval runs: disk on fire" == str(record.exc_info[1])


# -- the demo ---------------------------------------------------------------------------------------------


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv(host.TOKEN_ENV, raising=False)
    monkeypatch.setenv(host.DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


def test_the_demo_command_drives_every_route(
    demo_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 0 == host.main(["--demo"])
    out, err = capsys.readouterr()
    assert "" == err
    lines = out.splitlines()
    assert "admin token: dev-token (set AWAKEN_EVAL_ADMIN_TOKEN to choose one)" == lines[0]
    assert "dataset quickstart, revision 0" == lines[1]
    statuses = [line.split(" {", 1)[0].rsplit(" ", 1)[1] for line in lines[2:]]
    assert ["401", "200", "200", "400", "200", "200", "200", "200", "201", "409", "503"] == statuses
    assert '"items": 14, "passed": 14' in lines[3]
    assert '"diff": {"unchanged": 14}' in lines[4]
    assert '"aggregates": 14' in lines[7]
    assert '"persisted": false' in lines[8]
    assert '{"datasets": {"quickstart": 0}}' in lines[9]
    assert '{"revision": 1, "fixtures": 15}' in lines[10]
    assert "already has fixture wave" in lines[11]
    assert "trace store not configured" in lines[12]
    assert not demo_env.exists()  # the demo works in a temporary directory


def test_the_demo_does_not_print_a_configured_token(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(host.TOKEN_ENV, "from-the-environment")
    assert 0 == host.main(["--demo"])
    out = capsys.readouterr().out
    assert "from-the-environment" not in out
    assert "dataset quickstart, revision 0" == out.splitlines()[0]


def test_serving_without_uvicorn_says_how_to_run_the_demo(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_uvicorn(name: str) -> ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(host.importlib, "import_module", no_uvicorn)
    assert 2 == host.main([])
    assert "uvicorn is not installed" in capsys.readouterr().out


@pytest.mark.anyio
async def test_the_demo_app_seeds_the_quickstart_dataset_once(demo_env: Path) -> None:
    # Each start runs the app's lifespan (which seeds), as a server would.
    for _ in range(2):
        app = host.demo_app(admin_token=TOKEN)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=AUTH
            ) as http:
                response = await http.post("/v1/eval/runs", json={"dataset_id": "quickstart"})
        assert 200 == response.status_code, response.text
        assert 0 == response.json()["run"]["dataset_revision"]


@pytest.mark.anyio
async def test_seeding_keeps_an_existing_dataset(tmp_path: Path) -> None:
    store = FileDatasetStore(tmp_path)
    assert 0 == await host.seed_quickstart(store)
    assert 0 == await host.seed_quickstart(store)
    record = await store.get("quickstart")
    assert 14 == len(record.spec.fixtures)


# -- the HTML report -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_report_serves_the_run_as_one_html_page(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()
    second = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()
    url = f"/v1/eval/runs/{second['run']['id']}/report"
    response = await client.get(url, params={"baseline": first["run"]["id"]})
    assert (200, "text/html; charset=utf-8") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert response.text.startswith("<!DOCTYPE html>")
    assert second["run"]["id"] in response.text
    assert first["run"]["id"] in response.text  # the diff names its baseline


@pytest.mark.anyio
async def test_get_report_errors_are_json(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/eval/runs/{UNKNOWN_RUN_ID}/report")
    assert f"eval run not found: {UNKNOWN_RUN_ID}" == error_of(response, 404)
    run = (await client.post("/v1/eval/runs", json={"dataset_id": "quickstart"})).json()["run"]
    response = await client.get(f"/v1/eval/runs/{run['id']}/report", params={"aggregate": "x"})
    assert "unknown query parameter 'aggregate'" in error_of(response, 400)
    small = (await client.post("/v1/eval/runs", json={"dataset_id": "small"})).json()["run"]
    response = await client.get(
        f"/v1/eval/runs/{run['id']}/report", params={"baseline": small["id"]}
    )
    assert "cannot diff across datasets" in error_of(response, 400)
