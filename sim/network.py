"""Residents' social network: a Watts-Strogatz ring inside each neighbourhood (ODD 5, initialisation).

Each resident is linked to the ``degree / 2`` next residents on a ring of their own neighbourhood, and each link
is rewired with probability ``p_rewire`` to a resident anywhere in the place (Watts & Strogatz 1998). Built as a
symmetric CSR matrix with NumPy and SciPy, because a networkx graph of 200,000 residents would cost hundreds of
megabytes; every random draw comes from the model's generator.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def neighbourhood_small_world(
    counts: np.ndarray, degree: int, p_rewire: float, rng: np.random.Generator
) -> sp.csr_matrix:
    """Adjacency of residents laid out block by neighbourhood (``counts`` residents in each block).

    Returns a symmetric 0/1 float32 CSR matrix with no self-loops. Neighbourhoods smaller than ``degree + 1``
    are fully connected within themselves before rewiring.
    """
    n = int(counts.sum())
    start = np.repeat(np.cumsum(counts) - counts, counts)
    size = np.repeat(counts, counts)
    pos = np.arange(n) - start
    sources, targets = [], []
    for step in range(1, degree // 2 + 1):
        ok = size > step  # a ring of n_k residents has at most n_k - 1 distinct neighbours
        src = np.flatnonzero(ok)
        dst = start[ok] + (pos[ok] + step) % size[ok]
        sources.append(src)
        targets.append(dst)
    src = np.concatenate(sources) if sources else np.empty(0, np.int64)
    dst = np.concatenate(targets) if targets else np.empty(0, np.int64)
    rewire = rng.random(src.size) < p_rewire
    dst[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    keep = src != dst
    src, dst = src[keep], dst[keep]
    data = np.ones(2 * src.size, dtype=np.float32)
    adjacency = sp.coo_matrix(
        (data, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n)
    ).tocsr()
    adjacency.data[:] = 1.0  # duplicate links count once
    adjacency.indices = adjacency.indices.astype(np.int32)
    adjacency.indptr = adjacency.indptr.astype(np.int64)
    return adjacency
