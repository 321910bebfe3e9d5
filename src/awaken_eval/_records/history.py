"""``ChatHistory``: the conversation of an inference request, shared between rounds.

An agent run asks the model once per round, each time with the whole conversation so
far. Copying the conversation into a new tuple every round costs time quadratic in the
number of rounds (a scripted run of 20,000 tool calls spent 8 of its 12 seconds there).
A history is instead an immutable *prefix* of an append-only list: extending the newest
history appends in place and shares the list, so every round costs the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, final, overload

if TYPE_CHECKING:
    from awaken_eval._records.inference import ChatMessage

__all__ = ["ChatHistory"]


@final
class ChatHistory(Sequence["ChatMessage"]):
    """An immutable sequence of chat messages that extends in constant time.

    It behaves as the tuple of its messages: it compares equal to a tuple (or any
    other history) of the same messages, hashes like one, and slicing gives a tuple. A
    history never changes once built; :meth:`appended` returns a longer one.

    Args:
        messages: The first messages.
    """

    __slots__ = ("_length", "_log")

    def __init__(self, messages: Iterable[ChatMessage] = ()) -> None:
        """Hold ``messages`` (copied)."""
        self._log: list[ChatMessage] = list(messages)
        self._length = len(self._log)

    def appended(self, message: ChatMessage) -> ChatHistory:
        """This history followed by ``message`` (constant time for the newest history).

        Extending an older history, which a longer one already extends, copies its
        messages first, so no history ever sees a message appended after it.
        """
        log = self._log
        if len(log) != self._length:
            log = log[: self._length]
        log.append(message)
        longer = ChatHistory.__new__(ChatHistory)
        longer._log = log  # noqa: SLF001 - the same class
        longer._length = self._length + 1  # noqa: SLF001 - the same class
        return longer

    def __len__(self) -> int:
        """The number of messages."""
        return self._length

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ChatMessage, ...]: ...

    def __getitem__(self, index: int | slice) -> ChatMessage | tuple[ChatMessage, ...]:
        """The message at ``index``, or a tuple of the messages of a slice."""
        if isinstance(index, slice):
            return tuple(self._log[: self._length][index])
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            msg = "ChatHistory index out of range"
            raise IndexError(msg)
        return self._log[index]

    def __iter__(self) -> Iterator[ChatMessage]:
        """The messages, first to last."""
        return islice(self._log, self._length)

    def __eq__(self, other: object) -> bool:
        """Equal to a tuple, or another history, of the same messages."""
        if not isinstance(other, tuple | ChatHistory):
            return NotImplemented
        return len(other) == self._length and all(
            mine == theirs for mine, theirs in zip(self, other, strict=True)
        )

    def __hash__(self) -> int:
        """The hash of the tuple of the messages."""
        return hash(tuple(self))

    def __repr__(self) -> str:
        """Shown as the tuple of its messages."""
        return repr(tuple(self))
