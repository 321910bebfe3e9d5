"""The command line's error: a usage or input error, printed and exiting 2.

Kept apart from the parser so that parsing arguments and printing help import neither
:mod:`awaken_eval.errors` nor attrs: the parser imports this module when it raises.
"""

from __future__ import annotations

from awaken_eval.errors import AwakenEvalError


class CliError(AwakenEvalError):
    """A usage or input error: printed as ``awaken-eval: <message>``, exit code 2."""
