"""The pytest plugin: fixture files collected as tests, the awaken_eval fixture, the marker.

Most runs are in-process (``pytester.runpytest``, fast); the xdist run is a subprocess.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest

import awaken_eval
from awaken_eval import AwakenEval, ChatResponseEvent, Expectation, Fixture, InvalidRequest
from awaken_eval._plugin.settings import RUNTIME
from awaken_eval.errors import InputUnreadable
from awaken_eval.testing import CannedTextExecutor, EvalAssertionError, ScriptedJudge

pytest_plugins = ["pytester"]

BUNDLED = Path(__file__).resolve().parent / "data" / "bundled"
BUNDLED_IDS = [
    "01_simple_qa",
    "02_phrase_recall",
    "03_token_budget",
    "04_excludes_secret",
    "05_error_path",
]

EXECUTORS = """
from awaken_eval.testing import CannedTextExecutor, FailingExecutor

def canned():
    return CannedTextExecutor(["4"])

def half():
    return CannedTextExecutor(["4", "five", "4", "five"])

def broken():
    raise RuntimeError("no credentials")

def not_an_executor():
    return 42

NOT_CALLABLE = "text"
"""


def ini(pytester: pytest.Pytester, **options: str) -> None:
    lines = "".join(f"{key} = {value}\n" for key, value in options.items())
    pytester.makeini(f"[pytest]\naddopts = -p no:cacheprovider\n{lines}")


def bundled(pytester: pytest.Pytester, into: str = "fixtures") -> Path:
    target = pytester.path / into
    shutil.copytree(BUNDLED, target)
    return target


def write_fixture(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def executors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(executors=EXECUTORS)
    pytester.syspathinsert()


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


FAILING = """\
    {
      "id": "capital",
      "user_input": "Capital of France?",
      "provider_script": [
        {"kind": "chat_response", "content": "It is Lyon.",
         "tokens": {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}}
      ],
      "expect": {"final_answer_contains": ["Paris"], "max_tokens_total": 20}
    }
"""

# -- inert when not configured ---------------------------------------------------------------


def test_inert_when_unconfigured(pytester: pytest.Pytester) -> None:
    ini(pytester)
    bundled(pytester)
    pytester.makepyfile(
        test_plain="""
        def test_plugin_is_loaded_but_idle(request):
            manager = request.config.pluginmanager
            assert manager.has_plugin("awaken_eval")
            assert manager.get_plugin("awaken_eval-collection") is None
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["collecting ... collected 1 item"])


def test_an_unconfigured_session_loads_only_the_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every pytest session of every user loads the plugin: without an awaken_* option it
    # reads its settings (standard library and pytest only) and loads no other module.
    source = Path(awaken_eval.__file__).resolve().parent.parent  # the code under test
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])
    )
    ini(pytester)
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_modules():
            print("LOADED", sorted(m for m in sys.modules if m.startswith("awaken_eval")))
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    plugin = "'awaken_eval._plugin', 'awaken_eval._plugin.settings', 'awaken_eval.pytest_plugin'"
    result.stdout.fnmatch_lines([f"*LOADED [[]'awaken_eval', {plugin}[]]*"])


# -- collection ------------------------------------------------------------------------------


def test_collects_one_item_per_fixture_besides_the_testpaths(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_fixtures="fixtures", testpaths="tests")
    bundled(pytester)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_plain.py").write_text("def test_one():\n    pass\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert [
        "tests/test_plain.py::test_one",
        *(f"fixtures/{name}.json::{name}" for name in BUNDLED_IDS),
    ] == collected(result)


def test_the_flag_collects_a_directory_at_any_depth(pytester: pytest.Pytester) -> None:
    ini(pytester)
    bundled(pytester, "data/bundled")
    nested = pytester.path / "data" / "bundled" / "more"
    shutil.copy(BUNDLED / "01_simple_qa.json", nested.parent / ".hidden.json")
    write_fixture(nested, "06_nested.json", '{"id": "06_nested", "user_input": "hi"}')
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest("--awaken-fixtures", "data", "--collect-only", "-q")
    expected = [f"data/bundled/{name}.json::{name}" for name in BUNDLED_IDS]
    expected.append("data/bundled/more/06_nested.json::06_nested")
    assert [*expected, "test_plain.py::test_one"] == collected(result)


def test_path_arguments_select_what_is_collected(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_fixtures="fixtures")
    bundled(pytester)
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    only_test = pytester.runpytest("test_plain.py", "--collect-only", "-q")
    assert ["test_plain.py::test_one"] == collected(only_test)
    one = pytester.runpytest("fixtures/03_token_budget.json::03_token_budget", "-q")
    one.assert_outcomes(passed=1)


