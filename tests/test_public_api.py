"""The public API: a pinned top-level list, public namespaces, one import path per name."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import itertools
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import awaken_eval

PACKAGE = "awaken_eval"
ROOT = Path(__file__).resolve().parent.parent

TOP_LEVEL = [
    "AgentLoopReplayer",
    "AgentSpec",
    "AlreadyExists",
    "AwakenEval",
    "AwakenEvalError",
    "ChatMessage",
    "ChatResponseEvent",
    "Conflict",
    "DatasetSpec",
    "DialogueTurn",
    "ErrorEvent",
    "EvalRun",
    "EvalRunExecutionMode",
    "EvalRunItem",
    "EvalRunStore",
    "EvalRunSummary",
    "ExecutorJudge",
    "Expectation",
    "Failure",
    "Fixture",
    "InferenceError",
    "InferenceErrorKind",
    "InferenceRequest",
    "InferenceResult",
    "InvalidInput",
    "InvalidRequest",
    "ItemKey",
    "Judge",
    "JudgeError",
    "JudgeRequest",
    "JudgeResult",
    "LlmExecutor",
    "MatrixCell",
    "ModelPricing",
    "NotFound",
    "ProviderScriptEvent",
    "ReplayContext",
    "ReplayOutcome",
    "ReplayReport",
    "Replayer",
    "ResolvedModel",
    "RunOptions",
    "SamplingParams",
    "ScriptedExecutor",
    "StopReason",
    "StoreFailure",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolCallEvent",
    "ToolCallMatcher",
    "ToolDescriptor",
    "TraceSink",
    "__version__",
    "diff_runs",
    "from_builtins",
    "from_json",
    "load_directory",
    "load_fixture",
    "open_run_store",
    "run_eval",
    "run_eval_sync",
    "score",
    "to_builtins",
    "to_json",
]
"""The top-level names, pinned: adding or removing one is a decision, made here."""

PUBLIC_MODULES = [
    "awaken_eval.analysis",
    "awaken_eval.cli",
    "awaken_eval.curate",
    "awaken_eval.engine",
    "awaken_eval.errors",
    "awaken_eval.evaluation",
    "awaken_eval.events",
    "awaken_eval.failures",
    "awaken_eval.otel",
    "awaken_eval.protocols",
    "awaken_eval.providers",
    "awaken_eval.pytest_plugin",
    "awaken_eval.ray",
    "awaken_eval.records",
    "awaken_eval.report",
    "awaken_eval.schema",
    "awaken_eval.service",
    "awaken_eval.sinks",
    "awaken_eval.stores",
    "awaken_eval.testing",
    "awaken_eval.wire",
]
"""The namespaces users import on purpose; every other module is private."""


def _is_private(module_name: str) -> bool:
    return any(part.startswith("_") for part in module_name.split(".")[1:])


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _all_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(awaken_eval.__path__, f"{PACKAGE}.")
        if not info.name.endswith("__main__")
    )


def test_the_top_level_list_is_pinned() -> None:
    assert sorted(TOP_LEVEL) == sorted(awaken_eval.__all__)


def test_every_module_is_a_public_namespace_or_private() -> None:
    public = [name for name in _all_modules() if not _is_private(name)]
    assert PUBLIC_MODULES == public


def test_the_stub_lists_the_same_names_as_the_lazy_table() -> None:
    # Type checkers read __init__.pyi, the interpreter the table in __init__.py.
    stub = ast.parse((ROOT / "src" / "awaken_eval" / "__init__.pyi").read_text("utf-8"))
    typed = {
        alias.asname or alias.name: node.module
        for node in stub.body
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and node.module.startswith(PACKAGE)
        for alias in node.names
    }
    assert dict(vars(awaken_eval)["_EXPORTS"]) == typed


@pytest.mark.parametrize("name", sorted(set(TOP_LEVEL) - {"__version__"}))
def test_every_top_level_name_loads_from_a_private_module(name: str) -> None:
    value = getattr(awaken_eval, name)
    module = vars(awaken_eval)["_EXPORTS"][name]
    assert (name, True) == (name, value is getattr(_module(module), name))


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_module_declares_all(module_name: str) -> None:
    module = _module(module_name)
    declared = getattr(module, "__all__", None)
    assert isinstance(declared, list)
    assert [] == [name for name in declared if not hasattr(module, name)]
    assert len(declared) == len(set(declared))


def _canonical_paths() -> dict[str, str]:
    """Each public name and the one module users import it from."""
    paths = dict.fromkeys(awaken_eval.__all__, PACKAGE)
    for module_name in PUBLIC_MODULES:
        for name in _module(module_name).__all__:
            paths.setdefault(name, module_name)
    return paths


def test_no_name_is_listed_by_two_namespaces() -> None:
    seen: dict[str, list[str]] = {}
    for module_name in PUBLIC_MODULES:
        for name in _module(module_name).__all__:
            seen.setdefault(name, []).append(module_name)
    twice = {name: where for name, where in seen.items() if len(where) > 1}
    assert {} == twice


_IMPORT = re.compile(r"from (awaken_eval(?:\.[\w.]+)?) import (\([^)]*\)|[^\n]+)")


def _imports(text: str) -> Iterator[tuple[str, str]]:
    for match in _IMPORT.finditer(text):
        names = re.sub(r"#[^\n]*", "", match.group(2)).strip("() \n")
        for item in names.split(","):
            name = item.split(" as ")[0].strip()
            if name:
                yield match.group(1), name


def test_docs_examples_and_tests_import_each_public_name_from_its_one_path() -> None:
    paths = _canonical_paths()
    sources = [ROOT / "README.md"]
    for folder, pattern in (
        ("docs", "*.md"),
        ("examples", "*.py"),
        ("tests", "*.py"),
        ("benchmarks", "*.py"),
    ):
        sources.extend(sorted((ROOT / folder).rglob(pattern)))
    elsewhere = [
        f"{source.relative_to(ROOT)}: {name} from {module}, not {paths[name]}"
        for source in sources
        for module, name in _imports(source.read_text("utf-8"))
        if name in paths and module != paths[name]
    ]
    assert [] == elsewhere


def test_the_import_path_check_can_fail() -> None:
    text = "from awaken_eval._records.fixtures import Fixture\nfrom awaken_eval import (\n    score,\n)\n"
    assert [("awaken_eval._records.fixtures", "Fixture"), ("awaken_eval", "score")] == list(
        _imports(text)
    )


# -- docstrings --------------------------------------------------------------------------------


def _own_docstring(cls: type) -> str:
    doc = vars(cls).get("__doc__")
    if not isinstance(doc, str):
        return ""
    fields = getattr(cls, "_fields", None)
    if issubclass(cls, tuple) and isinstance(fields, tuple):
        arguments = ", ".join(fields) + ("," if len(fields) == 1 else "")
        if doc == f"{cls.__name__}({arguments})":  # generated by namedtuple
            return ""
    return doc.strip()


def _is_routine(value: Any) -> bool:
    return inspect.isfunction(value) or inspect.isbuiltin(value)


def _public_members(cls: type) -> Iterator[tuple[str, Any]]:
    """Methods, class methods, static methods and properties defined on ``cls`` itself."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)):
            yield name, member.__func__
        elif isinstance(member, property) or inspect.isfunction(member):
            yield name, member


