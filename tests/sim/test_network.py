"""Residents' social network (sim/network.py): a Watts-Strogatz ring inside each neighbourhood."""

from __future__ import annotations

import numpy as np

from sim.network import neighbourhood_small_world


def _block_of(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def test_without_rewiring_links_stay_inside_neighbourhoods():
    """p_rewire = 0: every link joins two residents of the same neighbourhood; symmetric 0/1, no self-loops;
    residents of neighbourhoods larger than `degree` have exactly `degree` contacts."""
    counts = np.array([30, 12, 9, 4, 1])
    adjacency = neighbourhood_small_world(counts, 8, 0.0, np.random.default_rng(0))
    n = counts.sum()
    assert adjacency.shape == (n, n)
    dense = adjacency.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert set(np.unique(dense)) <= {0.0, 1.0}
    assert np.diag(dense).sum() == 0
    block = _block_of(counts)
    rows, cols = np.nonzero(dense)
    assert (block[rows] == block[cols]).all()
    degree = dense.sum(axis=1)
    large = np.repeat(counts > 8, counts)
    np.testing.assert_array_equal(degree[large], 8)
    # smaller neighbourhoods are fully connected within themselves (4 residents -> 3 contacts, 1 -> none)
    np.testing.assert_array_equal(degree[block == 3], 3)
    np.testing.assert_array_equal(degree[block == 4], 0)


def test_ring_neighbours_are_the_nearest_on_the_ring():
    """degree 4 on a ring of 10: resident 0 knows 1, 2, 8 and 9."""
    adjacency = neighbourhood_small_world(np.array([10]), 4, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(np.flatnonzero(adjacency.toarray()[0]), [1, 2, 8, 9])


def test_same_seed_same_network_and_rewiring_crosses_neighbourhoods():
    counts = np.array([50, 50, 50])
    a = neighbourhood_small_world(counts, 6, 0.3, np.random.default_rng(42))
    b = neighbourhood_small_world(counts, 6, 0.3, np.random.default_rng(42))
    assert (a != b).nnz == 0
    dense = a.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert np.diag(dense).sum() == 0
    block = _block_of(counts)
    rows, cols = np.nonzero(dense)
    assert (block[rows] != block[cols]).any()  # with p_rewire 0.3 some contacts live elsewhere