def test_one_item_per_fixture_and_model(pytester: pytest.Pytester) -> None:
    executors(pytester)
    ini(pytester, awaken_fixtures="fixtures", awaken_executor="executors:canned")
    bundled(pytester)
    result = pytester.runpytest("--awaken-models", "model-b, model-a", "--collect-only", "-q")
    assert [
        f"fixtures/{name}.json::{name}[{model}]"
        for name in BUNDLED_IDS
        for model in ("model-b", "model-a")
    ] == collected(result)


def test_a_bad_fixture_file_is_a_collection_error_with_path(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_fixtures="fixtures")
    write_fixture(
        pytester.path / "fixtures",
        "bad.json",
        '{"id": "bad", "user_input": "hi", "expect": {"max_tokens_totl": 5}}',
    )
    result = pytester.runpytest("-q")
    assert pytest.ExitCode.INTERRUPTED == result.ret
    result.stdout.fnmatch_lines(
        ["*ERROR collecting fixtures/bad.json*", "fixtures/bad.json: $.expect.max_tokens_totl: *"]
    )
    assert "Traceback" not in result.stdout.str()


def test_duplicate_ids_in_one_directory_are_a_collection_error(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_fixtures="fixtures")
    directory = bundled(pytester)
    shutil.copy(directory / "01_simple_qa.json", directory / "99_copy.json")
    result = pytester.runpytest("-q")
    result.stdout.fnmatch_lines(
        [
            (
                "fixtures/99_copy.json: $.id: duplicate id '01_simple_qa'"
                " (first defined in fixtures/01_simple_qa.json)"
            )
        ]
    )


# -- running items ---------------------------------------------------------------------------


def test_a_dataset_run_shows_readable_failures_and_no_traceback(
    pytester: pytest.Pytester,
) -> None:
    ini(pytester, awaken_fixtures="fixtures")
    directory = bundled(pytester)
    write_fixture(directory, "capital.json", FAILING)
    write_fixture(
        directory,
        "judged.json",
        '{"id": "judged", "user_input": "hi", "expect": {"min_judge_score": 0.5}}',
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=5, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ capital _*",
            "fixture 'capital' failed (2 failures):",
            "  - final_answer_contains: expected 'Paris' in the final answer, not found",
            "    final answer: 'It is Lyon.'",
            "  - max_tokens_total: expected at most 20 tokens, got 50",
            "    30 tokens over the budget (input * + output * over 1 inference)",
            "*_ judged _*",
            "fixture 'judged' could not be replayed: *min_judge_score*",
        ]
    )
    output = result.stdout.str()
    assert not any(marker in output for marker in ("Traceback", "runner.py", ".py:"))


def test_live_items_run_each_model_and_the_fixture_gets_the_factories(
    pytester: pytest.Pytester,
) -> None:
    executors(pytester)
    ini(pytester, awaken_executor="executors:canned", awaken_models="a,b")
    directory = pytester.path / "fixtures"
    directory.mkdir()
    shutil.copy(BUNDLED / "01_simple_qa.json", directory)
    pytester.makepyfile(
        test_live="""
        def test_live(awaken_eval):
            report = awaken_eval.replay("fixtures/01_simple_qa.json", model="m")
            assert "4" == report.final_text
        """
    )
    result = pytester.runpytest("--awaken-fixtures", "fixtures", "test_live.py", "fixtures", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "test_live.py::test_live PASSED*",
            "fixtures/01_simple_qa.json::01_simple_qa[[]a[]] PASSED*",
            "fixtures/01_simple_qa.json::01_simple_qa[[]b[]] PASSED*",
        ]
    )


@pytest.mark.parametrize(("min_rate", "passed"), [("0.5", True), ("0.75", False)])
def test_samples_pass_when_the_rate_reaches_the_minimum(
    pytester: pytest.Pytester, min_rate: str, passed: bool
) -> None:
    executors(pytester)
    ini(pytester, awaken_executor="executors:half", awaken_models="m", awaken_samples="4")
    directory = pytester.path / "fixtures"
    directory.mkdir()
    shutil.copy(BUNDLED / "01_simple_qa.json", directory)
    result = pytester.runpytest("--awaken-fixtures", "fixtures", "--awaken-min-pass-rate", min_rate)
    if passed:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            (
                "fixture '01_simple_qa' on model 'm': 2 of 4 samples passed (50.0%),"
                " required at least 75.0%"
            ),
            "failures:",
            (
                "  - final_answer_contains: expected '4' in the final answer, not found"
                " (2 of 4 samples)"
            ),
        ]
    )


