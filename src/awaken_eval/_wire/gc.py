"""Pausing the cyclic garbage collector around bulk steps (large runs, big diffs)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = [
    "gc_paused",
]

_PROMOTE_AFTER = 10_000
"""New objects left by a paused step above which they are promoted (see gc_paused)."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk step (restored on exit).

    Without the pause, the collector would visit the growing document again and again
    while it is built. A step that leaves many new objects behind (a loaded run) would
    still have every one of them visited twice more, by the young-generation
    collections that follow; they are moved straight to the oldest generation instead
    (``gc.freeze()`` then ``gc.unfreeze()``), which is where those collections would
    have put the survivors. Skipped when the application keeps frozen objects of its
    own, which ``gc.unfreeze()`` would release.
    """
    if not gc.isenabled():  # paused by an enclosing step or by the application
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > _PROMOTE_AFTER and not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()
