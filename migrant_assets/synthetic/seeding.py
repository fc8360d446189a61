"""Seeded random generators and numbering (SPEC §7: deterministic): one stream per (seed,
purpose, keys such as block and day), and keyed bijections that number the city's people."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """An independent generator for one purpose (and block, day...), so each block is
    reproducible on its own and adding a purpose never shifts the draws of another."""
    entropy = [int(seed), zlib.crc32(purpose.encode()), *(int(k) + 1 for k in keys)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def permute(index: np.ndarray, domain: int, seed: int, purpose: str) -> np.ndarray:
    """A keyed bijection of ``[0, domain)`` (a 4-round Feistel network on the next even number
    of bits, cycle-walking back into the domain): unique, scattered numbers and ids for any
    block of people without holding the whole city's numbering."""
    bits = max(2, (int(domain) - 1).bit_length())
    half = np.uint64((bits + 1) // 2)
    mask = np.uint64((1 << int(half)) - 1)
    keys = np.random.SeedSequence([int(seed), zlib.crc32(purpose.encode())]).generate_state(
        4, np.uint64)
    x = np.asarray(index, dtype=np.uint64).copy()
    if x.size and (x.max() >= domain):
        raise ValueError("index outside the permuted domain")
    pending = np.arange(x.size)
    while pending.size:
        left, right = x[pending] >> half, x[pending] & mask
        for k in keys:
            h = (right ^ k) * _M1
            h ^= h >> np.uint64(31)
            h *= _M2
            h ^= h >> np.uint64(29)
            left, right = right, left ^ (h & mask)
        x[pending] = (left << half) | right
        pending = pending[x[pending] >= domain]
    return x.astype(np.int64)
