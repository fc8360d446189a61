"""Seeded random generators (SPEC §7: deterministic): one stream per (seed, purpose, day)."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, purpose: str, day: int = -1) -> np.random.Generator:
    """An independent generator for one purpose (and one day), so each day file is reproducible
    on its own and adding a purpose never shifts the draws of another."""
    key = zlib.crc32(purpose.encode())
    return np.random.default_rng(np.random.SeedSequence([int(seed), key, day + 1]))
