"""``python -m awaken_eval``: the ``awaken-eval`` command line."""

from __future__ import annotations

from awaken_eval.cli import main

raise SystemExit(main())
