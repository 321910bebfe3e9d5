"""The wire format: the converter factory, NDJSON files and fixture content digests."""

from __future__ import annotations

from awaken_eval._io.files import *
from awaken_eval._wire.converter import *
from awaken_eval._wire.digests import *
from awaken_eval._wire.json import MAX_DEPTH

__all__ = [
    "MAX_DEPTH",
    "fixture_digest",
    "fixture_digests",
    "make_converter",
    "read_ndjson",
    "write_ndjson",
]
