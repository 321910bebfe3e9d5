"""Run stores and dataset stores: where runs and datasets are persisted.

Run stores (:class:`~awaken_eval.EvalRunStore`, with pruning and streaming appends):

* :class:`InMemoryRunStore` — a dictionary, for tests and short-lived processes;
* :class:`SqliteRunStore` — the embedded default: one SQLite file, several processes;
* :class:`FileEvalRunStore` — the reference implementation's directory of JSON files,
  readable by it and by people;
* :func:`open_run_store` — any of them from a URL (``sqlite:///runs.sqlite3``,
  ``file:///var/runs``, ``memory:``).

Dataset stores (:class:`~awaken_eval.DatasetStore`, compare-and-swap revisions):
:class:`InMemoryDatasetStore` and :class:`FileDatasetStore`.
"""

from __future__ import annotations

from awaken_eval.stores.datasets import FileDatasetStore, InMemoryDatasetStore, validate_dataset_id
from awaken_eval.stores.files import FileEvalRunStore
from awaken_eval.stores.memory import InMemoryRunStore
from awaken_eval.stores.sqlite import SqliteRunStore
from awaken_eval.stores.url import StoreLocation, open_run_store, parse_store_url

__all__ = [
    "FileDatasetStore",
    "FileEvalRunStore",
    "InMemoryDatasetStore",
    "InMemoryRunStore",
    "SqliteRunStore",
    "StoreLocation",
    "open_run_store",
    "parse_store_url",
    "validate_dataset_id",
]
