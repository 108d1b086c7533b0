"""Residents' trust (sim/rules/trust.py, ODD 7.9) with values worked out by hand.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim.rules import trust

F32 = 1e-6  # absolute tolerance for rules that compute in float32

def _graph(n: int, edges: list[tuple[int, int]]) -> tuple[sp.csr_matrix, np.ndarray]:
    rows = [a for a, b in edges] + [b for a, b in edges]
    cols = [b for a, b in edges] + [a for a, b in edges]
    adjacency = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    return adjacency, np.asarray(adjacency.sum(axis=1)).ravel().astype(np.float32)


def test_gain_and_lose_trust_exact_values():
    """t = 0.5, rate 0.1: a good experience -> 0.55; a bad one (loss/gain 3) -> 0.5 - 0.3 * 0.5 = 0.35."""
    t = np.array([0.5])
    assert trust.gain_trust(t, 0.1)[0] == pytest.approx(0.55, abs=1e-12)
    assert trust.lose_trust(t, 0.1, 3.0)[0] == pytest.approx(0.35, abs=F32)
    assert trust.lose_trust(t, 0.5, 3.0)[0] == 0.0  # ratio * rate >= 1 wipes values out, never below 0
    np.testing.assert_array_equal(t, [0.5])  # pure: input untouched


def test_one_bad_experience_outweighs_one_good():
    """With ratio > 1, a gain then a loss at the same rate leaves trust lower than it started (Slovic)."""
    t = np.array([0.4, 0.7])
    after = trust.lose_trust(trust.gain_trust(t, 0.08), 0.08, 3.0)
    assert (after < t).all()


def test_word_of_mouth_on_a_path_graph():
    """Path 0-1-2 plus isolated node 3, rate 0.5: t += 0.5 (contacts' mean - t); node 3 keeps its trust."""
    adjacency, degree = _graph(4, [(0, 1), (1, 2)])
    values = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.3, 0.9]], dtype=np.float32)
    out = trust.word_of_mouth(values, adjacency, degree, 0.5)
    assert out is values  # in place
    np.testing.assert_allclose(values, [[0.25, 0.75], [0.5, 0.5], [0.75, 0.25], [0.3, 0.9]], atol=F32)


def test_word_of_mouth_rate_zero_changes_nothing():
    adjacency, degree = _graph(3, [(0, 1), (1, 2)])
    values = np.array([[0.1], [0.9], [0.4]], dtype=np.float32)
    before = values.copy()
    trust.word_of_mouth(values, adjacency, degree, 0.0)
    np.testing.assert_array_equal(values, before)
