"""The API reference (docs/api.md) documents every public name of the package."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import awaken_eval

API_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def documented_modules() -> set[str]:
    text = API_PAGE.read_text(encoding="utf-8")
    return set(re.findall(r"^\.\. automodule:: (\S+)$", text, flags=re.MULTILINE))


def defining_modules(name: str) -> set[str]:
    """The awaken_eval submodules that list ``name`` in ``__all__`` with the same object."""
    public = getattr(awaken_eval, name)
    found = set()
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("awaken_eval.") or module is None:
            continue
        if name in getattr(module, "__all__", ()) and getattr(module, name, None) is public:
            found.add(module_name)
    return found


def test_every_public_name_is_in_the_api_reference() -> None:
    documented = documented_modules()
    undocumented = sorted(
        name
        for name in awaken_eval.__all__
        if name != "__version__" and not defining_modules(name) & documented
    )
    assert [] == undocumented


def test_every_documented_module_is_public() -> None:
    for module_name in sorted(documented_modules()):
        module = importlib.import_module(module_name)
        assert (module_name, True) == (
            module_name,
            not any(part.startswith("_") for part in module_name.split(".")),
        )
        assert (module_name, True) == (module_name, bool(module.__doc__))
