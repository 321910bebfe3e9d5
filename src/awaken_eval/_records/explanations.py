"""What a failure means, in words: the record :func:`~awaken_eval.failures.explain` returns."""

from __future__ import annotations

import attrs

__all__ = ["Explanation"]


@attrs.frozen(kw_only=True)
class Explanation:
    """A short human explanation of one failure: the expectation, expected against actual.

    The same explanation is shown by the command line, the pytest plugin, the JUnit
    output and the HTML report. Every text is plain (no terminal markup).

    Attributes:
        kind: The failure's kind (e.g. ``answer_missing_phrase``).
        expectation: The fixture key that failed (e.g. ``final_answer_contains``), or
            ``replay`` for a replay that misbehaved.
        summary: One line: the expectation, then expected against actual, e.g.
            ``max_tokens_total: expected at most 100 tokens, got 250``.
        expected: What the expectation asked for, in a few words.
        actual: What the replay did instead, in a few words.
        details: Further lines of evidence: an excerpt of the final answer, the first
            differing tool, the judge's reasons, ...
    """

    kind: str
    expectation: str
    summary: str
    expected: str
    actual: str
    details: tuple[str, ...] = ()

    def lines(self) -> tuple[str, ...]:
        """The summary, then the details."""
        return (self.summary, *self.details)

    def __str__(self) -> str:
        """The summary and the details, one per line."""
        return "\n".join(self.lines())
