"""What the CLI tests share: the captured result of one in-process ``awaken-eval`` call.

The ``cli`` fixture (in ``conftest.py``) runs ``awaken_eval.cli.main`` with the given
arguments and returns a :class:`Result`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import attrs

TOTALS = re.compile(
    r"^awaken-eval: run (?P<id>\w{26}) \((?P<dataset>[^,]+), (?P<mode>\w+)\) — "
    r"(?P<items>\d+) items?: (?P<passed>\d+) passed, (?P<failed>\d+) failed → (?P<store>.+)$",
    re.MULTILINE,
)


@attrs.frozen
class Result:
    """One CLI call: its exit code and what it printed.

    Attributes:
        code: The exit code ``main`` returned.
        out: Everything printed to stdout.
        err: Everything printed to stderr.
    """

    code: int
    out: str
    err: str

    def totals(self) -> dict[str, str]:
        """The fields of the totals line ``awaken-eval run`` prints (asserts there is one)."""
        match = TOTALS.search(self.out)
        assert match is not None, self.out
        return match.groupdict()

    def json(self) -> Any:
        """Stdout parsed as one JSON document."""
        return json.loads(self.out)


Cli = Callable[..., Result]
"""The ``cli`` fixture's type: ``cli("runs", "list", ...)`` runs ``main`` in-process."""
