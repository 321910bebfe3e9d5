"""The pure-core benchmarks in one run: score, diff_eval_items and aggregate_samples.

Runs ``bench_score.py``, ``bench_diff.py`` and ``bench_aggregate.py`` one after the
other with the same ``--n`` and ``--repeat`` (each also runs on its own; see
benchmarks/README.md). Targets: ``score`` >= 300,000 outcomes/s over 1,000,000
outcomes; ``diff_eval_items`` 1,000,000 vs 1,000,000 items <= 3 s; ``aggregate_samples``
over 1,000,000 items <= 1.5 s. Each part prints its same-run floor, the ratio and
PASS/MISS. Always exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
PARTS = ("bench_score", "bench_diff", "bench_aggregate")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        msg = f"cannot load {name}"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Run the three parts with the given sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="items/outcomes per part")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    options = parser.parse_args(argv)
    for name in PARTS:
        print(f"\n##### {name}", flush=True)
        _load(name).main(["--n", str(options.n), "--repeat", str(options.repeat)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