def test_a_failing_factory_fails_items_and_fixtures_with_its_message(
    pytester: pytest.Pytester,
) -> None:
    executors(pytester)
    ini(pytester, awaken_fixtures="fixtures", awaken_executor="executors:broken", awaken_models="m")
    bundled(pytester)
    pytester.makepyfile(test_hand="def test_hand(awaken_eval):\n    pass\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=5, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_hand _*",
            "awaken_executor 'executors:broken' raised RuntimeError: no credentials",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_factory_returning_the_wrong_type_is_named(pytester: pytest.Pytester) -> None:
    executors(pytester)
    ini(pytester, awaken_fixtures="fixtures", awaken_replayer="executors:not_an_executor")
    bundled(pytester)
    result = pytester.runpytest("-q", "-x")
    result.stdout.fnmatch_lines(
        ["awaken_replayer 'executors:not_an_executor' returned int, not a Replayer*"]
    )


def test_runs_under_xdist_with_the_same_ids_in_every_worker(pytester: pytest.Pytester) -> None:
    executors(pytester)
    ini(pytester, awaken_fixtures="fixtures", awaken_executor="executors:canned")
    bundled(pytester)
    result = pytester.runpytest_subprocess("-n", "2", "--awaken-models", "a,b", "-p", "xdist")
    # 01 passes on the canned "4"; the other fixtures expect other answers or errors
    result.stdout.fnmatch_lines(["*2 workers*"])
    result.assert_outcomes(passed=4, failed=6)


# -- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--awaken-models", "a"],
            "--awaken-models asks for a live run, which needs an executor: set awaken_executor*",
        ),
        (
            ["--awaken-executor", "executors:canned"],
            "--awaken-executor needs the models to run live: set awaken_models*",
        ),
        (["--awaken-samples", "3"], "--awaken-samples=3 needs a live run*"),
        (["--awaken-samples", "zero"], "--awaken-samples: expected a whole number*'zero'"),
        (["--awaken-min-pass-rate", "1.5"], "--awaken-min-pass-rate: expected a pass rate*'1.5'"),
        (
            ["--awaken-models", "a,b,a", "--awaken-executor", "executors:canned"],
            "--awaken-models: model 'a' is listed twice",
        ),
        (["--awaken-fixtures", "missing"], "--awaken-fixtures: fixture directory not found: *"),
        (
            ["--awaken-replayer", "executors"],
            "awaken_replayer 'executors': expected MODULE:ATTRIBUTE*",
        ),
        (
            ["--awaken-replayer", "nowhere_module:make"],
            "awaken_replayer 'nowhere_module:make': module 'nowhere_module' not found",
        ),
        (
            ["--awaken-replayer", "executors:missing"],
            "*module 'executors' has no attribute 'missing'",
        ),
        (
            ["--awaken-replayer", "executors:NOT_CALLABLE"],
            "*'NOT_CALLABLE' is not callable (got str)",
        ),
        (
            ["--awaken-replayer", "exploding:make"],
            "*importing module 'exploding' raised ValueError: bad",
        ),
        (
            ["--awaken-replayer", "missing_dep:make"],
            "*importing module 'missing_dep' failed: No module named 'not_installed_anywhere'",
        ),
    ],
)
def test_usage_errors_name_the_option(
    pytester: pytest.Pytester, options: list[str], message: str
) -> None:
    executors(pytester)
    pytester.makepyfile(
        exploding="raise ValueError('bad')\n",
        missing_dep="import not_installed_anywhere\n",
    )
    ini(pytester)
    with pytest.raises(pytest.UsageError) as caught:
        pytester.parseconfigure(*options)
    assert fnmatch.fnmatchcase(str(caught.value), message), str(caught.value)


def test_a_bad_ini_number_is_a_usage_error(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_samples="zero")
    with pytest.raises(pytest.UsageError, match=r"awaken_samples: .*'zero'"):
        pytester.parseconfigure()


