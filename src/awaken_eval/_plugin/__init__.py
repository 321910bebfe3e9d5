"""Private implementation of the pytest plugin: its settings and the ``awaken_eval`` evaluator."""
