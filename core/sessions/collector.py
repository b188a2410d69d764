"""Fewer garbage-collector passes while a bulk job allocates millions of short-lived objects.

Every parsed record is a handful of dicts and lists, and a batch of them lives long enough to
survive the youngest generation, so with the default thresholds the collector walks the same
batch again and again: measured, reading and checking 200,000 sessions took 10.1 s instead of
5.5 s. The objects are freed by reference counting anyway (parsed JSON has no cycles); the
collector still runs, just less often, so any cycle made meanwhile is still reclaimed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# A young generation of 50,000 objects instead of 700: about a batch's worth of records.
BULK_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds for the block; restore the caller's afterwards."""
    before = gc.get_threshold()
    # Never lower a threshold someone chose to raise higher (or the collector they turned off).
    gc.set_threshold(*(max(a, b) if a else 0 for a, b in zip(before, BULK_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
