"""Sphinx configuration of the awaken-eval documentation (built with ``-W`` in CI)."""

from __future__ import annotations

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


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the local docstring and cross-reference helpers."""
    app.connect("autodoc-process-docstring", _keep_verbatim, priority=100)
    app.connect("autodoc-process-docstring", _restore_verbatim, priority=900)
    app.connect("autodoc-process-signature", _tidy_signature)
    app.connect("missing-reference", _resolve_package_name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
