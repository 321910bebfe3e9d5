"""The handlers of ``validate PATH...`` (fixture files and directories) and ``schema [KIND]``.

Their arguments are in :mod:`awaken_eval.cli._commands`.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path

import attrs

from awaken_eval._records.fixtures import Fixture
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._dataset import MANIFEST, fixtures_dir, no_fixtures, read_manifest
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._render import note, plural, say
from awaken_eval.errors import AwakenEvalError, InvalidInput, InvalidRequest, Problem

# -- locating a JSON path in a document ------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_PATH_STEP = re.compile(r'\.([^.\[]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')

_Step = str | int


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match is not None else index


class _Offsets:
    """Offset of every value of a valid JSON document, by path (object keys: the key)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[tuple[_Step, ...], int] = {}
        self.value(0, ())

    def value(self, index: int, path: tuple[_Step, ...]) -> int:
        """Record the value at ``index`` and its children; return the offset past it."""
        text = self.text
        index = _skip(text, index)
        self.found.setdefault(path, index)
        char = text[index : index + 1]
        if char == "{":
            return self.members(index, path)
        if char == "[":
            return self.elements(index, path)
        if char == '"':
            return int(scanstring(text, index + 1)[1])
        match = _SCALAR.match(text, index)
        if match is None:
            msg = f"unexpected character at offset {index}"
            raise ValueError(msg)
        return match.end()

    def members(self, index: int, path: tuple[_Step, ...]) -> int:
        """The object at ``index``: each key's offset is recorded for its path."""
        text = self.text
        index = _skip(text, index + 1)
        if text[index] == "}":
            return index + 1
        while True:
            key, end = scanstring(text, index + 1)
            self.found.setdefault((*path, key), index)
            index = _skip(text, end)  # at ':'
            index = _skip(text, self.value(index + 1, (*path, key)))
            if text[index] == "}":
                return index + 1
            index = _skip(text, index + 1)  # past ','

    def elements(self, index: int, path: tuple[_Step, ...]) -> int:
        """The array at ``index``."""
        text = self.text
        index = _skip(text, index + 1)
        if text[index] == "]":
            return index + 1
        position = 0
        while True:
            index = _skip(text, self.value(index, (*path, position)))
            position += 1
            if text[index] == "]":
                return index + 1
            index += 1  # past ','


def _offsets(text: str) -> dict[tuple[_Step, ...], int]:
    """Offset of every value of a valid JSON document, by path (object keys: the key)."""
    return _Offsets(text).found


def _steps(path: str) -> tuple[_Step, ...] | None:
    """The steps of a ``$.a[0]["b"]`` path, or ``None`` when it cannot be read."""
    if not path.startswith("$"):
        return None
    steps: list[_Step] = []
    index = 1
    while index < len(path):
        match = _PATH_STEP.match(path, index)
        if match is None:
            return None
        name, position, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif position is not None:
            steps.append(int(position))
        else:
            steps.append(json.loads(quoted))
        index = match.end()
    return tuple(steps)


_JSON_ERROR_LINE = re.compile(r"\(line (\d+), column \d+\)")


def line_of(text: str, path: str, offsets: dict[tuple[_Step, ...], int] | None) -> int | None:
    """The 1-based line of ``path`` in ``text`` (or of its nearest existing ancestor).

    A missing key is reported at the object that should hold it. For a document that
    is not valid JSON, ``offsets`` is ``None`` and no line is known.
    """
    steps = _steps(path)
    if offsets is None or steps is None:
        return None
    while steps not in offsets and steps:
        steps = steps[:-1]
    offset = offsets.get(steps)
    return None if offset is None else text.count("\n", 0, offset) + 1


# -- validate --------------------------------------------------------------------------


@attrs.frozen
class Located:
    """One problem of one file.

    Attributes:
        source: The file.
        line: The 1-based line, when known.
        problem: The JSON path and the message.
    """

    source: str
    line: int | None
    problem: Problem

    def __str__(self) -> str:
        """Render as ``file:line: $.path: message``."""
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.problem}"


def _read(path: Path) -> tuple[str | None, list[Located]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Located(str(path), None, Problem("$", f"cannot read: {exc}"))]


def _locate(path: Path, text: str, problems: tuple[Problem, ...]) -> list[Located]:
    try:
        offsets: dict[tuple[_Step, ...], int] | None = _offsets(text)
    except (ValueError, IndexError, RecursionError):  # deeper than MAX_DEPTH: no lines
        offsets = None
    located = []
    for problem in problems:
        line = line_of(text, problem.path, offsets)
        if line is None:
            match = _JSON_ERROR_LINE.search(problem.message)
            line = int(match[1]) if match is not None else None
        located.append(Located(str(path), line, problem))
    return located


