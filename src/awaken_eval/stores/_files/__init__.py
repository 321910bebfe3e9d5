"""The file run store, one module per concern.

* :mod:`.layout`: paths, month shards, write-once markers, reading run files;
* :mod:`.journal`: the journal of a streamed run (appends, locking, the key cache);
* :mod:`.index`: reading a journal or a run file one line at a time (finish, summary);
* :mod:`.printer`: the byte-exact JSON printer of run files;
* :mod:`.checks`: what is checked before anything is stored;
* :mod:`.store`: :class:`~awaken_eval.stores.FileEvalRunStore` itself.
"""
