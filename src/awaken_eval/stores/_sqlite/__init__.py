"""The SQLite run store, one module per concern.

* :mod:`.schema`: the tables, their versioned migrations, the statements over them and
  the transaction every operation runs in;
* :mod:`.rows`: records encoded into rows and decoded back, every stored value checked
  (corrupt rows are reported, never trusted);
* :mod:`.operations`: the transactions of streaming (begin, append, finish), pruning
  and run-state lookups;
* :mod:`.store`: :class:`~awaken_eval.stores.SqliteRunStore` itself (the connection,
  its lock and worker threads, and the write/read/list calls).
"""
