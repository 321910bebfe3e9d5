"""Dataset directories: where the fixtures are, and the dataset's id and description.

Two layouts are accepted:

* a plain directory of ``*.json`` fixture files: the dataset id is the directory name;
* a dataset directory holding its fixtures in ``fixtures/``, with an optional
  ``dataset.json`` manifest ``{"id": "...", "description": "..."}`` (both keys
  optional, no others) next to it; without one, the id is the directory name.

When ``<dir>/fixtures/`` exists it is used, else the directory itself.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from awaken_eval._io.files import load_directory
from awaken_eval._records.fixtures import Fixture
from awaken_eval._wire.json import parse_strict_json
from awaken_eval._wire.problems import unknown_key
from awaken_eval.errors import InputUnreadable, InvalidInput, Problem

MANIFEST = "dataset.json"
FIXTURES = "fixtures"
FIXTURE_GLOB = "*.json"
"""The fixture files of a directory (regular files; names starting with ``.`` skipped)."""


def no_fixtures(directory: Path) -> str:
    """The error of a dataset directory without fixtures, naming it and the glob used."""
    return f"no fixtures in {directory}: no file matches {directory / FIXTURE_GLOB}"


_MANIFEST_KEYS = ("id", "description")


@attrs.frozen
class Dataset:
    """A dataset loaded from a directory.

    Attributes:
        id: The dataset id (manifest ``id``, else the directory name).
        fixtures_dir: The directory the fixtures were read from.
        fixtures: The fixtures, sorted by id.
    """

    id: str
    fixtures_dir: Path
    fixtures: list[Fixture]


def fixtures_dir(directory: Path) -> Path:
    """``<directory>/fixtures`` when it is a directory, else ``directory`` itself."""
    nested = directory / FIXTURES
    return nested if nested.is_dir() else directory


def _manifest_problems(document: object) -> list[Problem]:
    if not isinstance(document, dict):
        return [Problem("$", "expected a JSON object")]
    problems = [
        Problem(f"$.{key}", unknown_key(key, _MANIFEST_KEYS))
        for key in document
        if key not in _MANIFEST_KEYS
    ]
    dataset_id = document.get("id")
    if "id" in document and (not isinstance(dataset_id, str) or not dataset_id.strip()):
        problems.append(Problem("$.id", "expected a non-empty string"))
    if "description" in document and not isinstance(document["description"], str):
        problems.append(Problem("$.description", "expected a string"))
    return problems


def read_manifest(path: Path) -> str | None:
    """The dataset id of a ``dataset.json`` manifest (``None`` when it names none).

    The description is checked (a string) but not used by the CLI.

    Raises:
        InputUnreadable: when the file cannot be read.
        InvalidInput: naming the file, for invalid JSON, an unknown key or a bad value.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputUnreadable(str(path), str(exc)) from None
    try:
        document = parse_strict_json(text)
    except InvalidInput as exc:
        raise exc.located(source=str(path)) from None
    problems = _manifest_problems(document)
    if problems:
        raise InvalidInput(problems, source=str(path))
    dataset_id: str | None = document.get("id")
    return dataset_id


def load_dataset(directory: Path) -> Dataset:
    """Load the dataset in ``directory`` (see the module documentation).

    Raises:
        InputUnreadable: when the directory or a file cannot be read.
        InvalidInput: for a fixture or a manifest that does not parse.
        DuplicateFixtureId: when two fixtures share an id.
    """
    source = fixtures_dir(directory)
    fixtures = load_directory(source)
    dataset_id: str | None = None
    manifest = directory / MANIFEST
    if source != directory and manifest.is_file():
        dataset_id = read_manifest(manifest)
    if dataset_id is None:
        dataset_id = directory.resolve().name or "dataset"
    return Dataset(dataset_id, source, fixtures)
