"""Private implementation package: import its names from ``awaken_eval`` or a namespace."""
