"""Needs (sim/rules/needs.py, ODD 7.1-7.3, 7.11) on tiny hand-built arrays, values worked out by hand.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import needs

F32 = 1e-6  # absolute tolerance for rules that compute in float32


def test_life_event_hazard_mean_and_gradient():
    """Hazard averages shock_rate * demand, and is (1 + gradient) times higher at deprivation 1 than at 0."""
    deprivation = np.array([0.0, 0.25, 0.5, 1.0])
    hazard = needs.life_event_hazard(deprivation, shock_rate=0.01, gradient=2.0, demand_level=1.5)
    assert hazard.mean() == pytest.approx(0.015, rel=1e-12)
    assert hazard[-1] / hazard[0] == pytest.approx(3.0, rel=1e-12)
    # relative = 1 + 2d = [1, 1.5, 2, 3], mean 1.875
    np.testing.assert_allclose(hazard, 0.015 * np.array([1.0, 1.5, 2.0, 3.0]) / 1.875, rtol=1e-12)


def test_life_event_hazard_is_flat_without_gradient_and_capped_at_one():
    flat = needs.life_event_hazard(np.array([0.0, 0.4, 1.0]), shock_rate=0.02, gradient=0.0, demand_level=1.0)
    np.testing.assert_allclose(flat, 0.02, rtol=1e-12)
    capped = needs.life_event_hazard(np.array([0.0, 1.0]), shock_rate=1.0, gradient=3.0, demand_level=5.0)
    assert capped.max() == 1.0


def test_apply_life_events_without_events_is_pure_recovery():
    """Hazard 0: no events, and every need is multiplied by exactly (1 - recovery_rate) of its resident."""
    need = np.array([[0.2, 0.5, 1.0], [0.8, 0.0, 0.3]], dtype=np.float32)
    recovery = np.array([0.1, 0.5], dtype=np.float32)
    expected = need * (np.float32(1.0) - recovery)[:, None]
    cum = np.cumsum(np.ones((2, 3)), axis=1)
    events = needs.apply_life_events(need, np.zeros(2), cum, 0.25, recovery, np.random.default_rng(0))
    assert events == 0
    np.testing.assert_array_equal(need, expected)


def test_apply_life_events_hits_exactly_one_domain_per_resident():
    """Hazard 1: every resident has one event, raising exactly one domain; the count is returned."""
    n, d = 40, 4
    need = np.zeros((n, d), dtype=np.float32)
    cum = np.cumsum(np.ones((n, d)), axis=1)
    no_recovery = np.zeros(n, np.float32)
    events = needs.apply_life_events(need, np.ones(n), cum, 0.25, no_recovery, np.random.default_rng(1))
    assert events == n
    np.testing.assert_array_equal((need > 0).sum(axis=1), np.ones(n))
    assert need.max() <= 1.0


def test_apply_life_events_caps_need_at_one_and_follows_domain_weights():
    """A big shock caps at 1; domains of zero weight are never hit (weights [0, 0, 1] -> always domain 2)."""
    n = 30
    need = np.full((n, 3), 0.9, dtype=np.float32)
    cum = np.cumsum(np.tile([0.0, 0.0, 1.0], (n, 1)), axis=1)
    no_recovery = np.zeros(n, np.float32)
    events = needs.apply_life_events(need, np.ones(n), cum, 5.0, no_recovery, np.random.default_rng(2))
    assert events == n
    np.testing.assert_array_equal(need[:, :2], np.float32(0.9))  # untouched
    assert (need[:, 2] > np.float32(0.9)).all() and (need[:, 2] <= 1.0).all()
    assert (need[:, 2] == 1.0).sum() > n // 2  # shock_size 5: P(capped) = exp(-0.02) per resident


def test_recovery_rate_and_relaxing_strengths():
    """Recovery = r (0.5 + (resilience + connection) / 2), in [0.5 r, 1.5 r]; s += rate (base - s)."""
    rate = needs.recovery_rate(0.02, np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.1]))
    np.testing.assert_allclose(rate, [0.01, 0.03, 0.016], atol=F32)
    strength = np.array([0.8, 0.2], dtype=np.float32)
    needs.relax_strengths(strength, np.array([0.5, 0.2], dtype=np.float32), 0.1)
    np.testing.assert_allclose(strength, [0.77, 0.2], atol=F32)


def test_coupling_matrix_scales_and_adds_links():
    """C[from, to] = need_coupling * weight; repeated links add up; everything else is 0."""
    links = [(0, 1, 1.0), (1, 2, 0.5), (0, 1, 0.5)]
    matrix = needs.coupling_matrix(links, 3, 0.1)
    expected = np.zeros((3, 3))
    expected[0, 1] = 0.15
    expected[1, 2] = 0.05
    np.testing.assert_allclose(matrix, expected, atol=F32)
    assert not needs.coupling_matrix(links, 3, 0.0).any()


def test_couple_needs_hand_computed_2x2():
    """need += max(need - floor, 0) @ C: an excess of 0.5 in domain 0 spills 0.05 into domain 1 (C = 0.1)."""
    need = np.array([[0.8, 0.1], [0.2, 0.5]], dtype=np.float32)
    matrix = np.array([[0.0, 0.1], [0.2, 0.0]], dtype=np.float32)
    excess = needs.unmet_excess(need, 0.3, np.empty(0, np.int64), np.empty((0, 2)))
    np.testing.assert_allclose(excess, [[0.5, 0.0], [0.0, 0.2]], atol=F32)
    needs.couple_needs(need, excess, matrix)
    np.testing.assert_allclose(need, [[0.8, 0.15], [0.24, 0.5]], atol=F32)


def test_couple_needs_hand_computed_3x3_chain_and_cap():
    """A money -> mental health -> work chain: each domain receives from its predecessor only; capped at 1."""
    need = np.array([[0.9, 0.4, 0.3], [1.0, 1.0, 0.99]], dtype=np.float32)
    matrix = needs.coupling_matrix([(0, 1, 1.0), (1, 2, 1.0)], 3, 0.5)
    excess = needs.unmet_excess(need, 0.3, np.empty(0, np.int64), np.empty((0, 3)))
    needs.couple_needs(need, excess, matrix)
    # row 0: excess [0.6, 0.1, 0.0] -> + [0, 0.3, 0.05]
    np.testing.assert_allclose(need[0], [0.9, 0.7, 0.35], atol=F32)
    np.testing.assert_array_equal(need[1], [1.0, 1.0, 1.0])


def test_zero_coupling_leaves_need_unchanged():
    need = np.array([[0.9, 0.8], [0.5, 0.95]], dtype=np.float32)
    before = need.copy()
    excess = needs.unmet_excess(need, 0.0, np.empty(0, np.int64), np.empty((0, 2)))
    needs.couple_needs(need, excess, np.zeros((2, 2), np.float32))
    np.testing.assert_array_equal(need, before)


def test_unmet_excess_zeroes_fully_addressed_rows():
    """Support addressing a domain fully (addressed = 1) stops its spill; half-addressed spills half."""
    need = np.array([[0.8, 0.6], [0.9, 0.7], [0.5, 0.1]], dtype=np.float32)
    excess = needs.unmet_excess(need, 0.3, np.array([1, 2]), np.array([[1.0, 1.0], [0.5, 0.0]], np.float32))
    np.testing.assert_allclose(excess, [[0.5, 0.3], [0.0, 0.0], [0.1, 0.0]], atol=F32)


def test_wellbeing_hand_value():
    """need [0.2, 0.4, 0.0]: mean 0.2, max 0.4, burden 0.3; connection 0.5 -> 0.7 * 0.925 = 0.6475."""
    value = needs.wellbeing(np.array([[0.2, 0.4, 0.0], [0.0, 0.0, 0.0]]), np.array([0.5, 1.0]))
    np.testing.assert_allclose(value, [0.6475, 1.0], rtol=1e-12)


def test_in_crisis_threshold_and_cool_down():
    """Crisis rows: need_max >= threshold and crisis_until <= week (cool-down over)."""
    need_max = np.array([0.75, 0.74, 0.9, 0.95, 1.0], np.float32)  # threshold 0.75 is exact in float32
    crisis_until = np.array([0, 0, 11, 10, 3], np.int32)
    # 0: at threshold, no cool-down; 1: below; 2: cooling down until 11 > 10; 3: cool-down ends this week
    rows = needs.in_crisis(need_max, crisis_until, 10, 0.75)
    np.testing.assert_array_equal(rows, [0, 3, 4])
    assert needs.in_crisis(need_max, crisis_until, 10, 1.01).size == 0


def test_build_strengths_moves_rows_a_share_of_the_way_to_one():
    """s[rows] += rate * (1 - s[rows]), in place; other rows untouched."""
    strength = np.array([0.2, 0.5, 0.9, 1.0], np.float32)
    out = needs.build_strengths(strength, np.array([0, 2, 3]), 0.1)
    assert out is strength
    # 0.2 + 0.1 * 0.8 = 0.28; 0.9 + 0.1 * 0.1 = 0.91; 1 stays 1
    np.testing.assert_allclose(strength, [0.28, 0.5, 0.91, 1.0], atol=F32)
    assert strength.dtype == np.float32


def test_multiple_disadvantage_counts_needs_at_or_above_threshold():
    """Multiple disadvantage: at least ``domains`` needs >= threshold (equality counts)."""
    need = np.array([
        [0.5, 0.5, 0.1],  # two at the threshold
        [0.49, 0.5, 0.9],  # two
        [0.6, 0.7, 0.8],  # three
        [0.0, 0.0, 0.49],  # none
    ], np.float32)
    np.testing.assert_array_equal(needs.multiple_disadvantage(need, 0.5, 2), [True, True, True, False])
    np.testing.assert_array_equal(needs.multiple_disadvantage(need, 0.5, 3), [False, False, True, False])


# --- 7.19 Entrenched needs return -----------------------------------------------------------------------------
def test_return_to_chronic_after_recovery_relaxes_towards_the_floor():
    """apply_life_events (no events) then return_to_chronic: need += r (floor - need) for ``rows``, from above
    (0.9 -> 0.885 towards 0.75) and below (0.2 -> 0.255); a non-chronic need (floor 0) and a resident not in
    ``rows`` recover towards 0 as before."""
    need = np.array([[0.9, 0.2, 0.5], [0.9, 0.2, 0.5], [0.4, 0.4, 0.4]], np.float32)
    recovery = np.array([0.1, 0.2, 0.1], np.float32)
    rows = np.array([0, 1])
    floor = np.array([[0.75, 0.75, 0.0], [0.375, 0.0, 0.0]], np.float32)
    cum = np.cumsum(np.ones((3, 3)), axis=1)
    needs.apply_life_events(need, np.zeros(3), cum, 0.25, recovery, np.random.default_rng(0))
    out = needs.return_to_chronic(need, rows, floor, recovery)
    assert out is need
    np.testing.assert_allclose(need, [
        [0.9 + 0.1 * (0.75 - 0.9), 0.2 + 0.1 * (0.75 - 0.2), 0.5 * 0.9],  # 0.885, 0.255, 0.45
        [0.9 + 0.2 * (0.375 - 0.9), 0.2 * 0.8, 0.5 * 0.8],  # 0.795, 0.16, 0.4
        [0.36, 0.36, 0.36],
    ], atol=F32)


def test_return_to_chronic_converges_to_the_floor_without_overshooting():
    """Week after week, a chronic need moves monotonically to its floor from either side and stays there; a
    non-chronic need of the same resident goes to 0."""
    need = np.array([[0.95, 0.1, 0.6]], np.float32)
    floor = np.array([[0.6, 0.6, 0.0]], np.float32)
    recovery = np.array([0.05], np.float32)
    rows = np.array([0])
    cum = np.cumsum(np.ones((1, 3)), axis=1)
    rng = np.random.default_rng(0)
    previous = need.copy()
    for _ in range(600):
        needs.apply_life_events(need, np.zeros(1), cum, 0.25, recovery, rng)
        needs.return_to_chronic(need, rows, floor, recovery)
        assert need[0, 0] <= previous[0, 0] and need[0, 0] >= 0.6 - F32  # from above, never below the floor
        assert need[0, 1] >= previous[0, 1] and need[0, 1] <= 0.6 + F32  # from below, never above it
        previous = need.copy()
    np.testing.assert_allclose(need, [[0.6, 0.6, 0.0]], atol=1e-5)


def test_return_to_chronic_with_no_rows_changes_nothing():
    need = np.array([[0.3, 0.7]], np.float32)
    needs.return_to_chronic(need, np.empty(0, np.intp), np.empty((0, 2), np.float32), np.array([0.5], np.float32))
    np.testing.assert_array_equal(need, [[np.float32(0.3), np.float32(0.7)]])
