"""Start-up: reaching ``run_eval_sync`` loads the run path and nothing else.

The time it takes is measured by ``benchmarks/bench_startup.py``; this test pins *what*
is imported, so a module-level import that drags a heavy dependency onto the run path
fails here instead of slowing every program that imports the engine.
"""

from __future__ import annotations

import subprocess
import sys

NOT_ON_THE_RUN_PATH = (
    # the wire format: a run computes fixture digests with it, on the first digest
    "cattrs",
    "awaken_eval._wire.converter",
    # analysis of finished runs: baselines, diffs, statistics
    "awaken_eval._analysis",
    "awaken_eval._records.comparison",
    # the run header of streaming stores; stores, sinks and the layers above the engine
    "awaken_eval._records.store",
    "awaken_eval._io",
    "awaken_eval._engine.orchestrate",
    "awaken_eval._engine.judging",
    "awaken_eval.stores",
    "awaken_eval.sinks",
    "awaken_eval.service",
    "awaken_eval.cli",
    # the standard library: logged failures, digests and the CLI's needs
    "logging",
    "hashlib",
    "decimal",
    "fractions",
    "statistics",
    "concurrent",
    "sqlite3",
    "asyncio",
)
"""Modules (and their submodules) that reaching ``run_eval_sync`` must not import."""


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sys.modules))\n"
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(completed.stdout.split())


def _loaded_after(code: str) -> list[str]:
    """The modules ``code`` imports, beyond those of the bare interpreter (and its site)."""
    return sorted(_modules_after(code) - _modules_after("pass"))


def _matching(loaded: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [
        name
        for name in loaded
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)
    ]


def test_reaching_run_eval_sync_loads_only_the_run_path() -> None:
    loaded = _loaded_after("import awaken_eval\nawaken_eval.run_eval_sync")
    assert [] == _matching(loaded, NOT_ON_THE_RUN_PATH)
    assert ["awaken_eval._engine.runner"] == _matching(loaded, ("awaken_eval._engine.runner",))


def test_the_check_sees_a_module_on_the_run_path() -> None:
    loaded = _loaded_after("import awaken_eval\nawaken_eval.run_eval_sync\nimport logging")
    assert ["logging"] == _matching(loaded, ("logging",))
    assert ["awaken_eval._analysis", "awaken_eval._analysis.diff"] == _matching(
        ["awaken_eval._analysis", "awaken_eval._analysis.diff", "awaken_eval._analysisx"],
        ("awaken_eval._analysis",),
    )


def test_importing_the_package_does_not_load_typing() -> None:
    # `import awaken_eval` is done by the pytest plugin in every session: it costs the
    # package's own module, not the typing module (about as long again as the interpreter).
    loaded = _loaded_after("import awaken_eval")
    assert [] == _matching(loaded, ("typing", "attrs", "anyio"))
