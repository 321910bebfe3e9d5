"""The PostgreSQL run and dataset stores, one module per concern.

* :mod:`.schema`: the tables, their versioned migrations (applied on open under an
  advisory lock) and the statements over them;
* :mod:`.rows`: records encoded into rows and decoded back, every stored value checked;
* :mod:`.database`: the connection pool, the worker threads calls run in, and how
  driver errors become :mod:`awaken_eval.errors`;
* :mod:`.operations`: the transactions of streaming (begin, append, finish), pruning
  and run-state lookups;
* :mod:`.store`: :class:`~awaken_eval.stores.PostgresRunStore`;
* :mod:`.datasets`: :class:`~awaken_eval.stores.PostgresDatasetStore`.
"""
