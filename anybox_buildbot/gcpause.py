"""Loading without Python's cyclic garbage collector running.

A load makes a few hundred thousand small objects that stay alive (specs,
plan entries, steps, ``BuilderConfig`` objects and their worker lists).
Each time the allocations pass the collector's threshold it walks every
tracked object again, so at 10 000 buildouts x 2 000 workers collections
took a third to a half of ``populate()`` (bench/scale.py) while finding
almost nothing: a load makes few reference cycles. Pausing the collector
for the load and starting it again afterwards leaves any cycle to the
next collection, as if the load had taken no time.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(freeze: bool = False) -> Iterator[None]:
    """Disable the cyclic collector inside the block, if it was enabled;
    nested blocks leave it to the outermost one.

    ``freeze``: for a short-lived process (the command line), move what
    exists at the end of the block out of the collector's sight before
    enabling it again (``gc.freeze``): otherwise the first collection after
    the block walks every object the load made, for nothing. Not for a
    master, whose old configuration must stay collectable after a reconfig.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        gc.enable()