def test_toml_configuration_takes_numbers_and_lists(pytester: pytest.Pytester) -> None:
    executors(pytester)
    bundled(pytester, "evals")
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        awaken_fixtures = ["evals"]
        awaken_executor = "executors:canned"
        awaken_models = ["a", "b"]
        awaken_samples = 3
        awaken_min_pass_rate = 0.5
        """
    )
    config = pytester.parseconfigure()
    assert [str(pytester.path)] == config.args  # evals/ is inside: not added twice
    settings = config.stash[RUNTIME].settings
    assert settings is not None
    assert ((pytester.path / "evals",), ("a", "b"), 3, 0.5) == (
        settings.fixture_dirs,
        settings.models,
        settings.samples,
        settings.min_pass_rate,
    )


def test_a_usage_error_stops_pytest_with_its_message(pytester: pytest.Pytester) -> None:
    ini(pytester, awaken_models="a")
    result = pytester.runpytest()
    assert pytest.ExitCode.USAGE_ERROR == result.ret
    result.stderr.fnmatch_lines(
        ["ERROR: awaken_models asks for a live run, which needs an executor: *"]
    )


# -- the awaken_eval fixture and the marker ------------------------------------------------------

HAND_WRITTEN = """
import pytest
from awaken_eval.testing import CannedTextExecutor

def check(awaken_eval):
    executor = CannedTextExecutor(["4", "five", "4", "five"])
    reports = awaken_eval.check("data/01_simple_qa.json", model="m", executor=executor)
    assert 4 == len(reports)

@pytest.mark.awaken_samples(4, min_pass_rate=0.5)
def test_half_is_enough(awaken_eval):
    check(awaken_eval)

@pytest.mark.awaken_samples(4, min_pass_rate=0.8)
def test_half_is_not_enough(awaken_eval):
    check(awaken_eval)

@pytest.mark.awaken_samples(min_rate=0.5)
def test_bad_arguments(awaken_eval):
    pass

@pytest.mark.awaken_samples(0)
def test_bad_count(awaken_eval):
    pass
"""


def test_the_marker_sets_samples_and_threshold(pytester: pytest.Pytester) -> None:
    ini(pytester)
    (pytester.path / "data").mkdir()
    shutil.copy(BUNDLED / "01_simple_qa.json", pytester.path / "data")
    pytester.makepyfile(test_hand=HAND_WRITTEN)
    result = pytester.runpytest("--strict-markers", "--strict-config", "-q")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_bad_arguments _*",
            "@pytest.mark.awaken_samples: missing a required argument: 'n'; use awaken_samples*",
            "*_ ERROR at setup of test_bad_count _*",
            "@pytest.mark.awaken_samples: samples must be a whole number >= 1, got 0",
            "*_ test_half_is_not_enough _*",
            (
                "E   *fixture '01_simple_qa' on model 'm': 2 of 4 samples passed (50.0%),"
                " required at least 80.0%"
            ),
        ]
    )
    assert "assertions.py" not in result.stdout.str()


# -- AwakenEval directly (this suite has the plugin too) -------------------------------------------


def test_replay_resolves_paths_against_the_test_module(awaken_eval: AwakenEval) -> None:
    report = awaken_eval.replay("data/bundled/05_error_path.json")
    assert (True, "rate_limit") == (report.passed, report.error_type)
    assert Path(__file__).resolve().parent == awaken_eval.base_dir


def test_check_asserts_and_returns_the_reports(awaken_eval: AwakenEval) -> None:
    assert ["01_simple_qa"] == [
        report.fixture_id for report in awaken_eval.check(BUNDLED / "01_simple_qa.json")
    ]
    fixture = Fixture(
        "f",
        "hi",
        provider_script=(ChatResponseEvent("hello"),),
        expect=Expectation(final_answer_contains=("bye",)),
    )
    with pytest.raises(EvalAssertionError, match="expected 'bye' in the final answer"):
        awaken_eval.check(fixture)


def test_replay_samples_needs_a_count_and_a_model() -> None:
    evaluator = AwakenEval(executor=CannedTextExecutor(["4"]))
    fixture = BUNDLED / "01_simple_qa.json"
    with pytest.raises(InvalidRequest, match="replay_samples needs samples=N"):
        evaluator.replay_samples(fixture)
    with pytest.raises(InvalidRequest, match="3 samples need a live replay: pass model="):
        evaluator.replay_samples(fixture, samples=3)
    reports = evaluator.replay_samples(fixture, samples=3, model="m")
    assert [True, True, True] == [report.passed for report in reports]


def test_live_replay_needs_an_executor() -> None:
    with pytest.raises(InvalidRequest, match="live replay on model 'm' needs an executor"):
        AwakenEval().replay(BUNDLED / "01_simple_qa.json", model="m")


def test_a_missing_fixture_file_names_it() -> None:
    with pytest.raises(InputUnreadable, match=r"broken\.json"):
        AwakenEval().replay(Path(__file__).parent / "data" / "broken.json")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"samples": 0}, "samples must be a whole number >= 1, got 0"),
        ({"min_pass_rate": 2.0}, "min_pass_rate must be between 0 and 1, got 2.0"),
        ({"confidence": 1.0}, "confidence must be strictly between 0 and 1, got 1.0"),
    ],
)
def test_evaluator_options_are_checked(options: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        AwakenEval(**options)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_async_helpers_and_the_sync_guard() -> None:
    evaluator = AwakenEval(samples=2, min_pass_rate=0.5)
    fixture = BUNDLED / "01_simple_qa.json"
    with pytest.raises(InvalidRequest, match=r"in an async test await areplay\(\)"):
        evaluator.replay(fixture)
    assert (await evaluator.areplay(fixture)).passed
    executor = CannedTextExecutor(["4", "five"])
    reports = await evaluator.acheck(fixture, model="m", executor=executor)
    assert [True, False] == sorted(report.passed for report in reports)[::-1]
    more = await evaluator.areplay_samples(fixture, model="m", executor=CannedTextExecutor(["4"]))
    assert 2 == len(more)


# -- judged fixtures ---------------------------------------------------------------------------

GRADING = """
from awaken_eval import InferenceResult

