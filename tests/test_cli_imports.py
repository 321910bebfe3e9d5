"""What the command line imports: help and usage errors stay cheap (start-up, issue 11).

Each case runs ``main`` in a fresh interpreter and lists the modules it loaded. Printing
help imports only the standard library and the command specs; a usage error adds the
error classes (imported when raised), never the records, the engine, cattrs or anyio;
rich is imported only for a terminal. No timing is asserted here:
``benchmarks/bench_startup.py`` measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import awaken_eval

BUNDLED = Path(__file__).parent / "data" / "bundled"

PROBE = """
import contextlib, io, sys
from awaken_eval.cli import main

out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(sys.argv[1:])
heavy = ("attr", "attrs", "cattrs", "anyio", "rich")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith("awaken_eval"))
import json
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "loaded": loaded}))
"""

SPECS = ["awaken_eval", "awaken_eval.cli", "awaken_eval.cli._args", "awaken_eval.cli._commands"]
"""All that help loads of the package (besides the standard library)."""

ERRORS = ["attr", "attrs", "awaken_eval.cli._errors", "awaken_eval.errors"]
"""What a usage error adds: the error classes, which are attrs classes."""


def _probe(*args: str) -> dict[str, object]:
    """Run ``main(args)`` in a fresh interpreter; its exit code, output and modules."""
    source = str(Path(awaken_eval.__file__).parents[1])
    path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def _attrs_modules(loaded: object) -> list[str]:
    """``attr``/``attrs`` and their submodules collapsed to the two package names."""
    assert isinstance(loaded, list)
    return sorted({name.split(".")[0] if name.startswith("attr") else name for name in loaded})


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["-h"],
        ["runs", "--help"],
        ["replay", "--help"],
        ["check", "--help"],
        ["curate", "--help"],
        ["curate", "--expect-json", "--help"],
        ["run", "--help"],
        ["run", "datasets/x", "--mode", "live", "-h"],
        ["runs", "list", "--help"],
        ["runs", "show", "--help"],
        ["diff", "--help"],
        ["validate", "--help"],
        ["schema", "--help"],
        ["bogus", "--help"],
    ],
)
def test_help_imports_only_the_command_specs(args: list[str]) -> None:
    probed = _probe(*args)
    assert (0, "") == (probed["code"], probed["err"])
    assert probed["out"]
    assert SPECS == probed["loaded"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], 'unknown subcommand "bogus" (try `awaken-eval --help`)'),
        (["runs"], "runs: expected a subcommand, list or show (got none)"),
        (["replay", "--fixtures"], "--fixtures requires a value"),
        (["run", "d", "--samples", "0"], "--samples must be at least 1, got 0"),
        (["run", "d", "--bogus"], 'unknown argument "--bogus"'),
        (["diff", "a"], "RUN_B is required (usage: awaken-eval diff RUN_A RUN_B [--store <URL>]"),
    ],
)
def test_a_usage_error_imports_the_error_classes_and_no_handler(
    args: list[str], message: str
) -> None:
    probed = _probe(*args)
    assert (2, "") == (probed["code"], probed["out"])
    err = probed["err"]
    assert isinstance(err, str)
    assert err.startswith(f"awaken-eval: {message}")
    assert sorted([*SPECS, *ERRORS]) == _attrs_modules(probed["loaded"])


def test_a_run_printed_to_a_pipe_does_not_import_rich() -> None:
    probed = _probe("run", str(BUNDLED), "--store", "memory:")
    loaded = probed["loaded"]
    assert isinstance(loaded, list)
    assert (True, True) == ("awaken_eval.cli._runs" in loaded, "anyio" in loaded)
    assert [] == [name for name in loaded if name.split(".")[0] == "rich"]
