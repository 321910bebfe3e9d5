"""``awaken-eval run``, ``runs list``, ``runs show`` and ``diff`` over a run store."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import awaken_eval._engine.orchestrate
from awaken_eval import (
    EvalRun,
    EvalRunItem,
    ReplayOutcome,
    ReplayReport,
    RunOptions,
    open_run_store,
)
from awaken_eval.cli import _output
from awaken_eval.failures import AnswerMissingPhrase
from awaken_eval.stores import SqliteRunStore
from builders import header as make_header

BUNDLED = Path(__file__).parent / "data" / "bundled"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store/runs.sqlite3"


@pytest.fixture
def isolated_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Work in tmp_path; the CLI's sys.path change and the modules it imported are undone."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield work
    for name in set(sys.modules) - before:
        if name.startswith(("cli_models_", "cli_loop_")):
            del sys.modules[name]


def read_run(url: str, run_id: str) -> EvalRun:
    stored: EvalRun = anyio.run(open_run_store(url).read, run_id)
    return stored


def write_fixture(directory: Path, fixture_id: str, **document: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    body = {"id": fixture_id, "user_input": "What is 2 + 2?", **document}
    path = directory / f"{fixture_id}.json"
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def scripted(answer: str, *, contains: str = "4") -> dict[str, Any]:
    return {
        "provider_script": [{"kind": "chat_response", "content": answer}],
        "expect": {"final_answer_contains": [contains]},
    }


def models_module(directory: Path) -> str:
    """A module of factories next to the dataset; returns its (unique) name."""
    name = f"cli_models_{uuid.uuid4().hex}"
    source = """
        from awaken_eval import ReplayOutcome
        from awaken_eval.testing import CannedTextExecutor, HangingExecutor

        CALLS = []
        VALUE = 3

        def make(model_id):
            CALLS.append(model_id)
            if model_id == "grader":
                return CannedTextExecutor(['{"score": 0.9, "reasoning": "fine"}'])
            return CannedTextExecutor(["4"])

        def hang(model_id):
            return HangingExecutor()

        def not_an_executor(model_id):
            return 42

        def broken(model_id):
            raise RuntimeError("no credentials")

        class Echo:
            async def replay(self, fixture, context):
                return ReplayOutcome(fixture_id=fixture.id, final_text="4")

        def make_replayer():
            return Echo()
    """
    (directory / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return name


# -- run: scripted ---------------------------------------------------------------------


def test_run_prints_the_items_and_stores_the_run(cli: Any, store: str) -> None:
    result = cli("run", str(BUNDLED), "--store", store)
    assert (0, "") == (result.code, result.err)
    lines = result.out.splitlines()
    assert ["fixture", "result", "tokens", "failures"] == lines[0].split()
    assert ["01_simple_qa", "pass", "11"] == lines[1].split()
    assert ["05_error_path", "pass", "0"] == lines[5].split()
    totals = result.totals()
    expected = {"dataset": "bundled", "mode": "scripted", "items": "5", "passed": "5"}
    assert expected == {key: totals[key] for key in expected}
    assert store == totals["store"]
    stored = read_run(store, totals["id"])
    assert ("bundled", 0, 5) == (stored.dataset_id, stored.dataset_revision, len(stored.items))
    assert 5 == len(stored.fixture_digests)


def test_the_sqlite_store_is_closed_after_each_command(
    cli: Any, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[object] = []
    original = SqliteRunStore.close

    def close(self: SqliteRunStore) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(SqliteRunStore, "close", close)
    run_id = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    assert 0 == cli("runs", "list", "--store", store).code
    assert 0 == cli("runs", "show", run_id, "--store", store).code
    assert 3 == len(closed)


def test_run_uses_the_default_store_in_the_working_directory(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("run", str(BUNDLED))
    assert 0 == result.code
    assert "sqlite:///.awaken-eval/runs.sqlite3" == result.totals()["store"]
    assert (tmp_path / ".awaken-eval" / "runs.sqlite3").is_file()
    listed = cli("runs", "list")
    assert result.totals()["id"] in listed.out


def test_run_against_the_latest_baseline(cli: Any, store: str) -> None:
    first = cli("run", str(BUNDLED), "--store", store, "--baseline", "latest")
    assert 0 == first.code
    assert "nothing to diff against" in first.err
    assert "against baseline" not in first.out
    second = cli("run", str(BUNDLED), "--store", store, "--baseline", "latest")
    assert (0, "") == (second.code, second.err)
    header = (
        f"awaken-eval: run {second.totals()['id']} against baseline run "
        f"{first.totals()['id']} (clean): 0 regression(s), 0 fixed, 0 still failing, 0 drift, "
        "0 missing, 0 added, 5 unchanged"
    )
    assert header == second.out.splitlines()[-1]
    explicit = cli("run", str(BUNDLED), "--store", store, "--baseline", first.totals()["id"])
    assert f"against baseline run {first.totals()['id']} (clean)" in explicit.out


def test_latest_baseline_is_of_the_same_dataset(cli: Any, store: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_fixture(other, "x", **scripted("4"))
    assert 0 == cli("run", str(other), "--store", store).code
    result = cli("run", str(BUNDLED), "--store", store, "--baseline", "latest")
    assert "no earlier scripted run of dataset bundled" in result.err


def test_run_with_an_unknown_baseline_exits_2(cli: Any, store: str) -> None:
    result = cli("run", str(BUNDLED), "--store", store, "--baseline", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (2, "") == (result.code, result.out)
    assert "not found" in result.err


def test_run_with_a_failing_fixture_exits_1(cli: Any, store: str, tmp_path: Path) -> None:
    dataset = tmp_path / "suite"
    write_fixture(dataset, "good", **scripted("4"))
    write_fixture(dataset, "wrong", **scripted("five"))
    result = cli("run", str(dataset), "--store", store)
    assert 1 == result.code
    assert ["wrong", "FAIL", "0", "answer_missing_phrase"] == result.out.splitlines()[2].split()
    assert [
        "FAIL wrong",
        "  - final_answer_contains: expected '4' in the final answer, not found",
        "    final answer: 'five'",
    ] == result.out.splitlines()[3:6]
    assert ("1", "1") == (result.totals()["passed"], result.totals()["failed"])


def test_a_regression_against_the_baseline_exits_1(cli: Any, store: str, tmp_path: Path) -> None:
    dataset = tmp_path / "suite"
    write_fixture(dataset, "a", **scripted("4"))
    write_fixture(dataset, "b", **scripted("4"))
    first = cli("run", str(dataset), "--store", store)
    assert 0 == first.code
    write_fixture(dataset, "b", **scripted("five"))
    second = cli("run", str(dataset), "--store", store, "--baseline", "latest")
    assert 1 == second.code
    baseline_id = first.totals()["id"]
    assert f"fixtures differ from baseline run {baseline_id} (changed: b)" in second.err
    assert (
        "(BLOCKING): 1 regression(s), 0 fixed, 0 still failing, 0 drift, 0 missing, 0 added,"
        " 1 unchanged"
    ) in second.out
    # the failing item is explained once, above the totals; the diff only names it
    assert 1 == second.out.count("final answer: 'five'")
    assert second.out.endswith("  regression                b\n")


def test_run_json_is_one_document(cli: Any, store: str) -> None:
    first = cli("run", str(BUNDLED), "--store", store, "--json")
    assert 0 == first.code
    document = first.json()
    assert {"run", "store"} == set(document)
    assert 5 == len(document["run"]["items"])
    second = cli("run", str(BUNDLED), "--store", store, "--json", "--baseline", "latest").json()
    assert {"run", "store", "baseline", "diff"} == set(second)
    assert document["run"]["id"] == second["baseline"]["baseline_run_id"]
    assert {"unchanged"} == {entry["kind"] for entry in second["diff"]["entries"]}


def test_run_an_empty_dataset_is_an_input_error(cli: Any, store: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a fixture")
    result = cli("run", str(empty), "--store", store)
    message = f"awaken-eval: no fixtures in {empty}: no file matches {empty}/*.json\n"
    assert (2, "", message) == (result.code, result.out, result.err)
    assert not (tmp_path / "store").exists()  # no empty run is stored


def test_dataset_directory_with_fixtures_and_manifest(cli: Any, store: str, tmp_path: Path) -> None:
    dataset = tmp_path / "suite"
    shutil.copytree(BUNDLED, dataset / "fixtures", ignore=shutil.ignore_patterns("*.ndjson"))
    without = cli("run", str(dataset), "--store", store)
    assert ("suite", "5") == (without.totals()["dataset"], without.totals()["items"])
    (dataset / "dataset.json").write_text('{"id": "qa-suite", "description": "x"}')
    assert "qa-suite" == cli("run", str(dataset), "--store", store).totals()["dataset"]
    (dataset / "dataset.json").write_text('{"id": "qa-suite", "owner": "me"}')
    broken = cli("run", str(dataset), "--store", store)
    assert 2 == broken.code
    assert broken.err.startswith("awaken-eval: loading fixtures: ")
    assert "$.owner: unknown key" in broken.err


def test_run_loading_errors_exit_2(cli: Any, store: str, tmp_path: Path) -> None:
    dataset = tmp_path / "suite"
    dataset.mkdir()
    (dataset / "bad.json").write_text("{", encoding="utf-8")
    result = cli("run", str(dataset), "--store", store)
    assert 2 == result.code
    assert "loading fixtures: " in result.err
    assert "bad.json" in result.err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--samples", "0"], "--samples must be at least 1, got 0"),
        (["--samples", "x"], '--samples expects an integer, got "x"'),
        (["--mode", "bogus"], '--mode must be one of scripted, live, got "bogus"'),
        (["--max-walltime-secs", "0"], "--max-walltime-secs must be a finite number"),
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--models", "a"], "--models requires --mode live"),
        (["--samples", "3"], "--samples requires --mode live"),
        (["--judge", "m"], "--judge requires --mode live"),
        (["--executor", "m:f"], "--executor requires --mode live"),
        (["--max-total-tokens", "9"], "--max-total-tokens requires --mode live"),
        (["--mode", "live", "--executor", "m:f"], "--mode live needs --models"),
        (
            ["--mode", "live", "--models", "a"],
            "--mode live needs provider models (openai:MODEL, anthropic:MODEL), or --executor MODULE:FACTORY",
        ),
        (["--mode", "live", "--models", "a,,b", "--executor", "m:f"], "empty model id"),
        (
            ["--mode", "live", "--models", "a", "--executor", "m:f", "--judge", "g"],
            "--judge needs --rubric",
        ),
        (
            ["--mode", "live", "--models", "a", "--executor", "m:f", "--rubric", "r"],
            "--rubric needs --judge",
        ),
        (
            [
                "--mode",
                "live",
                "--models",
                "a",
                "--replayer",
                "m:f",
                "--judge",
                "g",
                "--rubric",
                "r",
            ],
            "--judge needs a provider model (openai:MODEL, anthropic:MODEL) or --executor",
        ),
        (["--revise-max-retries", "2"], "--revise-max-retries requires --mode live"),
        (
            ["--mode", "live", "--models", "a", "--executor", "m:f", "--revise-max-retries", "2"],
            "--revise-max-retries needs --judge MODEL",
        ),
        (
            ["--mode", "live", "--models", "a", "--executor", "m:f", "--revise-max-retries", "-1"],
            "--revise-max-retries",
        ),
    ],
)
def test_run_flag_errors_exit_2_before_anything_runs(
    cli: Any, store: str, tmp_path: Path, flags: list[str], message: str
) -> None:
    result = cli("run", str(BUNDLED), "--store", store, *flags)
    assert (2, "") == (result.code, result.out)
    assert message in result.err
    assert not (tmp_path / "store").exists()


def test_samples_1_is_allowed_in_scripted_mode(cli: Any, store: str) -> None:
    assert 0 == cli("run", str(BUNDLED), "--store", store, "--samples", "1").code


# -- run: live -------------------------------------------------------------------------


def test_live_matrix_with_samples_shows_pass_at_k(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q1", **scripted("unused"))
    write_fixture(dataset, "q2", **scripted("unused"))
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "a,b"]
    args += ["--samples", "3", "--executor", f"{module}:make"]
    result = cli(*args)
    assert (0, "") == (result.code, result.err)
    assert ["a", "b"] == sys.modules[module].CALLS
    lines = result.out.splitlines()
    assert ["fixture", "model", "sample", "result", "tokens", "failures"] == lines[0].split()
    assert ["q1", "a", "0", "pass", "2"] == lines[1].split()
    assert ["pass"] * 12 == [line.split()[3] for line in lines[1:13]]
    header = next(line for line in lines if line.startswith("fixture  ") and "pass@" in line)
    assert ["pass@2", "pass@3", "pass^2", "pass^3"] == header.split()[-4:]
    group = [line for line in lines if line.startswith("q2 ")][-1].split()
    assert ["q2", "b", "3", "3", "1.000", "[0.439,", "1.000]"] == group[:7]
    dataset_line = (
        "awaken-eval: dataset (mean over 4 groups): pass@1 1.000, pass@3 1.000, pass^3 1.000"
    )
    assert dataset_line == lines[-1]

    again = cli(*args, "--baseline", "latest", "--json")
    assert 0 == again.code
    document = again.json()
    assert {"run", "store", "baseline", "diff", "aggregates"} == set(document)
    assert [3, 3, 3, 3] == [len(group["pass_at"]) for group in document["aggregates"]]
    assert {"unchanged"} == {entry["kind"] for entry in document["diff"]["entries"]}
    assert 4 == len(document["diff"]["entries"])  # one per (fixture, model) group
    table = cli(*args, "--baseline", "latest")
    assert "by sample group (clean, alpha=0.05): 0 regression(s)" in table.out


def test_live_cell_limits_reach_the_runner(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q", expect={"final_answer_contains": ["4"]})
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "a", "--json"]
    budget = cli(*args, "--executor", f"{module}:make", "--max-total-tokens", "1")
    assert 1 == budget.code
    report = budget.json()["run"]["items"][0]["report"]
    assert "token budget" in report["runtime_failure"]["message"]
    deadline = cli(*args, "--executor", f"{module}:hang", "--max-walltime-secs", "0.05")
    assert 1 == deadline.code
    report = deadline.json()["run"]["items"][0]["report"]
    assert "cell walltime exceeded: max 0.05s" == report["runtime_failure"]["message"]


def test_live_run_with_a_judge(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "judged", expect={"min_judge_score": 0.5})
    result = cli(
        "run",
        str(dataset),
        "--store",
        store,
        "--mode",
        "live",
        "--models",
        "a",
        "--executor",
        f"{module}:make",
        "--judge",
        "grader",
        "--rubric",
        "Is the answer right?",
        "--json",
    )
    assert 0 == result.code
    assert ["a", "grader"] == sys.modules[module].CALLS
    assert 0.9 == pytest.approx(result.json()["run"]["items"][0]["report"]["judge_score"])


def test_live_run_needs_a_judge_for_judged_fixtures(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "judged", expect={"min_judge_score": 0.5})
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "a"]
    result = cli(*args, "--executor", f"{module}:make")
    assert 2 == result.code
    assert "min_judge_score" in result.err


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        (None, "expected MODULE:ATTRIBUTE"),
        ("missing", "has no attribute 'missing'"),
        ("VALUE", "'VALUE' is not callable (got int)"),
        ("not_an_executor", "factory('a') returned int, not an LlmExecutor"),
        ("broken", "factory('a') raised RuntimeError: no credentials"),
    ],
)
def test_executor_import_string_errors_name_the_string(
    cli: Any, store: str, isolated_imports: Path, attribute: str | None, message: str
) -> None:
    module = models_module(isolated_imports)
    spec = module if attribute is None else f"{module}:{attribute}"
    result = cli(
        "run", str(BUNDLED), "--store", store, "--mode", "live", "--models", "a", "--executor", spec
    )
    assert (2, "") == (result.code, result.out)
    assert result.err.startswith(f"awaken-eval: --executor {spec!r}: ")
    assert message in result.err


def test_unimportable_module_is_named(cli: Any, store: str, isolated_imports: Path) -> None:
    spec = "no_such_module_for_cli:make"
    args = ["run", str(BUNDLED), "--store", store, "--mode", "live", "--models", "a"]
    result = cli(*args, "--executor", spec)
    assert 2 == result.code
    expected = f"awaken-eval: --executor {spec!r}: module 'no_such_module_for_cli' not found"
    assert expected in result.err


def test_a_replayer_factory_replaces_the_agent(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q", **scripted("five"))  # the script would fail
    result = cli("run", str(dataset), "--store", store, "--replayer", f"{module}:make_replayer")
    assert 0 == result.code
    live = cli(
        "run",
        str(dataset),
        "--store",
        store,
        "--mode",
        "live",
        "--models",
        "m",
        "--replayer",
        f"{module}:make_replayer",
    )
    assert 0 == live.code
    wrong = cli("run", str(dataset), "--store", store, "--replayer", f"{module}:VALUE")
    assert 2 == wrong.code
    not_a_replayer = cli(
        "run", str(dataset), "--store", store, "--replayer", f"{module}:Echo.replay"
    )
    assert 2 == not_a_replayer.code


def test_live_cells_without_executor_fail_as_data(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path
) -> None:
    # A replayer that uses the executor it is given gets a clear inference error.
    name = f"cli_loop_{uuid.uuid4().hex}"
    source = (
        "from awaken_eval import AgentLoopReplayer\n\ndef make():\n    return AgentLoopReplayer()\n"
    )
    (isolated_imports / f"{name}.py").write_text(source, encoding="utf-8")
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q", expect={"final_answer_contains": ["4"]})
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "m"]
    result = cli(*args, "--replayer", f"{name}:make", "--json")
    assert 1 == result.code
    report = result.json()["run"]["items"][0]["report"]
    assert "invalid_request" == report["error_type"]


# -- terminal output -------------------------------------------------------------------


def test_rich_table_and_progress_on_a_terminal(
    cli: Any, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_output, "is_terminal", lambda stream: True)
    result = cli("run", str(BUNDLED), "--store", store)
    assert 0 == result.code
    assert "┃ fixture" in result.out
    assert "│ 01_simple_qa" in result.out
    assert result.totals()["passed"] == "5"


def test_plain_progress_on_a_terminal_without_rich(
    cli: Any, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_output, "is_terminal", lambda stream: True)
    monkeypatch.setattr(_output, "_rich", lambda: None)
    result = cli("run", str(BUNDLED), "--store", store)
    assert 0 == result.code
    assert "\rrunning 5/5\n" in result.err
    assert result.out.startswith("fixture ")


def test_no_progress_when_not_a_terminal(cli: Any, store: str) -> None:
    assert "" == cli("run", str(BUNDLED), "--store", store).err


# -- runs list / runs show / diff ------------------------------------------------------


def test_runs_list(cli: Any, store: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_fixture(other, "x", **scripted("4"))
    first = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    second = cli("run", str(other), "--store", store).totals()["id"]
    listed = cli("runs", "list", "--store", store)
    assert 0 == listed.code
    lines = listed.out.splitlines()
    assert ["run", "dataset", "rev", "mode", "started", "(UTC)"] == lines[0].split()[:6]
    assert [second, first] == [line.split()[0] for line in lines[1:]]
    assert ["bundled", "0", "scripted"] == lines[2].split()[1:4]
    assert ["5", "5", "0"] == lines[2].split()[-3:]
    only = cli("runs", "list", "--store", store, "--dataset", "bundled", "--json").json()
    assert [first] == [summary["id"] for summary in only]
    newest = cli("runs", "list", "--store", store, "--limit", "1", "--json").json()
    assert [second] == [summary["id"] for summary in newest]


def test_runs_list_of_a_missing_store_creates_nothing(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/none/runs.sqlite3"
    result = cli("runs", "list", "--store", url)
    assert (0, f"awaken-eval: no runs in {url}\n") == (result.code, result.out)
    assert [] == cli("runs", "list", "--store", url, "--json").json()
    assert not (tmp_path / "none").exists()


def test_runs_show(cli: Any, store: str, tmp_path: Path) -> None:
    first = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    second = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    shown = cli("runs", "show", second, "--store", store)
    assert (0, "") == (shown.code, shown.err)
    assert second == shown.totals()["id"]
    assert "01_simple_qa" in shown.out
    assert "against baseline" not in shown.out
    diffed = cli("runs", "show", second, "--store", store, "--baseline", first)
    assert f"run {second} against baseline run {first} (clean)" in diffed.out
    document = cli("runs", "show", second, "--store", store, "--baseline", first, "--json").json()
    assert {"run", "store", "baseline", "diff"} == set(document)
    missing = cli("runs", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--store", store)
    assert 2 == missing.code
    assert "not found" in missing.err
    nowhere = cli("runs", "show", first, "--store", f"sqlite:///{tmp_path}/nowhere.sqlite3")
    assert 2 == nowhere.code
    assert "no run store at" in nowhere.err


def test_runs_show_aggregates(cli: Any, store: str, tmp_path: Path, isolated_imports: Path) -> None:
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q", **scripted("unused"))
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "a"]
    run_id = cli(*args, "--samples", "2", "--executor", f"{module}:make").totals()["id"]
    shown = cli("runs", "show", run_id, "--store", store, "--aggregate", "samples")
    assert 0 == shown.code
    assert "pass@2" in shown.out
    assert shown.out.endswith("pass@1 1.000, pass@2 1.000, pass^2 1.000\n")
    document = cli("runs", "show", run_id, "--store", store, "--aggregate", "samples", "--json")
    assert 1 == len(document.json()["aggregates"])
    bogus = cli("runs", "show", run_id, "--store", store, "--aggregate", "items")
    assert 2 == bogus.code


def test_diff_two_runs(cli: Any, store: str, tmp_path: Path) -> None:
    dataset = tmp_path / "suite"
    write_fixture(dataset, "a", **scripted("4"))
    write_fixture(dataset, "b", **scripted("4"))
    first = cli("run", str(dataset), "--store", store).totals()["id"]
    second = cli("run", str(dataset), "--store", store).totals()["id"]
    clean = cli("diff", first, second, "--store", store)
    assert (0, "") == (clean.code, clean.err)
    header = (
        f"awaken-eval: run {second} against baseline run {first} (clean): 0 regression(s), "
        "0 fixed, 0 still failing, 0 drift, 0 missing, 0 added, 2 unchanged"
    )
    assert [
        header,
        "  unchanged                 a",
        "  unchanged                 b",
    ] == clean.out.splitlines()
    write_fixture(dataset, "b", **scripted("five"))
    third = cli("run", str(dataset), "--store", store).totals()["id"]
    blocking = cli("diff", second, third, "--store", store)
    assert 1 == blocking.code
    assert [
        "  regression                b",
        "      - final_answer_contains: expected '4' in the final answer, not found",
        "        final answer: 'five'",
    ] == blocking.out.splitlines()[2:5]
    document = cli("diff", second, third, "--store", store, "--json").json()
    assert {"baseline_run_id", "run_id", "baseline", "diff"} == set(document)
    assert ("b",) == tuple(document["baseline"]["changed_fixtures"])


def test_diff_refuses_incomparable_runs(cli: Any, store: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_fixture(other, "a", **scripted("4"))
    first = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    second = cli("run", str(other), "--store", store).totals()["id"]
    result = cli("diff", first, second, "--store", store)
    assert (2, "") == (result.code, result.out)
    assert "cannot diff across datasets" in result.err


# -- run: resume -------------------------------------------------------------------------


def test_resume_runs_only_the_missing_units(cli: Any, store: str) -> None:
    # An interrupted run: its header and one (failed) item are in the store. Resuming
    # runs the four missing fixtures and keeps the stored item as it is.
    header = make_header(
        run_id="01JRESUMED0000000000000000", dataset_id="bundled", started_at_secs=1_700_000_000
    )
    stored = EvalRunItem(
        "01_simple_qa",
        report=ReplayReport.from_outcome(
            ReplayOutcome(fixture_id="01_simple_qa"), [AnswerMissingPhrase("4")]
        ),
    )

    async def interrupt() -> None:
        sqlite = open_run_store(store)
        assert isinstance(sqlite, SqliteRunStore)
        await sqlite.begin(header)
        await sqlite.append(header.id, (stored,))
        await sqlite.aclose()

    anyio.run(interrupt)
    result = cli("run", str(BUNDLED), "--store", store, "--resume", header.id)
    assert 1 == result.code  # the stored item failed
    totals = result.totals()
    assert (header.id, "5", "4", "1") == (
        totals["id"],
        totals["items"],
        totals["passed"],
        totals["failed"],
    )
    run = read_run(store, header.id)
    assert stored == run.items[0]
    assert 1_700_000_000 == run.started_at_secs
    again = cli("run", str(BUNDLED), "--store", store, "--resume", header.id)
    assert 2 == again.code
    assert f"run {header.id} is finished in {store}; there is nothing left to resume" in again.err


def test_revise_loop_reaches_the_runner(
    cli: Any, store: str, tmp_path: Path, isolated_imports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    real = awaken_eval.run_eval

    async def spy(fixtures: Any, options: RunOptions, **kwargs: Any) -> EvalRun:
        seen["options"] = options
        return await real(fixtures, options, **kwargs)

    monkeypatch.setattr(awaken_eval._engine.orchestrate, "run_eval", spy)
    module = models_module(isolated_imports)
    dataset = tmp_path / "suite"
    write_fixture(dataset, "q", expect={"final_answer_contains": ["4"]})
    args = ["run", str(dataset), "--store", store, "--mode", "live", "--models", "a"]
    args += ["--executor", f"{module}:make", "--judge", "a", "--rubric", "be fair"]
    cli(*args, "--revise-max-retries", "2")
    assert (2, "be fair") == (seen["options"].revise_max_retries, seen["options"].rubric)