GRADES = {"lenient": '{"score": 0.9, "reasoning": "fine"}', "strict": '{"score": 0.2, "reasoning": "vague"}'}


class Grading:
    async def execute(self, request):
        text = GRADES.get(request.model, "4")
        return InferenceResult(text=text, model=request.model)


def grading():
    return Grading()
"""

JUDGED = '{"id": "judged", "user_input": "What is 2 + 2?", "expect": {"min_judge_score": 0.5}}'


@pytest.mark.parametrize(("judge", "passed"), [("lenient", True), ("strict", False)])
def test_judged_fixtures_are_collected_with_a_judge_and_a_rubric(
    pytester: pytest.Pytester, judge: str, passed: bool
) -> None:
    pytester.makepyfile(grading=GRADING)
    pytester.syspathinsert()
    ini(pytester, awaken_executor="grading:grading", awaken_models="m")
    write_fixture(pytester.path / "fixtures", "judged.json", JUDGED)
    result = pytester.runpytest(
        "--awaken-fixtures", "fixtures", "--awaken-judge", judge, "--awaken-rubric", "Is it 4?"
    )
    if passed:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "fixture 'judged' on model 'm' failed (1 failure):",
            "  - min_judge_score: expected a judge score of at least 0.5, got 0.2",
            "    judge's reasons: 'vague'",
            "    final answer: '4'",
        ]
    )


def test_the_judge_options_come_from_the_ini_file_and_reach_the_fixture(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(grading=GRADING)
    pytester.syspathinsert()
    ini(
        pytester,
        awaken_executor="grading:grading",
        awaken_models="m",
        awaken_judge="strict",
        awaken_rubric="Is it 4?",
    )
    write_fixture(pytester.path, "judged.json", JUDGED)
    pytester.makepyfile(
        test_judged="""
        def test_judged(awaken_eval):
            report = awaken_eval.replay("judged.json", model="m")
            assert (False, 0.2) == (report.passed, report.judge_score)
        """
    )
    pytester.runpytest("test_judged.py").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"awaken_judge": "j"},
            "*awaken_judge needs the judge's instructions: set awaken_rubric*",
        ),
        ({"awaken_rubric": "r"}, "*awaken_rubric needs a judge: set awaken_judge*"),
        (
            {"awaken_judge": "j", "awaken_rubric": "r"},
            "*awaken_judge grades live replays: set awaken_models and awaken_executor*",
        ),
    ],
)
def test_judge_options_that_cannot_work_are_usage_errors(
    pytester: pytest.Pytester, options: dict[str, str], message: str
) -> None:
    ini(pytester, **options)
    result = pytester.runpytest()
    assert pytest.ExitCode.USAGE_ERROR == result.ret
    result.stderr.fnmatch_lines([message])


def test_awaken_eval_takes_a_judge_and_a_rubric() -> None:
    fixture = Fixture(
        id="judged", user_input="What is 2 + 2?", expect=Expectation(min_judge_score=0.5)
    )
    judge = ScriptedJudge([0.3])
    evaluator = AwakenEval(executor=CannedTextExecutor(["4"]), judge=judge, rubric="Is it 4?")
    with pytest.raises(EvalAssertionError, match=re.escape("at least 0.5, got 0.3")):
        evaluator.check(fixture, model="m")
    assert "Is it 4?" == judge.requests[0].rubric
    (report,) = evaluator.check(fixture, model="m", judge=ScriptedJudge([0.9]))
    assert 0.9 == report.judge_score
