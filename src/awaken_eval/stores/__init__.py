"""Run stores: where eval runs are persisted.

:class:`InMemoryRunStore` ships with the core; file and SQLite stores come with the
stores module.
"""

from __future__ import annotations

from awaken_eval.stores.memory import InMemoryRunStore

__all__ = ["InMemoryRunStore"]
