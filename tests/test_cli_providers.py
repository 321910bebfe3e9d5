"""The CLI over real provider SDKs: ``--models openai:X``, ``models check``, costs, ``--record``.

The SDKs find the local ``fake_provider`` server through their own environment
(``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``), as a user's shell would set it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from awaken_eval.stores import SqliteRunStore
from cli_support import Cli
from fake_provider import FakeProvider, serve

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with serve() as provider:
        yield provider


@pytest.fixture
def env(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.delenv("AWAKEN_EVAL_PRICES", raising=False)
    return fake


def dataset(tmp_path: Path, *fixtures: dict[str, Any]) -> Path:
    directory = tmp_path / "ds"
    directory.mkdir()
    for fixture in fixtures:
        (directory / f"{fixture['id']}.json").write_text(json.dumps(fixture))
    return directory


def answer_42(fixture_id: str = "q42", phrase: str = "42") -> dict[str, Any]:
    return {
        "id": fixture_id,
        "user_input": f"what is six times seven? ({fixture_id})",
        "expect": {"final_answer_contains": [phrase]},
    }


def prices(tmp_path: Path, *model_ids: str) -> Path:
    path = tmp_path / "prices.json"
    models = {
        model_id: {"input_per_million_usd": 1.0, "output_per_million_usd": 2.0}
        for model_id in model_ids
    }
    path.write_text(json.dumps({"as_of": "2030-01-01", "models": models}))
    return path


def stored(store: Path, run_id: str) -> Any:
    sqlite = SqliteRunStore(store)
    try:
        return anyio.run(sqlite.read, run_id)
    finally:
        sqlite.close()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_live_run_over_a_provider_needs_no_executor_and_stores_usage_and_cost(
    cli: Cli, env: FakeProvider, tmp_path: Path, provider: str
) -> None:
    store = tmp_path / "runs.sqlite3"
    model = f"{provider}:plain"
    result = cli(
        "run",
        str(dataset(tmp_path, answer_42("a"), answer_42("b"))),
        "--mode",
        "live",
        "--models",
        model,
        "--samples",
        "3",
        "--prices",
        str(prices(tmp_path, model)),
        "--store",
        str(store),
    )

    assert 0 == result.code, result.err
    totals = result.totals()
    assert ("6", "6", "0") == (totals["items"], totals["passed"], totals["failed"])
    run = stored(store, totals["id"])
    assert 6 == len(run.items)
    for item in run.items:
        assert (20, 5) == (item.report.total_input_tokens, item.report.total_output_tokens)
        assert pytest.approx(30 / 1_000_000) == item.report.cost_usd
    assert f"cost of {model}: $0.000180" in result.out
    assert "cost of the run: $0.000180" in result.out
    assert "cost a @ " in result.out


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_model_that_always_answers_500_gives_provider_failures_and_exit_1(
    cli: Cli, env: FakeProvider, tmp_path: Path, provider: str
) -> None:
    store = tmp_path / "runs.sqlite3"
    result = cli(
        "run",
        str(dataset(tmp_path, answer_42())),
        "--mode",
        "live",
        "--models",
        f"{provider}:always-500",
        "--max-retries",
        "1",
        "--store",
        str(store),
    )

    assert 1 == result.code
    assert "Traceback" not in result.err + result.out
    report = stored(store, result.totals()["id"]).items[0].report
    assert "provider" == report.error_type
    assert "HTTP 500" in report.runtime_failure.message
    assert 1 == report.inference_retries  # the SDK's one retry, though no span was recorded
    assert "retries: 1" in result.out


def test_a_judge_is_picked_by_provider_id(cli: Cli, env: FakeProvider, tmp_path: Path) -> None:
    graded = {"id": "graded", "user_input": "explain", "expect": {"min_judge_score": 0.5}}
    result = cli(
        "run",
        str(dataset(tmp_path, graded)),
        "--mode",
        "live",
        "--models",
        "anthropic:plain",
        "--judge",
        "openai:judge",
        "--rubric",
        "be right",
        "--store",
        str(tmp_path / "runs.sqlite3"),
    )

    assert 0 == result.code, result.err + result.out
    assert "judge" == env.bodies("judge")[-1]["model"]


def test_the_connection_limit_and_retries_flags_reach_the_executors(
    cli: Cli, env: FakeProvider, tmp_path: Path
) -> None:
    fixtures = [answer_42(f"c{index}") for index in range(12)]
    for fixture in fixtures:
        fixture["expect"] = {}
    result = cli(
        "run",
        str(dataset(tmp_path, *fixtures)),
        "--mode",
        "live",
        "--models",
        "openai:delay-30",
        "--concurrency",
        "12",
        "--max-connections",
        "2",
        "--store",
        str(tmp_path / "runs.sqlite3"),
    )

    assert 0 == result.code, result.err
    assert 2 == env.peak["delay-30"]


def test_live_only_provider_flags_are_refused_in_scripted_mode(cli: Cli, tmp_path: Path) -> None:
    result = cli("run", str(dataset(tmp_path, answer_42())), "--max-connections", "3")

    assert 2 == result.code
    assert "--max-connections requires --mode live" in result.err


def test_a_model_id_without_provider_still_needs_an_executor(cli: Cli, tmp_path: Path) -> None:
    result = cli("run", str(dataset(tmp_path, answer_42())), "--mode", "live", "--models", "gpt-x")

    assert 2 == result.code
    assert "--mode live needs provider models (openai:MODEL, anthropic:MODEL)" in result.err


# -- models check -------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_models_check_prints_latency_tokens_and_cost(
    cli: Cli, env: FakeProvider, tmp_path: Path, provider: str
) -> None:
    model = f"{provider}:plain"
    result = cli("models", "check", model, "--prices", str(prices(tmp_path, model)))

    assert 0 == result.code, result.err
    assert f"{model}: ok in " in result.out
    assert "tokens: 20 in, 5 out; cost: $0.000030" in result.out


def test_models_check_json(cli: Cli, env: FakeProvider) -> None:
    result = cli("models", "check", "openai:plain", "--json")

    assert 0 == result.code
    document = result.json()
    assert ("openai:plain", 20) == (document["model_id"], document["usage"]["prompt_tokens"])


@pytest.mark.parametrize(
    ("model", "key", "message"),
    [
        (
            "openai:gpt-nope",
            "test-key",
            "model_not_found: HTTP 404: The model `gpt-nope` does not exist",
        ),
        ("openai:plain", "bad-key", "unauthorized: HTTP 401: Incorrect API key provided"),
        ("anthropic:plain", "bad-key", "unauthorized: HTTP 401: invalid x-api-key"),
    ],
)
def test_models_check_exits_1_with_the_providers_message(
    cli: Cli,
    env: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    *,
    model: str,
    key: str,
    message: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)

    result = cli("models", "check", model)

    assert 1 == result.code
    assert message in result.err
    assert "Traceback" not in result.err


def test_models_check_needs_a_provider_id(cli: Cli) -> None:
    result = cli("models", "check", "gpt-4")

    assert 2 == result.code
    assert "expected PROVIDER:MODEL" in result.err


def test_models_without_check_is_a_usage_error(cli: Cli) -> None:
    result = cli("models", "list")

    assert 2 == result.code
    assert 'models: expected a subcommand, check (got "list")' in result.err


# -- record and replay --------------------------------------------------------------------


def test_a_recorded_live_run_replays_offline_with_the_same_scores(
    cli: Cli, env: FakeProvider, tmp_path: Path
) -> None:
    store = tmp_path / "runs.sqlite3"
    out = tmp_path / "recorded"
    fixtures = [answer_42("passes", "done"), answer_42("fails", "never said")]
    live = cli(
        "run",
        str(dataset(tmp_path, *fixtures)),
        "--mode",
        "live",
        "--models",
        "openai:tools,anthropic:tools",
        "--record",
        str(out),
        "--store",
        str(store),
    )
    assert 1 == live.code  # "fails" fails on both models
    assert f"recorded 4 of 4 items as fixtures in {out}" in live.err

    replayed = cli("run", str(out), "--store", str(store))

    live_run = stored(store, live.totals()["id"])
    replay_run = stored(store, replayed.totals()["id"])
    by_label = {
        f"{item.fixture_id}@{item.cell.model_id}": (item.report.passed, item.report.failures)
        for item in live_run.items
    }
    replay = {
        item.fixture_id: (item.report.passed, item.report.failures) for item in replay_run.items
    }
    assert by_label == replay
    assert 1 == replayed.code
    for item in replay_run.items:
        assert 3 == item.report.inference_count  # two tool rounds and the answer
        assert 2 == item.report.tool_count


# -- the pytest plugin --------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_plugins_evaluator_resolves_provider_models(env: FakeProvider, provider: str) -> None:
    from awaken_eval import AwakenEval, Expectation, Fixture  # noqa: PLC0415

    fixture = Fixture("q", "six times seven?", expect=Expectation(final_answer_contains=("42",)))

    reports = AwakenEval().check(fixture, model=f"{provider}:plain")

    assert [(True, 25)] == [(report.passed, report.total_tokens) for report in reports]


def test_plugin_items_run_on_provider_models_without_an_executor(
    pytester: pytest.Pytester, env: FakeProvider
) -> None:
    directory = pytester.path / "fixtures"
    directory.mkdir()
    (directory / "q42.json").write_text(json.dumps(answer_42()))
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider\nawaken_fixtures = fixtures\n"
        "awaken_models = openai:plain,anthropic:plain\n"
    )

    result = pytester.runpytest("fixtures", "-v")

    result.assert_outcomes(passed=2)
