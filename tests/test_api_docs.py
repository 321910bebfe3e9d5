"""The API reference (docs/api.md) documents every public name at its one import path."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import awaken_eval
from test_public_api import PUBLIC_MODULES

API_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def documented_modules() -> dict[str, set[str]]:
    """Each module of an ``automodule`` directive, with the members it excludes."""
    text = API_PAGE.read_text(encoding="utf-8")
    found: dict[str, set[str]] = {}
    for match in re.finditer(
        r"^\.\. automodule:: (\S+)\n((?:   :[^\n]*\n)*)", text, flags=re.MULTILINE
    ):
        excluded = re.search(r":exclude-members: ([^\n]*)", match.group(2))
        names = {name.strip() for name in excluded.group(1).split(",")} if excluded else set()
        found[match.group(1)] = names
    return found


def test_the_reference_documents_the_package_and_every_public_namespace() -> None:
    assert sorted(["awaken_eval", *PUBLIC_MODULES]) == sorted(documented_modules())


def test_a_namespace_only_leaves_out_names_documented_at_the_top_level() -> None:
    for module_name, excluded in documented_modules().items():
        module = importlib.import_module(module_name)
        assert (module_name, set()) == (
            module_name,
            {name for name in excluded if not hasattr(module, name)}
            | (excluded - set(awaken_eval.__all__)),
        )


def test_every_documented_module_has_a_docstring() -> None:
    for module_name in sorted(documented_modules()):
        assert (module_name, True) == (
            module_name,
            bool(importlib.import_module(module_name).__doc__),
        )
