"""Referral (sim/rules/referral.py, ODD 7.8): warm hand-off or signpost, on hand-built referrals.

Each test names the behaviour it checks; random rules are checked exactly against a twin generator (same seed,
same draws) where the docstring fixes the draws, and statistically otherwise.
"""

from __future__ import annotations

import numpy as np

from sim.rules import referral

MIN_TIE = 0.3  # joint_work_min_tie in these examples


def test_warm_handoffs_no_warm_practice_all_signposts_and_no_draws():
    """No referral from warm-hand-off practice: all False, and the generator is not touched."""
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    warm = referral.warm_handoffs(np.zeros(5, bool), np.ones(5), MIN_TIE, rng)
    np.testing.assert_array_equal(warm, np.zeros(5, bool))
    assert rng.random() == twin.random()  # the next draw is the twin's first: nothing was drawn


def test_warm_handoffs_tie_below_min_tie_never_warm():
    """Tie < min_tie: never handed on warmly, even from warm-hand-off practice."""
    tie = np.full(2000, 0.29)  # success would be 29 % per referral if the bar were not applied
    warm = referral.warm_handoffs(np.ones(tie.size, bool), tie, MIN_TIE, np.random.default_rng(1))
    assert not warm.any()


def test_warm_handoffs_tie_one_always_warm_and_only_from_warm_practice():
    """Tie 1.0 >= min_tie (equality included) from warm practice: always warm; from signpost practice: never."""
    practice = np.arange(1000) % 2 == 0
    warm = referral.warm_handoffs(practice, np.ones(1000), MIN_TIE, np.random.default_rng(2))
    np.testing.assert_array_equal(warm, practice)
    at_bar = referral.warm_handoffs(practice, np.ones(1000), 1.0, np.random.default_rng(2))  # tie == min_tie
    np.testing.assert_array_equal(at_bar, practice)


def test_warm_handoffs_one_draw_per_referral_in_order():
    """warm = practice & (u_i < tie_i) & (tie_i >= min_tie), one uniform u_i per referral, in order."""
    practice = np.array([True, False, True, True, False, True, True])
    tie = np.array([1.0, 1.0, 0.2, 0.5, 0.5, MIN_TIE, 0.9])
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    before = practice.copy()
    warm = referral.warm_handoffs(practice, tie, MIN_TIE, rng)
    u = twin.random(tie.size)
    np.testing.assert_array_equal(warm, practice & (u < tie) & (tie >= MIN_TIE))
    assert rng.random() == twin.random()  # exactly one draw per referral
    np.testing.assert_array_equal(practice, before)  # pure: input untouched


def test_warm_handoffs_success_rate_is_the_tie():
    """At tie 0.5 (>= min_tie) the share handed on warmly is 0.5, within 4 binomial standard errors."""
    n = 10_000
    warm = referral.warm_handoffs(np.ones(n, bool), np.full(n, 0.5), MIN_TIE, np.random.default_rng(0))
    standard_error = np.sqrt(0.5 * 0.5 / n)  # 0.005
    assert abs(warm.mean() - 0.5) < 4 * standard_error
