"""Reproducible random streams: one independent stream per purpose, derived from the network seed.

String seeds are hashed with SHA-512 by `random.Random` (independent of PYTHONHASHSEED); numpy streams are seeded
from a SHA-256 of the same string. Each plant, asset and purpose has its own stream, so adding a plant or an asset
does not change the others' data.
"""

from __future__ import annotations

import hashlib
import math
import random

import numpy as np


def stream(seed: int, *parts: str) -> random.Random:
    """An independent, reproducible `random.Random` for one purpose."""
    return random.Random("/".join([str(seed), *parts]))


def numpy_stream(seed: int, *parts: str) -> np.random.Generator:
    """An independent, reproducible numpy generator (PCG64) for one purpose."""
    digest = hashlib.sha256("/".join([str(seed), *parts]).encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by Knuth's method (fine for the small means used here)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
