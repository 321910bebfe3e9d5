"""The import-string loader shared by the command line and the pytest plugin."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from awaken_eval import InvalidRequest
from awaken_eval._io.imports import load_factory, load_object


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh importable module (unique name) with a factory, a value and a namespace."""
    name = f"loader_{uuid.uuid4().hex}"
    source = """
        import types

        VALUE = 3

        def make():
            return "made"

        nested = types.SimpleNamespace(make=make)
    """
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (tmp_path / f"{name}_exploding.py").write_text("raise ValueError('bad')\n", encoding="utf-8")
    (tmp_path / f"{name}_needs.py").write_text("import not_installed_xyz\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_an_attribute_and_a_dotted_attribute_are_loaded(module: str) -> None:
    assert 3 == load_object(f"{module}:VALUE", what="--thing")
    factory = load_factory(f"{module}:nested.make", what="--thing")
    assert "made" == factory()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            lambda m: m,
            lambda m: f"--thing {m!r}: expected MODULE:ATTRIBUTE, e.g. my_models:make_executor",
        ),
        (
            lambda m: f"{m}:",
            lambda m: f"--thing '{m}:': expected MODULE:ATTRIBUTE, e.g. my_models:make_executor",
        ),
        (
            lambda m: f"{m}_absent:make",
            lambda m: f"--thing '{m}_absent:make': module '{m}_absent' not found",
        ),
        (
            lambda m: f"{m}:missing",
            lambda m: f"--thing '{m}:missing': module '{m}' has no attribute 'missing'",
        ),
        (
            lambda m: f"{m}_exploding:make",
            lambda m: (
                f"--thing '{m}_exploding:make': importing module '{m}_exploding' raised "
                "ValueError: bad"
            ),
        ),
        (
            lambda m: f"{m}_needs:make",
            lambda m: (
                f"--thing '{m}_needs:make': importing module '{m}_needs' failed: "
                "No module named 'not_installed_xyz'"
            ),
        ),
        (
            lambda m: f"{m}:VALUE",
            lambda m: f"--thing '{m}:VALUE': 'VALUE' is not callable (got int)",
        ),
    ],
    ids=[
        "no colon",
        "no attribute",
        "module not found",
        "attribute missing",
        "module raises",
        "module's import fails",
        "not callable",
    ],
)
def test_every_failure_names_the_spec_and_what_failed(
    module: str, spec: Callable[[str], str], message: Callable[[str], str]
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        load_factory(spec(module), what="--thing")
    assert message(module) == raised.value.message
