"""Batch work without the cyclic garbage collector passing over it again and again."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during one synchronous batch of rows.

    A batch makes tens of thousands of short-lived dicts, lists and tuples, none of them in a
    reference cycle: reference counting frees them. The collector would still walk the live
    ones every 700 allocations, which costs a fifth of the batch's time. It is enabled again
    afterwards if it was enabled before (two threads pausing at once end with it enabled).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["collector_paused"]
