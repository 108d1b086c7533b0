"""Ties between providers (sim/rules/ties.py, ODD 7.9) with values worked out by hand.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import ties

SYMMETRIC_TIES = np.array([[0.0, 0.5, 0.2], [0.5, 0.0, 0.1], [0.2, 0.1, 0.0]])

FOUR_PROVIDERS = np.array([
    [0.0, 0.3, 0.1, 0.25],
    [0.3, 0.0, 0.5, 0.0],
    [0.1, 0.5, 0.0, 0.2],
    [0.25, 0.0, 0.2, 0.0],
])


def test_update_ties_without_building_is_pure_decay():
    """build_rate 0: tie <- tie - decay * tie, whatever the joint work and relationship time."""
    joint = np.array([[0.0, 9.0, 1.0], [9.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    new = ties.update_ties(SYMMETRIC_TIES, joint, np.array([0.3, 0.3, 0.3]), 0.0, 0.1)
    np.testing.assert_allclose(new, 0.9 * SYMMETRIC_TIES, rtol=1e-12)
    np.testing.assert_array_equal(new, new.T)
    np.testing.assert_array_equal(np.diag(new), 0.0)


def test_update_ties_growth_hand_value():
    """tie 0, w = 5 joint case-weeks (c = 5/10 = 0.5), relationship time 0.1 and 0.3 (r = the larger, 0.3),
    build 0.5: tie = 0.5 * (0.5 + 0.3) * (1 - 0) = 0.4; diagonal stays 0; result within [0, 1]."""
    joint = np.array([[0.0, 5.0], [5.0, 0.0]])
    new = ties.update_ties(np.zeros((2, 2)), joint, np.array([0.1, 0.3]), 0.5, 0.01)
    np.testing.assert_allclose(new, [[0.0, 0.4], [0.4, 0.0]], rtol=1e-12)


def test_one_side_giving_time_builds_the_tie():
    """A prototype's staff reaching out: relationship time on one side only still grows the tie (r = 0.05)."""
    new = ties.update_ties(np.zeros((2, 2)), np.zeros((2, 2)), np.array([0.05, 0.0]), 0.5, 0.0)
    np.testing.assert_allclose(new, [[0.0, 0.025], [0.025, 0.0]], rtol=1e-12)
    saturated = ties.update_ties(np.full((2, 2), 0.99), np.full((2, 2), 1e6), np.ones(2), 50.0, 0.0)
    assert saturated.max() <= 1.0 and saturated.min() >= 0.0


def test_break_ties_scales_rows_and_columns_of_leavers():
    """Provider 0 loses 40 % of its ties (row and column); other ties and the input array are untouched."""
    strengths = np.full((3, 3), 0.5)
    np.fill_diagonal(strengths, 0.0)
    broken = ties.break_ties(strengths, np.array([0]), 0.4)
    expected = np.array([[0.0, 0.3, 0.3], [0.3, 0.0, 0.5], [0.3, 0.5, 0.0]])
    np.testing.assert_allclose(broken, expected, rtol=1e-12)
    assert strengths[0, 1] == 0.5
    np.testing.assert_array_equal(ties.break_ties(strengths, np.array([1]), 1.0)[1], 0.0)


def test_collaboration_density_and_mean_tie_strength_hand_example():
    """Pairs with tie >= 0.25: (0,1), (0,3), (1,2) of 6 -> 0.5; with provider 3 closed: (0,1), (1,2) of 3.
    Mean tie over the 6 pairs: 1.35 / 6; over pairs of 0..2: 0.9 / 3."""
    everyone = np.ones(4, bool)
    without_3 = np.array([True, True, True, False])
    assert ties.collaboration_density(FOUR_PROVIDERS, everyone, 0.25) == pytest.approx(0.5, abs=1e-12)
    assert ties.collaboration_density(FOUR_PROVIDERS, without_3, 0.25) == pytest.approx(2 / 3, abs=1e-12)
    assert ties.mean_tie_strength(FOUR_PROVIDERS, everyone) == pytest.approx(1.35 / 6, abs=1e-12)
    assert ties.mean_tie_strength(FOUR_PROVIDERS, without_3) == pytest.approx(0.3, abs=1e-12)
    one_open = np.array([True, False, False, False])
    assert ties.collaboration_density(FOUR_PROVIDERS, one_open, 0.25) == 0.0
    assert ties.mean_tie_strength(FOUR_PROVIDERS, one_open) == 0.0


def test_collaboration_density_is_a_share_even_at_threshold_zero():
    """Every pair has a tie >= 0, so the share of pairs is exactly 1 (a share can never exceed 1)."""
    assert ties.collaboration_density(FOUR_PROVIDERS, np.ones(4, bool), 0.0) == 1.0
