"""Spread of practice (sim/rules/spread.py, ODD 7.15) on tiny hand-built networks, with exact expectations.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import spread


def ties_from(n: int, edges: dict[tuple[int, int], float]) -> np.ndarray:
    ties = np.zeros((n, n))
    for (a, b), w in edges.items():
        ties[a, b] = ties[b, a] = w
    return ties


def test_exposure_is_tie_strength_times_adopters_visible_results():
    ties = ties_from(3, {(0, 1): 0.5, (0, 2): 0.25, (1, 2): 0.1})
    adopted = np.array([False, True, True])
    visible = np.array([1.0, 2.0, 0.5])
    # provider 0: 0.5 * 2.0 + 0.25 * 0.5; provider 1: 0.1 * 0.5; provider 2: 0.1 * 2.0 (own adoption never counts)
    assert spread.adoption_exposure(ties, adopted, visible) == pytest.approx([1.125, 0.05, 0.2])


def test_threshold_needs_reinforcement_from_several_partners():
    """Centola & Macy: at threshold 0.6, one tie of 0.4 is not enough; two are."""
    ties = ties_from(4, {(0, 2): 0.4, (1, 2): 0.4, (0, 3): 0.4})
    adopted = np.array([True, True, False, False])
    exposure = spread.adoption_exposure(ties, adopted, np.ones(4))
    new = spread.threshold_adoption(adopted, exposure, 0.6, np.ones(4, bool))
    assert new.tolist() == [True, True, True, False]


def test_clustered_ties_carry_practice_that_a_chain_of_single_ties_does_not():
    """The same number of ties of the same strength: a clustered band spreads, a chain stalls at the seeds."""
    permitted = np.ones(6, bool)
    seeds = np.array([True, True, False, False, False, False])
    # band: each provider tied to the two before it (clustered); chain: each tied to the one before it only
    band = ties_from(6, {(i, j): 0.4 for i in range(6) for j in (i - 1, i - 2) if j >= 0})
    chain = ties_from(6, {(i, i - 1): 0.4 for i in range(1, 6)})

    def run(ties):
        adopted = seeds.copy()
        for _ in range(6):
            adopted = spread.threshold_adoption(adopted, spread.adoption_exposure(ties, adopted, np.ones(6)), 0.6,
                                               permitted)
        return adopted

    assert run(band).all()
    assert run(chain).tolist() == seeds.tolist()


def test_no_adoption_where_commissioning_does_not_permit_it():
    ties = ties_from(3, {(0, 1): 1.0, (0, 2): 1.0})
    adopted = np.array([True, False, False])
    exposure = spread.adoption_exposure(ties, adopted, np.ones(3))
    new = spread.threshold_adoption(adopted, exposure, 0.6, np.array([True, False, True]))
    assert new.tolist() == [True, False, True]


def test_no_adoption_without_ties():
    adopted = np.array([True, True, False])
    exposure = spread.adoption_exposure(np.zeros((3, 3)), adopted, np.ones(3))
    assert not spread.threshold_adoption(adopted, exposure, 1e-9, np.ones(3, bool))[2]


def test_visible_results_are_smoothed_relative_shares_of_good_closures():
    good, closures = np.array([3.0, 0.0, 5.0]), np.array([4.0, 0.0, 8.0])
    open_mask = np.array([True, True, False])
    rate = np.array([4 / 6, 1 / 2])
    expected = np.r_[rate / rate.mean(), 0.0]  # the closed provider shows nothing
    assert spread.visible_results(good, closures, open_mask, 1.0) == pytest.approx(expected)
    assert spread.visible_results(good, closures, open_mask, 0.0) == pytest.approx([1.0, 1.0, 0.0])
    assert spread.visible_results(good, closures, open_mask, 2.0) == pytest.approx(np.r_[(rate / rate.mean()) ** 2, 0])


def test_slip_back_takes_every_adopter_at_probability_one_and_none_at_zero():
    adopted = np.array([True, False, True])
    rng = np.random.default_rng(0)
    assert spread.slip_back(adopted, 1.0, rng).tolist() == [False, False, False]
    state = rng.bit_generator.state
    assert spread.slip_back(adopted, 0.0, rng).tolist() == adopted.tolist()
    assert rng.bit_generator.state == state  # nothing drawn: scenarios without slipping keep their streams
