"""Run stores and dataset stores: where runs and datasets are persisted.

Run stores (:class:`~awaken_eval.EvalRunStore`, with pruning and streaming appends):

* :class:`InMemoryRunStore` — a dictionary, for tests and short-lived processes;
* :class:`SqliteRunStore` — the embedded default: one SQLite file, several processes;
* :class:`FileEvalRunStore` — the reference implementation's directory of JSON files,
  readable by it and by people;
* :class:`PostgresRunStore` — a PostgreSQL database shared by many processes on many
  machines (the ``[postgres]`` extra);
* :func:`~awaken_eval.open_run_store` — any of them from a URL (``sqlite:///runs.sqlite3``,
  ``file:///var/runs``, ``postgresql://host/db``, ``memory:``).

Dataset stores (:class:`~awaken_eval.protocols.DatasetStore`, compare-and-swap
revisions): :class:`InMemoryDatasetStore`, :class:`FileDatasetStore` and
:class:`PostgresDatasetStore`.

The PostgreSQL stores are imported on first use, so this package does not need the
driver unless they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from awaken_eval.stores._datasets import *
from awaken_eval.stores._files.store import *
from awaken_eval.stores._memory import *
from awaken_eval.stores._sqlite.store import *
from awaken_eval.stores._url import *

if TYPE_CHECKING:
    from awaken_eval.stores._postgres.datasets import PostgresDatasetStore
    from awaken_eval.stores._postgres.store import PostgresRunStore

_LAZY = {
    "PostgresDatasetStore": "awaken_eval.stores._postgres.datasets",
    "PostgresRunStore": "awaken_eval.stores._postgres.store",
}

__all__ = [
    "FileDatasetStore",
    "FileEvalRunStore",
    "InMemoryDatasetStore",
    "InMemoryRunStore",
    "PostgresDatasetStore",
    "PostgresRunStore",
    "SqliteRunStore",
    "StoreLocation",
    "parse_store_url",
    "validate_dataset_id",
]


def __getattr__(name: str) -> Any:
    """Load a PostgreSQL store on first use (it needs the ``[postgres]`` extra)."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'awaken_eval.stores' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
