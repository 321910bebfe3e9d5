"""Benchmark: start-up time of the library's entry points, as ratios to a bare interpreter.

Each command runs in a fresh subprocess (the same interpreter, ``-X frozen_modules``
left at its default, no ``PYTHONDONTWRITEBYTECODE``: byte code is cached as in real
use); the best wall-clock time of ``--repeat`` runs is kept, the commands interleaved
within each round so that a busy machine slows them alike. Targets, as ratios to
``python -c pass`` measured in the same run:

* ``import awaken_eval; awaken_eval.run_eval_sync``: at most 6x;
* ``awaken-eval --help`` (``python -m awaken_eval.cli --help``): at most 3x.

For information the script also times ``import awaken_eval`` alone and reports which
heavy modules each entry point imports (cattrs, anyio, the engine).

Usage::

    python benchmarks/bench_startup.py               # best of 15
    python benchmarks/bench_startup.py --smoke       # best of 3 (CI)
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time

ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}
"""The subprocesses' environment: byte code is written and reused, as in real use (a
shell or CI that sets PYTHONDONTWRITEBYTECODE would otherwise time the compiler)."""

RUN_EVAL_TARGET = 6.0
HELP_TARGET = 3.0

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import awaken_eval": ["-c", "import awaken_eval"],
    "awaken_eval.run_eval_sync": ["-c", "import awaken_eval; awaken_eval.run_eval_sync"],
    "awaken-eval --help": ["-m", "awaken_eval.cli", "--help"],
}

PROBE = """
import sys
{setup}
heavy = ("cattrs", "anyio", "awaken_eval._engine.runner", "awaken_eval._wire.converter")
print(",".join(name for name in heavy if name in sys.modules) or "-")
"""

PROBES = {
    "awaken_eval.run_eval_sync": "import awaken_eval; awaken_eval.run_eval_sync",
    "awaken-eval --help": (
        "import contextlib, io\n"
        "from awaken_eval.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    ),
}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def time_once(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, *arguments], check=True, stdout=subprocess.DEVNULL, env=ENVIRONMENT
    )
    return time.perf_counter() - started


def heavy_modules(setup: str) -> str:
    completed = subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, "-c", PROBE.format(setup=setup)],
        check=True,
        capture_output=True,
        text=True,
        env=ENVIRONMENT,
    )
    return completed.stdout.strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="best of 3 (a few seconds)")
    args = parser.parse_args(argv)
    repeat = min(args.repeat, 3) if args.smoke else args.repeat
    print(f"bench_startup: Python {sys.version.split()[0]}, best of {repeat} (wall clock)")
    for arguments in COMMANDS.values():  # warm the byte-code cache and the page cache
        time_once(arguments)
    best = dict.fromkeys(COMMANDS, math.inf)
    for _ in range(repeat):
        for name, arguments in COMMANDS.items():
            best[name] = min(best[name], time_once(arguments))
    bare = best["python -c pass"]
    for name, seconds in best.items():
        print(f"    {name:28s} {seconds * 1000:8.1f} ms  {seconds / bare:5.2f}x")
    for name, target in (
        ("awaken_eval.run_eval_sync", RUN_EVAL_TARGET),
        ("awaken-eval --help", HELP_TARGET),
    ):
        ratio = best[name] / bare
        print(
            f"    {name} / python -c pass {ratio:.2f} (target <= {target:g}): "
            f"{_verdict(ratio <= target)}; imports {heavy_modules(PROBES[name])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