def located_message(error: AwakenEvalError) -> str:
    """``error`` as text; an invalid file's problems each as ``file:line: $.path: message``.

    Used by the commands that load fixtures (``run``, ``replay``), so their errors point
    at the line as ``validate`` does.
    """
    if not isinstance(error, InvalidInput) or error.source is None or error.line is not None:
        return str(error)
    path = Path(error.source)
    text, _ = _read(path)
    if text is None:
        return str(error)
    located = _locate(path, text, error.problems)
    if len(located) == 1:
        return str(located[0])
    return f"{len(located)} problems:\n" + "\n".join(f"  {problem}" for problem in located)


def check_fixture(path: Path) -> tuple[Fixture | None, list[Located]]:
    """Load one fixture file and list its problems (all of them, each located)."""
    from awaken_eval._records.rules import validate_min_judge_score  # noqa: PLC0415
    from awaken_eval._wire.converter import from_json  # noqa: PLC0415

    text, unreadable = _read(path)
    if text is None:
        return None, unreadable
    try:
        fixture = from_json(Fixture, text)
    except InvalidInput as exc:
        return None, _locate(path, text, exc.problems)
    try:
        validate_min_judge_score(fixture.expect, f"fixture {fixture.id}")
    except InvalidRequest as exc:
        problem = Problem("$.expect.min_judge_score", exc.message)
        return None, _locate(path, text, (problem,))
    return fixture, []


def _check_manifest(path: Path) -> list[Located]:
    text, unreadable = _read(path)
    if text is None:
        return unreadable
    try:
        read_manifest(path)
    except InvalidInput as exc:
        return _locate(path, text, exc.problems)
    except AwakenEvalError as exc:
        return [Located(str(path), None, Problem("$", str(exc)))]
    return []


def _fixture_files(directory: Path) -> list[Path]:
    """The files ``load_directory`` reads: ``*.json``, not hidden, regular files."""
    return sorted(
        entry
        for entry in directory.iterdir()
        if not entry.name.startswith(".") and entry.suffix == ".json" and entry.is_file()
    )


def _has_fixtures(directory: Path) -> bool:
    try:
        return bool(_fixture_files(fixtures_dir(directory)))
    except OSError:
        return True  # reported by _check_directory as unreadable


def _check_directory(directory: Path) -> tuple[int, list[Located]]:
    """Check every fixture of a dataset directory; returns (files checked, problems)."""
    source = fixtures_dir(directory)
    problems: list[Located] = []
    checked = 0
    manifest = directory / MANIFEST
    if source != directory and manifest.is_file():
        checked += 1
        problems.extend(_check_manifest(manifest))
    try:
        files = _fixture_files(source)
    except OSError as exc:
        problem = Problem("$", f"cannot read directory: {exc}")
        return checked + 1, [*problems, Located(str(source), None, problem)]
    first_of: dict[str, Path] = {}
    for path in files:
        checked += 1
        fixture, found = check_fixture(path)
        problems.extend(found)
        if fixture is None:
            continue
        if fixture.id in first_of:
            message = f"duplicate id {fixture.id!r} (also in {first_of[fixture.id]})"
            text, _ = _read(path)
            problems.extend(_locate(path, text or "", (Problem("$.id", message),)))
        else:
            first_of[fixture.id] = path
    return checked, problems


def validate(parsed: Parsed) -> int:
    """``validate PATH...``: exit 0 when every file is valid, 2 otherwise."""
    checked = 0
    problems: list[Located] = []
    empty: list[Path] = []
    for raw in parsed.positionals:
        path = Path(raw)
        if path.is_dir():
            count, found = _check_directory(path)
            if not found and not _has_fixtures(path):
                empty.append(fixtures_dir(path))
        elif path.name == MANIFEST:
            count, found = 1, _check_manifest(path)
        else:
            count, (_, found) = 1, check_fixture(path)
        checked += count
        problems.extend(found)
    for problem in problems:
        say(str(problem))
    invalid = len({problem.source for problem in problems})
    say(
        f"awaken-eval: {plural(checked, 'file')} checked — {checked - invalid} valid, "
        f"{invalid} invalid ({plural(len(problems), 'problem')})"
    )
    for directory in empty:
        note(no_fixtures(directory))
    return 2 if problems or empty else 0


def schema(parsed: Parsed) -> int:
    """``schema [KIND]``: print the JSON Schema of fixtures, datasets, runs or reports."""
    from awaken_eval.schema import SCHEMA_KINDS, json_schema  # noqa: PLC0415

    kind = parsed.positionals[0] if parsed.positionals else "fixture"
    if kind not in SCHEMA_KINDS:
        msg = f"schema: unknown kind {kind!r} (expected one of {', '.join(sorted(SCHEMA_KINDS))})"
        raise CliError(msg)
    say(json.dumps(json_schema(kind), ensure_ascii=False, indent=2))
    return 0
