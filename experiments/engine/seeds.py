"""Replicate seeds: independent streams from one base seed, the same for every scenario (common random numbers)."""

from __future__ import annotations

import numpy as np


def replicate_seeds(base_seed: int, n: int) -> list[int]:
    """``n`` independent replicate seeds from ``base_seed`` (``SeedSequence.spawn``), as plain integers.

    Adding replicates never changes the earlier ones, and every scenario of a comparison or sweep runs with the
    same seeds, so differences between scenarios are paired.
    """
    children = np.random.SeedSequence(base_seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
