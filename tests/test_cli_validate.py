"""``awaken-eval validate`` and ``awaken-eval schema``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest

from awaken_eval.cli._validate import _offsets, line_of

BUNDLED = Path(__file__).parent / "data" / "bundled"


BROKEN = """{
  "id": "broken",
  "user_input": "hi",
  "provider_script": [
    {"kind": "chat_response", "content": 7}
  ],
  "expect": {
    "final_answer_contain": ["x"],
    "max_tokens_total": "ten"
  }
}
"""


def test_valid_directory_exits_0(cli: Any) -> None:
    result = cli("validate", str(BUNDLED))
    assert (0, "") == (result.code, result.err)
    assert "awaken-eval: 5 files checked — 5 valid, 0 invalid (0 problems)\n" == result.out


def test_every_problem_is_printed_with_file_line_and_path(cli: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(BROKEN, encoding="utf-8")
    result = cli("validate", str(broken), str(BUNDLED / "01_simple_qa.json"))
    assert 2 == result.code
    assert [
        f"{broken}:5: $.provider_script[0].content: expected a string, got 7",
        f'{broken}:8: $.expect.final_answer_contain: unknown key (did you mean "final_answer_contains"?)',
        f'{broken}:9: $.expect.max_tokens_total: expected an integer, got "ten"',
        "awaken-eval: 2 files checked — 1 valid, 1 invalid (3 problems)",
    ] == result.out.splitlines()


def test_missing_key_invalid_json_and_range_problems(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "a_missing.json").write_text('{\n  "id": "a"\n}\n', encoding="utf-8")
    (tmp_path / "b_syntax.json").write_text('{\n  "id": "b",\n  oops\n}\n', encoding="utf-8")
    judged = {"id": "c", "user_input": "q", "expect": {"min_judge_score": 1.5}}
    (tmp_path / "c_range.json").write_text(json.dumps(judged, indent=2), encoding="utf-8")
    result = cli("validate", str(tmp_path))
    assert 2 == result.code
    lines = result.out.splitlines()
    assert f"{tmp_path / 'a_missing.json'}:1: $.user_input: required key is missing" == lines[0]
    assert lines[1].startswith(f"{tmp_path / 'b_syntax.json'}:3: $: invalid JSON")
    assert lines[2].startswith(f"{tmp_path / 'c_range.json'}:5: $.expect.min_judge_score: ")
    assert "[0.0, 1.0]" in lines[2]
    assert "awaken-eval: 3 files checked — 0 valid, 3 invalid (3 problems)" == lines[3]


def test_duplicate_ids_in_a_directory(cli: Any, tmp_path: Path) -> None:
    shutil.copy(BUNDLED / "01_simple_qa.json", tmp_path / "a.json")
    shutil.copy(BUNDLED / "01_simple_qa.json", tmp_path / "b.json")
    result = cli("validate", str(tmp_path))
    assert 2 == result.code
    expected = f"{tmp_path / 'b.json'}:2: $.id: duplicate id '01_simple_qa' (also in "
    assert result.out.startswith(expected)


def test_dataset_directory_and_manifest(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(BUNDLED, tmp_path / "fixtures", ignore=shutil.ignore_patterns("*.ndjson"))
    manifest = tmp_path / "dataset.json"
    manifest.write_text('{"id": "qa", "description": "bundled"}', encoding="utf-8")
    ok = cli("validate", str(tmp_path))
    assert (0, "awaken-eval: 6 files checked — 6 valid, 0 invalid (0 problems)\n") == (
        ok.code,
        ok.out,
    )
    manifest.write_text('{\n  "id": "qa",\n  "owner": "me"\n}', encoding="utf-8")
    bad = cli("validate", str(tmp_path))
    assert 2 == bad.code
    assert f"{manifest}:3: $.owner: unknown key" == bad.out.splitlines()[0]


def test_unreadable_path(cli: Any, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.json"))
    assert 2 == result.code
    assert result.out.startswith(f"{tmp_path / 'nope.json'}: $: cannot read: ")


def test_hidden_and_non_json_files_are_not_fixtures(cli: Any, tmp_path: Path) -> None:
    shutil.copy(BUNDLED / "01_simple_qa.json", tmp_path / "a.json")
    (tmp_path / ".hidden.json").write_text("garbage", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("garbage", encoding="utf-8")
    result = cli("validate", str(tmp_path))
    assert (0, "awaken-eval: 1 file checked — 1 valid, 0 invalid (0 problems)\n") == (
        result.code,
        result.out,
    )


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("$", 1),
        ("$.a", 2),
        ("$.a[1]", 4),
        ("$.a[1].b", 5),
        ("$.a[1].missing", 4),  # nearest existing ancestor
        ('$["we\\nird"]', 8),
        ("$.a[9]", 2),
        ("not a path", None),
    ],
)
def test_line_of_a_json_path(path: str, line: int | None) -> None:
    text = '{\n  "a": [\n    1,\n    {\n      "b": "x\\"y"\n    }\n  ],\n  "we\\nird": [],\n  "e": {}\n}'
    assert line == line_of(text, path, _offsets(text))


# -- schema ----------------------------------------------------------------------------


def test_schema_defaults_to_fixture(cli: Any) -> None:
    result = cli("schema")
    assert (0, "") == (result.code, result.err)
    document = json.loads(result.out)
    assert "https://json-schema.org/draft/2020-12/schema" == document["$schema"]
    assert "user_input" in document["properties"]


@pytest.mark.parametrize("kind", ["fixture", "dataset", "run", "report"])
def test_schema_of_each_kind_is_json(cli: Any, kind: str) -> None:
    result = cli("schema", kind)
    assert 0 == result.code
    assert isinstance(json.loads(result.out), dict)


def test_schema_validates_the_bundled_fixtures(cli: Any) -> None:
    schema = json.loads(cli("schema", "fixture").out)
    for path in sorted(BUNDLED.glob("*.json")):
        jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)


def test_schema_unknown_kind_exits_2(cli: Any) -> None:
    result = cli("schema", "bogus")
    assert (2, "") == (result.code, result.out)
    assert "schema: unknown kind 'bogus'" in result.err
