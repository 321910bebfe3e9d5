"""Run stores and dataset stores: where runs and datasets are persisted.

Run stores (:class:`~awaken_eval.EvalRunStore`, with pruning and streaming appends):

* :class:`InMemoryRunStore` — a dictionary, for tests and short-lived processes;
* :class:`SqliteRunStore` — the embedded default: one SQLite file, several processes;
* :class:`FileEvalRunStore` — the reference implementation's directory of JSON files,
  readable by it and by people;
* :func:`~awaken_eval.open_run_store` — any of them from a URL (``sqlite:///runs.sqlite3``,
  ``file:///var/runs``, ``memory:``).

Dataset stores (:class:`~awaken_eval.protocols.DatasetStore`, compare-and-swap
revisions): :class:`InMemoryDatasetStore` and :class:`FileDatasetStore`.
"""

from __future__ import annotations

from awaken_eval.stores._datasets import *
from awaken_eval.stores._files.store import *
from awaken_eval.stores._memory import *
from awaken_eval.stores._sqlite.store import *
from awaken_eval.stores._url import *

__all__ = [
    "FileDatasetStore",
    "FileEvalRunStore",
    "InMemoryDatasetStore",
    "InMemoryRunStore",
    "SqliteRunStore",
    "StoreLocation",
    "parse_store_url",
    "validate_dataset_id",
]