def _assignment_docstrings(source: str) -> dict[str, str]:
    """Names assigned at module level and the string literal that follows each."""
    tree = ast.parse(source)
    found: dict[str, str] = {}
    body = tree.body
    for statement, following in itertools.pairwise(body):
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        else:
            continue
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            for target in targets:
                found[target] = following.value.value.strip()
    return found


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@functools.cache
def _definitions() -> dict[str, list[str]]:
    """Each top-level name of the package's sources and the modules that define it."""
    found: dict[str, list[str]] = {}
    for module_name in _all_modules():
        source = Path(inspect.getfile(_module(module_name))).read_text(encoding="utf-8")
        for name in _top_level_names(ast.parse(source)):
            found.setdefault(name, []).append(module_name)
    return found


def _defining_modules(name: str) -> list[ModuleType]:
    """The package (for ``__version__``) and every module whose source defines ``name``."""
    found: list[ModuleType] = [awaken_eval] if name == "__version__" else []
    return found + [_module(module_name) for module_name in _definitions().get(name, [])]


def _documented_in_source(name: str) -> bool:
    """An attribute docstring follows the assignment, or a module docstring names it."""
    for module in _defining_modules(name):
        source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
        if _assignment_docstrings(source).get(name):
            return True
        module_doc = module.__doc__ or ""
        if f"``{name}``" in module_doc or f":data:`{name}`" in module_doc:
            return True
    return False


def _undocumented(name: str, value: Any) -> list[str]:
    if inspect.isclass(value):
        problems = [] if _own_docstring(value) else [name]
        problems.extend(
            f"{name}.{member_name}"
            for member_name, member in _public_members(value)
            if not (inspect.getdoc(member) or "").strip()
        )
        return problems
    if _is_routine(value):
        return [] if (value.__doc__ or "").strip() else [name]
    # constants, type aliases, unions and NewTypes: an attribute docstring in the source
    return [] if _documented_in_source(name) else [name]


def _public_names() -> list[tuple[str, str]]:
    """(module, name) for every public name, at its one import path."""
    return sorted((module_name, name) for name, module_name in _canonical_paths().items())


@pytest.mark.parametrize(
    ("module_name", "name"), _public_names(), ids=[f"{m}.{n}" for m, n in _public_names()]
)
def test_every_public_name_has_a_docstring(module_name: str, name: str) -> None:
    assert [] == _undocumented(name, getattr(_module(module_name), name))


@pytest.mark.parametrize("module_name", [PACKAGE, *PUBLIC_MODULES])
def test_every_public_module_has_a_docstring(module_name: str) -> None:
    assert "" != (_module(module_name).__doc__ or "").strip()


def test_docstring_checks_detect_missing_docs() -> None:
    # The helpers above must be able to fail: a bare class and a bare function have no docs.
    class Bare:
        def method(self) -> None:
            pass

    def bare() -> None:
        pass

    source = 'A = 1\n"""Documented."""\nB = 2\n'
    assert ("", "", {"A": "Documented."}) == (
        _own_docstring(Bare),
        (bare.__doc__ or ""),
        _assignment_docstrings(source),
    )
    assert [("method", Bare.method)] == list(_public_members(Bare))


def test_importing_the_package_or_its_pytest_plugin_loads_nothing_else() -> None:
    # The pytest plugin is loaded in every pytest session of every user: importing it
    # (and the package) must not import the library until a name is used.
    code = (
        "import sys, awaken_eval, awaken_eval.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('awaken_eval')))\n"
        "print('cattrs' in sys.modules, 'anyio' in sys.modules)\n"
        "from awaken_eval import Fixture\n"
        "print(Fixture.__module__)\n"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    expected = (
        "['awaken_eval', 'awaken_eval.pytest_plugin']\nFalse False\nawaken_eval._records.fixtures\n"
    )
    assert expected == completed.stdout


def test_package_dir_lists_the_lazy_names() -> None:
    assert set(awaken_eval.__all__) <= set(dir(awaken_eval))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = awaken_eval.NoSuchName  # type: ignore[attr-defined]
