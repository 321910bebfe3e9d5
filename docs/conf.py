"""Sphinx configuration of the awaken-eval documentation (built with ``-W`` in CI)."""

from __future__ import annotations

import functools
import pkgutil
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from docutils.nodes import Element
    from sphinx.addnodes import pending_xref
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

_ROOT = Path(__file__).resolve().parent.parent
# Prefer the checkout's sources, so the docs describe the code next to them even when
# another version of the package is installed.
sys.path.insert(0, str(_ROOT / "src"))

from awaken_eval import __version__  # noqa: E402 - after the path is set

project = "awaken-eval"
author = "awaken-eval developers"
copyright = "awaken-eval developers"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- MyST ------------------------------------------------------------------------------
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# -- autodoc + napoleon (Google style docstrings) -------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = False
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
napoleon_use_rtype = False
napoleon_attr_annotations = False

# -- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"awaken-eval {release}"


# -- local extension -----------------------------------------------------------------------

# Napoleon reads the first line of an attribute or property docstring as "type: text",
# which mangles sentences such as "The item key: ...". Types come from annotations here,
# so attribute-like docstrings are kept exactly as written.
_ATTRIBUTE_KINDS = frozenset({"attribute", "data", "property"})
_verbatim: dict[str, list[str]] = {}
_UNSIGNED = re.compile(r"Annotated\[int, Unsigned\(bits=\d+\)\]")


def _keep_verbatim(
    _app: Sphinx, what: str, name: str, _obj: object, _options: object, lines: list[str]
) -> None:
    if what in _ATTRIBUTE_KINDS:
        _verbatim[name] = list(lines)


def _restore_verbatim(
    _app: Sphinx, what: str, name: str, _obj: object, _options: object, lines: list[str]
) -> None:
    if what in _ATTRIBUTE_KINDS and name in _verbatim:
        lines[:] = _verbatim.pop(name)


def _tidy_signature(
    _app: Sphinx,
    _what: str,
    _name: str,
    obj: object,
    _options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None]:
    """Tidy record signatures.

    attrs marks ``factory=`` defaults with its NOTHING sentinel: show the factory call
    instead (``expect: Expectation = Expectation()``). The unsigned wire integers are
    plain ``int`` to Python: show them so (the range is a wire-format rule, checked when
    reading JSON).
    """
    if signature is None:
        return signature, return_annotation
    if isinstance(obj, type) and attrs.has(obj):
        for field in attrs.fields(obj):
            if not isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                continue
            named = re.search(rf"(?<![\w.]){re.escape(field.alias or field.name)}: ", signature)
            if named is None:
                continue
            at = signature.find("= NOTHING", named.end())
            if at >= 0:
                call = f"= {getattr(field.default.factory, '__qualname__', 'factory')}()"
                signature = signature[:at] + call + signature[at + len("= NOTHING") :]
    signature = _UNSIGNED.sub("int", signature)
    return signature, return_annotation


def _resolve_package_name(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    """Resolve ``awaken_eval.Name`` (the public import path) to its defining module."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("awaken_eval."):
        return None
    domain = env.get_domain("py")
    rest = target.removeprefix("awaken_eval.")
    matches = [
        name
        for name in domain.objects  # type: ignore[attr-defined]
        if name.startswith("awaken_eval.") and name.endswith(f".{rest}") and name != target
    ]
    if len(matches) != 1:
        return None
    resolved: Element | None = domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode
    )
    return resolved


@functools.cache
def _source_attribute_docs() -> dict[str, list[str]]:
    """Module-level attribute docstrings (constants, type aliases) of every module.

    A public namespace re-exports constants and type aliases defined in private modules;
    their docstrings stand in the defining module's source, where autodoc does not look.
    """
    from sphinx.pycode import ModuleAnalyzer  # noqa: PLC0415 - Sphinx only

    import awaken_eval  # noqa: PLC0415 - after the path is set

    docs: dict[str, list[str]] = {}
    for info in pkgutil.walk_packages(awaken_eval.__path__, "awaken_eval."):
        if info.name.endswith("__main__"):  # analysing a module imports it
            continue
        for (scope, attribute), lines in (
            ModuleAnalyzer.for_module(info.name).find_attr_docs().items()
        ):
            if scope == "" and lines:
                docs.setdefault(attribute, list(lines))
    return docs


_AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)\n((?:   :[^\n]*\n)*)", re.MULTILINE)


def _reexported_data_directives(module_name: str) -> str:
    """``autodata`` directives for the constants and aliases a namespace re-exports.

    autodoc documents a module's classes and functions from ``__all__``, but data only
    when the module's own source defines it; a namespace re-exports data defined in
    private modules, so each one gets an explicit directive.
    """
    import importlib  # noqa: PLC0415 - only while reading the API page
    import inspect  # noqa: PLC0415 - only while reading the API page

    from sphinx.pycode import ModuleAnalyzer  # noqa: PLC0415 - Sphinx only

    module = importlib.import_module(module_name)
    own = {attribute for _, attribute in ModuleAnalyzer.for_module(module_name).find_attr_docs()}
    directives = []
    for name in getattr(module, "__all__", ()):
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isroutine(value) or inspect.ismodule(value):
            continue
        if name in own or name not in _source_attribute_docs() or name == "__version__":
            continue
        directives.append(f"\n.. autodata:: {module_name}.{name}\n")
        if len(repr(value)) > 80:
            directives.append("   :no-value:\n")
    return "".join(directives) + ("\n" if directives else "")


def _add_reexported_data(_app: Sphinx, docname: str, source: list[str]) -> None:
    if docname != "api":
        return
    source[0] = _AUTOMODULE.sub(
        lambda match: match.group(0) + _reexported_data_directives(match.group(1)), source[0]
    )


def _reexported_data_docstring(
    _app: Sphinx, what: str, name: str, _obj: object, _options: object, lines: list[str]
) -> None:
    if what == "data" and not lines:
        lines.extend(_source_attribute_docs().get(name.rsplit(".", 1)[-1], []))


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the local docstring and cross-reference helpers."""
    app.connect("source-read", _add_reexported_data)
    app.connect("autodoc-process-docstring", _reexported_data_docstring, priority=50)
    app.connect("autodoc-process-docstring", _keep_verbatim, priority=100)
    app.connect("autodoc-process-docstring", _restore_verbatim, priority=900)
    app.connect("autodoc-process-signature", _tidy_signature)
    app.connect("missing-reference", _resolve_package_name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
