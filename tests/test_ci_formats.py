"""CI formats: ``--junit-xml`` (valid against the JUnit schema) and the step summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from awaken_eval.cli._ci import Case, junit_xml, markdown_summary

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" / "junit" / "junit.xsd")))


def valid(document: str) -> Any:
    """Validate against the JUnit schema; return the parsed document."""
    parsed = etree.fromstring(document.encode())
    assert SCHEMA.validate(parsed), SCHEMA.error_log
    return parsed


def write_fixture(directory: Path, fixture_id: str, answer: str, phrase: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    body = {
        "id": fixture_id,
        "user_input": "?",
        "provider_script": [{"kind": "chat_response", "content": answer}],
        "expect": {"final_answer_contains": [phrase]},
    }
    (directory / f"{fixture_id}.json").write_text(json.dumps(body), encoding="utf-8")


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    directory = tmp_path / "suite"
    write_fixture(directory, "add", "4", "4")
    write_fixture(directory, "capital", "It is Lyon.", "Paris")
    return directory


def test_run_writes_one_case_per_item_with_the_explanation(
    cli: Any, suite: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "out" / "junit.xml"
    result = cli("run", str(suite), "--store", "memory:", "--junit-xml", str(junit))
    assert 1 == result.code
    root = valid(junit.read_text(encoding="utf-8"))
    (testsuite,) = root
    assert ("suite", "2", "1") == (
        testsuite.get("name"),
        testsuite.get("tests"),
        testsuite.get("failures"),
    )
    properties = {prop.get("name"): prop.get("value") for prop in testsuite.iter("property")}
    assert result.totals()["id"] == properties["run_id"]
    cases = {case.get("name"): case for case in testsuite.iter("testcase")}
    assert ["add", "capital"] == sorted(cases)
    assert cases["add"].find("failure") is None
    failure = cases["capital"].find("failure")
    assert failure is not None
    assert "final_answer_contains: expected 'Paris' in the final answer, not found" == (
        failure.get("message")
    )
    assert "answer_missing_phrase" == failure.get("type")
    assert (
        "- final_answer_contains: expected 'Paris' in the final answer, not found\n"
        "  final answer: 'It is Lyon.'"
    ) == failure.text


def test_replay_and_check_write_junit(cli: Any, suite: Path, tmp_path: Path) -> None:
    baseline, new = tmp_path / "baseline.ndjson", tmp_path / "new.ndjson"
    replay_xml = tmp_path / "replay.xml"
    cli("replay", "--fixtures", str(suite), "--report", str(baseline))
    write_fixture(suite, "add", "5", "4")
    replayed = cli(
        "replay", "--fixtures", str(suite), "--report", str(new), "--junit-xml", str(replay_xml)
    )
    assert 1 == replayed.code
    cases = valid(replay_xml.read_text(encoding="utf-8")).iter("testcase")
    assert {"add": True, "capital": True} == {
        case.get("name"): case.find("failure") is not None for case in cases
    }
    check_xml = tmp_path / "check.xml"
    checked = cli(
        "check", "--baseline", str(baseline), "--new", str(new), "--junit-xml", str(check_xml)
    )
    assert 1 == checked.code
    cases = {
        case.get("name"): case for case in valid(check_xml.read_text("utf-8")).iter("testcase")
    }
    regression = cases["add"].find("failure")
    assert regression is not None
    assert "regression: final_answer_contains: expected '4' in the final answer, not found" == (
        regression.get("message")
    )
    # still failing, not worse: not a blocking entry, so not a failed test case
    assert cases["capital"].find("failure") is None


def test_a_github_step_summary_is_appended(
    cli: Any, suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("run", str(suite), "--store", "memory:")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ❌ awaken-eval run ")
    assert "**2 items: 1 passed, 1 failed**" in text
    assert (
        "| capital | final_answer_contains: expected 'Paris' in the final answer, not found |"
        in text.splitlines()
    )
    assert result.totals()["id"] in text


def test_no_summary_without_the_variable(
    cli: Any, suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    cli("run", str(suite), "--store", "memory:")
    assert ["suite"] == sorted(path.name for path in tmp_path.iterdir())


def test_an_unwritable_junit_path_is_a_usage_error(cli: Any, suite: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = cli("run", str(suite), "--store", "memory:", "--junit-xml", str(blocker / "junit.xml"))
    assert 2 == result.code
    assert result.err.startswith(f"awaken-eval: --junit-xml {blocker / 'junit.xml'}: ")


_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            Case,
            name=_TEXT,
            classname=_TEXT,
            seconds=st.floats(min_value=0, max_value=1e6),
            message=st.none() | _TEXT,
            failure_type=_TEXT,
            text=_TEXT,
        ),
        max_size=5,
    ),
    _TEXT,
)
def test_any_text_makes_a_valid_document(cases: list[Case], suite_name: str) -> None:
    root = valid(junit_xml(cases, suite=suite_name, properties={"k": suite_name}))
    (testsuite,) = root
    assert str(len(cases)) == testsuite.get("tests")
    failing = sum(case.message is not None for case in cases)
    assert str(failing) == testsuite.get("failures")


def test_a_markdown_cell_escapes_pipes_and_newlines() -> None:
    failing = Case(name="a|b", classname="s", message="x\ny | z")
    text = markdown_summary("t", [failing])
    assert "| a\\|b | x y \\| z |" in text.splitlines()
