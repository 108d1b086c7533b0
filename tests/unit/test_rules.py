"""Rule functions of sim/rules.py on tiny hand-built arrays, with values worked out by hand from docstrings.

Each test names the equation it checks. Where the rule computes in float32 (as the model does), expectations
are compared to float32 precision; everything else is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim import rules

F32 = 1e-6  # absolute tolerance for rules that compute in float32


# --- row-wise reductions ------------------------------------------------------------------------------------
def test_row_reductions_match_numpy_and_first_maximum_wins():
    """row_max / row_argmax / row_sum stand in for numpy's axis-1 reductions: same values, same tie rule."""
    a = np.array([[0.1, 0.7, 0.7], [0.9, 0.2, 0.9], [0.0, 0.0, 0.0], [0.3, 0.1, 0.5]], dtype=np.float32)
    best, index = rules.row_argmax(a)
    np.testing.assert_array_equal(best, a.max(axis=1))
    np.testing.assert_array_equal(index, [1, 0, 0, 2])  # first maximal column, as numpy.argmax
    np.testing.assert_array_equal(rules.row_max(a), a.max(axis=1))
    np.testing.assert_allclose(rules.row_sum(a), a.sum(axis=1), atol=F32)


# --- 1. Life events -----------------------------------------------------------------------------------------
def test_life_event_hazard_mean_and_gradient():
    """Hazard averages shock_rate * demand, and is (1 + gradient) times higher at deprivation 1 than at 0."""
    deprivation = np.array([0.0, 0.25, 0.5, 1.0])
    hazard = rules.life_event_hazard(deprivation, shock_rate=0.01, gradient=2.0, demand_level=1.5)
    assert hazard.mean() == pytest.approx(0.015, rel=1e-12)
    assert hazard[-1] / hazard[0] == pytest.approx(3.0, rel=1e-12)
    # relative = 1 + 2d = [1, 1.5, 2, 3], mean 1.875
    np.testing.assert_allclose(hazard, 0.015 * np.array([1.0, 1.5, 2.0, 3.0]) / 1.875, rtol=1e-12)


def test_life_event_hazard_is_flat_without_gradient_and_capped_at_one():
    flat = rules.life_event_hazard(np.array([0.0, 0.4, 1.0]), shock_rate=0.02, gradient=0.0, demand_level=1.0)
    np.testing.assert_allclose(flat, 0.02, rtol=1e-12)
    capped = rules.life_event_hazard(np.array([0.0, 1.0]), shock_rate=1.0, gradient=3.0, demand_level=5.0)
    assert capped.max() == 1.0


def test_apply_life_events_without_events_is_pure_recovery():
    """Hazard 0: no events, and every need is multiplied by exactly (1 - recovery_rate) of its resident."""
    need = np.array([[0.2, 0.5, 1.0], [0.8, 0.0, 0.3]], dtype=np.float32)
    recovery = np.array([0.1, 0.5], dtype=np.float32)
    expected = need * (np.float32(1.0) - recovery)[:, None]
    cum = np.cumsum(np.ones((2, 3)), axis=1)
    events = rules.apply_life_events(need, np.zeros(2), cum, 0.25, recovery, np.random.default_rng(0))
    assert events == 0
    np.testing.assert_array_equal(need, expected)


def test_apply_life_events_hits_exactly_one_domain_per_resident():
    """Hazard 1: every resident has one event, raising exactly one domain; the count is returned."""
    n, d = 40, 4
    need = np.zeros((n, d), dtype=np.float32)
    cum = np.cumsum(np.ones((n, d)), axis=1)
    no_recovery = np.zeros(n, np.float32)
    events = rules.apply_life_events(need, np.ones(n), cum, 0.25, no_recovery, np.random.default_rng(1))
    assert events == n
    np.testing.assert_array_equal((need > 0).sum(axis=1), np.ones(n))
    assert need.max() <= 1.0


def test_apply_life_events_caps_need_at_one_and_follows_domain_weights():
    """A big shock caps at 1; domains of zero weight are never hit (weights [0, 0, 1] -> always domain 2)."""
    n = 30
    need = np.full((n, 3), 0.9, dtype=np.float32)
    cum = np.cumsum(np.tile([0.0, 0.0, 1.0], (n, 1)), axis=1)
    no_recovery = np.zeros(n, np.float32)
    events = rules.apply_life_events(need, np.ones(n), cum, 5.0, no_recovery, np.random.default_rng(2))
    assert events == n
    np.testing.assert_array_equal(need[:, :2], np.float32(0.9))  # untouched
    assert (need[:, 2] > np.float32(0.9)).all() and (need[:, 2] <= 1.0).all()
    assert (need[:, 2] == 1.0).sum() > n // 2  # shock_size 5: P(capped) = exp(-0.02) per resident


def test_recovery_rate_and_relaxing_strengths():
    """Recovery = r (0.5 + (resilience + connection) / 2), in [0.5 r, 1.5 r]; s += rate (base - s)."""
    rate = rules.recovery_rate(0.02, np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.1]))
    np.testing.assert_allclose(rate, [0.01, 0.03, 0.016], atol=F32)
    strength = np.array([0.8, 0.2], dtype=np.float32)
    rules.relax_strengths(strength, np.array([0.5, 0.2], dtype=np.float32), 0.1)
    np.testing.assert_allclose(strength, [0.77, 0.2], atol=F32)


# --- 2. Needs interact --------------------------------------------------------------------------------------
def test_coupling_matrix_scales_and_adds_links():
    """C[from, to] = need_coupling * weight; repeated links add up; everything else is 0."""
    links = [(0, 1, 1.0), (1, 2, 0.5), (0, 1, 0.5)]
    matrix = rules.coupling_matrix(links, 3, 0.1)
    expected = np.zeros((3, 3))
    expected[0, 1] = 0.15
    expected[1, 2] = 0.05
    np.testing.assert_allclose(matrix, expected, atol=F32)
    assert not rules.coupling_matrix(links, 3, 0.0).any()


def test_couple_needs_hand_computed_2x2():
    """need += max(need - floor, 0) @ C: an excess of 0.5 in domain 0 spills 0.05 into domain 1 (C = 0.1)."""
    need = np.array([[0.8, 0.1], [0.2, 0.5]], dtype=np.float32)
    matrix = np.array([[0.0, 0.1], [0.2, 0.0]], dtype=np.float32)
    excess = rules.unmet_excess(need, 0.3, np.empty(0, np.int64), np.empty((0, 2)))
    np.testing.assert_allclose(excess, [[0.5, 0.0], [0.0, 0.2]], atol=F32)
    rules.couple_needs(need, excess, matrix)
    np.testing.assert_allclose(need, [[0.8, 0.15], [0.24, 0.5]], atol=F32)


def test_couple_needs_hand_computed_3x3_chain_and_cap():
    """A money -> mental health -> work chain: each domain receives from its predecessor only; capped at 1."""
    need = np.array([[0.9, 0.4, 0.3], [1.0, 1.0, 0.99]], dtype=np.float32)
    matrix = rules.coupling_matrix([(0, 1, 1.0), (1, 2, 1.0)], 3, 0.5)
    excess = rules.unmet_excess(need, 0.3, np.empty(0, np.int64), np.empty((0, 3)))
    rules.couple_needs(need, excess, matrix)
    # row 0: excess [0.6, 0.1, 0.0] -> + [0, 0.3, 0.05]
    np.testing.assert_allclose(need[0], [0.9, 0.7, 0.35], atol=F32)
    np.testing.assert_array_equal(need[1], [1.0, 1.0, 1.0])


def test_zero_coupling_leaves_need_unchanged():
    need = np.array([[0.9, 0.8], [0.5, 0.95]], dtype=np.float32)
    before = need.copy()
    excess = rules.unmet_excess(need, 0.0, np.empty(0, np.int64), np.empty((0, 2)))
    rules.couple_needs(need, excess, np.zeros((2, 2), np.float32))
    np.testing.assert_array_equal(need, before)


def test_unmet_excess_zeroes_fully_addressed_rows():
    """Support addressing a domain fully (addressed = 1) stops its spill; half-addressed spills half."""
    need = np.array([[0.8, 0.6], [0.9, 0.7], [0.5, 0.1]], dtype=np.float32)
    excess = rules.unmet_excess(need, 0.3, np.array([1, 2]), np.array([[1.0, 1.0], [0.5, 0.0]], np.float32))
    np.testing.assert_allclose(excess, [[0.5, 0.3], [0.0, 0.0], [0.1, 0.0]], atol=F32)


# --- 3. Help-seeking ----------------------------------------------------------------------------------------
def test_seek_probability_zero_below_floor_else_rate_trust_need():
    p = rules.seek_probability(np.array([0.29, 0.3, 0.8]), np.array([1.0, 0.5, 0.5]), 0.25, 0.3)
    np.testing.assert_allclose(p, [0.0, 0.25 * 0.5 * 0.3, 0.25 * 0.5 * 0.8], rtol=1e-12)


# --- 7. Trust -----------------------------------------------------------------------------------------------
def test_gain_and_lose_trust_exact_values():
    """t = 0.5, rate 0.1: a good experience -> 0.55; a bad one (loss/gain 3) -> 0.5 - 0.3 * 0.5 = 0.35."""
    t = np.array([0.5])
    assert rules.gain_trust(t, 0.1)[0] == pytest.approx(0.55, abs=1e-12)
    assert rules.lose_trust(t, 0.1, 3.0)[0] == pytest.approx(0.35, abs=F32)
    assert rules.lose_trust(t, 0.5, 3.0)[0] == 0.0  # ratio * rate >= 1 wipes trust out, never below 0
    np.testing.assert_array_equal(t, [0.5])  # pure: input untouched


def test_one_bad_experience_outweighs_one_good():
    """With ratio > 1, a gain then a loss at the same rate leaves trust lower than it started (Slovic)."""
    t = np.array([0.4, 0.7])
    after = rules.lose_trust(rules.gain_trust(t, 0.08), 0.08, 3.0)
    assert (after < t).all()


def _graph(n: int, edges: list[tuple[int, int]]) -> tuple[sp.csr_matrix, np.ndarray]:
    rows = [a for a, b in edges] + [b for a, b in edges]
    cols = [b for a, b in edges] + [a for a, b in edges]
    adjacency = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    return adjacency, np.asarray(adjacency.sum(axis=1)).ravel().astype(np.float32)


def test_word_of_mouth_on_a_path_graph():
    """Path 0-1-2 plus isolated node 3, rate 0.5: t += 0.5 (contacts' mean - t); node 3 keeps its trust."""
    adjacency, degree = _graph(4, [(0, 1), (1, 2)])
    trust = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.3, 0.9]], dtype=np.float32)
    out = rules.word_of_mouth(trust, adjacency, degree, 0.5)
    assert out is trust  # in place
    np.testing.assert_allclose(trust, [[0.25, 0.75], [0.5, 0.5], [0.75, 0.25], [0.3, 0.9]], atol=F32)


def test_word_of_mouth_rate_zero_changes_nothing():
    adjacency, degree = _graph(3, [(0, 1), (1, 2)])
    trust = np.array([[0.1], [0.9], [0.4]], dtype=np.float32)
    before = trust.copy()
    rules.word_of_mouth(trust, adjacency, degree, 0.0)
    np.testing.assert_array_equal(trust, before)


# --- 7. Provider ties ---------------------------------------------------------------------------------------
SYMMETRIC_TIES = np.array([[0.0, 0.5, 0.2], [0.5, 0.0, 0.1], [0.2, 0.1, 0.0]])


def test_update_ties_without_building_is_pure_decay():
    """build_rate 0: tie <- tie - decay * tie, whatever the joint work and relationship time."""
    joint = np.array([[0.0, 9.0, 1.0], [9.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    new = rules.update_ties(SYMMETRIC_TIES, joint, np.array([0.3, 0.3, 0.3]), 0.0, 0.1)
    np.testing.assert_allclose(new, 0.9 * SYMMETRIC_TIES, rtol=1e-12)
    np.testing.assert_array_equal(new, new.T)
    np.testing.assert_array_equal(np.diag(new), 0.0)


def test_update_ties_growth_hand_value():
    """tie 0, w = 5 joint case-weeks (c = 5/10 = 0.5), relationship time 0.1 and 0.3 (r = the larger, 0.3),
    build 0.5: tie = 0.5 * (0.5 + 0.3) * (1 - 0) = 0.4; diagonal stays 0; result within [0, 1]."""
    joint = np.array([[0.0, 5.0], [5.0, 0.0]])
    new = rules.update_ties(np.zeros((2, 2)), joint, np.array([0.1, 0.3]), 0.5, 0.01)
    np.testing.assert_allclose(new, [[0.0, 0.4], [0.4, 0.0]], rtol=1e-12)


def test_one_side_giving_time_builds_the_tie():
    """A prototype's staff reaching out: relationship time on one side only still grows the tie (r = 0.05)."""
    new = rules.update_ties(np.zeros((2, 2)), np.zeros((2, 2)), np.array([0.05, 0.0]), 0.5, 0.0)
    np.testing.assert_allclose(new, [[0.0, 0.025], [0.025, 0.0]], rtol=1e-12)
    saturated = rules.update_ties(np.full((2, 2), 0.99), np.full((2, 2), 1e6), np.ones(2), 50.0, 0.0)
    assert saturated.max() <= 1.0 and saturated.min() >= 0.0


def test_break_ties_scales_rows_and_columns_of_leavers():
    """Provider 0 loses 40 % of its ties (row and column); other ties and the input array are untouched."""
    ties = np.full((3, 3), 0.5)
    np.fill_diagonal(ties, 0.0)
    broken = rules.break_ties(ties, np.array([0]), 0.4)
    expected = np.array([[0.0, 0.3, 0.3], [0.3, 0.0, 0.5], [0.3, 0.5, 0.0]])
    np.testing.assert_allclose(broken, expected, rtol=1e-12)
    assert ties[0, 1] == 0.5
    np.testing.assert_array_equal(rules.break_ties(ties, np.array([1]), 1.0)[1], 0.0)


FOUR_PROVIDERS = np.array([
    [0.0, 0.3, 0.1, 0.25],
    [0.3, 0.0, 0.5, 0.0],
    [0.1, 0.5, 0.0, 0.2],
    [0.25, 0.0, 0.2, 0.0],
])


def test_collaboration_density_and_mean_tie_strength_hand_example():
    """Pairs with tie >= 0.25: (0,1), (0,3), (1,2) of 6 -> 0.5; with provider 3 closed: (0,1), (1,2) of 3.
    Mean tie over the 6 pairs: 1.35 / 6; over pairs of 0..2: 0.9 / 3."""
    everyone = np.ones(4, bool)
    without_3 = np.array([True, True, True, False])
    assert rules.collaboration_density(FOUR_PROVIDERS, everyone, 0.25) == pytest.approx(0.5, abs=1e-12)
    assert rules.collaboration_density(FOUR_PROVIDERS, without_3, 0.25) == pytest.approx(2 / 3, abs=1e-12)
    assert rules.mean_tie_strength(FOUR_PROVIDERS, everyone) == pytest.approx(1.35 / 6, abs=1e-12)
    assert rules.mean_tie_strength(FOUR_PROVIDERS, without_3) == pytest.approx(0.3, abs=1e-12)
    one_open = np.array([True, False, False, False])
    assert rules.collaboration_density(FOUR_PROVIDERS, one_open, 0.25) == 0.0
    assert rules.mean_tie_strength(FOUR_PROVIDERS, one_open) == 0.0


def test_collaboration_density_is_a_share_even_at_threshold_zero():
    """Every pair has a tie >= 0, so the share of pairs is exactly 1 (a share can never exceed 1)."""
    assert rules.collaboration_density(FOUR_PROVIDERS, np.ones(4, bool), 0.0) == 1.0


# --- 4. Capacity and admission ------------------------------------------------------------------------------
def test_admit_ranked_longest_waiting_first_within_free_slots():
    """Provider 0 has 2.7 free slots -> floor 2: the two longest waits (indices 1 and 2, both 5 weeks).
    Provider 1 has 0.5 -> none; provider 2 has negative room -> none."""
    provider = np.array([0, 0, 0, 1, 1, 2])
    wait = np.array([1, 5, 5, 2, 3, 9])
    admitted = rules.admit_ranked(provider, wait, np.array([2.7, 0.5, -1.0]))
    np.testing.assert_array_equal(admitted, [False, True, True, False, False, False])


def test_admit_ranked_breaks_ties_by_position_and_handles_interleaving():
    """Equal waits: the earlier position wins, per provider, even when providers are interleaved."""
    provider = np.array([1, 0, 1, 0, 0])
    wait = np.array([3, 3, 3, 3, 4])
    admitted = rules.admit_ranked(provider, wait, np.array([2.0, 1.0]))
    # provider 0: index 4 (4 weeks) then index 1 (first of the 3-week ties); provider 1: index 0
    np.testing.assert_array_equal(admitted, [True, True, False, False, True])
    np.testing.assert_array_equal(admitted, rules.admit_ranked(provider, wait, np.array([2.0, 1.0])))


def test_admit_ranked_empty_list():
    out = rules.admit_ranked(np.empty(0, np.intp), np.empty(0, np.int16), np.array([3.0]))
    assert out.shape == (0,) and out.dtype == bool


def test_staff_capacity_hand_value():
    """GBP 1200 at GBP 120 per case-week with 5 % of time on relationships -> 9.5 case units."""
    cap = rules.staff_capacity(np.array([1200.0]), np.array([120.0]), np.array([0.05]))
    assert cap[0] == pytest.approx(9.5, rel=1e-12)


# --- 8, 9. Rationing and money ------------------------------------------------------------------------------
def test_ration_thresholds_response_zero_stays_at_base():
    waiting = np.array([0.0, 30.0, 1e4])
    thresholds = rules.ration_thresholds(np.full(3, 0.45), 0.45, waiting, np.full(3, 10.0), 0.0)
    np.testing.assert_array_equal(thresholds, 0.45)


def test_ration_thresholds_pressure_raises_falls_back_and_clips():
    """threshold += 0.05 * response * (waiting / capacity - 1), within [base, ceiling 0.85]:
    pressure 3 at response 0.5 -> +0.05; pressure 0 -> -0.025 but not below base; pressure 100 -> ceiling."""
    new = rules.ration_thresholds(np.array([0.45, 0.45, 0.45, 0.6]), 0.45, np.array([0.0, 30.0, 1000.0, 0.0]),
                                  np.full(4, 10.0), 0.5)
    np.testing.assert_allclose(new, [0.45, 0.5, 0.85, 0.575], rtol=1e-12)
    high_base = rules.ration_thresholds(np.array([0.9]), 0.9, np.array([100.0]), np.array([1.0]), 1.0)
    assert high_base[0] == 0.9  # a base above the ceiling wins


def test_split_budget_proportional_and_equal_when_no_weights():
    np.testing.assert_allclose(rules.split_budget(100.0, np.array([1.0, 3.0])), [25.0, 75.0], rtol=1e-12)
    np.testing.assert_allclose(rules.split_budget(90.0, np.zeros(3)), [30.0, 30.0, 30.0], rtol=1e-12)
    parts = rules.split_budget(1234.5, np.array([0.2, 7.0, 0.0, 1.1]))
    assert parts.sum() == pytest.approx(1234.5, rel=1e-12)


def test_prevention_after_overspend():
    """factor * (1 - min(1, response * max(overspend, 0)))."""
    assert rules.prevention_after_overspend(1.0, 0.2, 1.0) == pytest.approx(0.8, abs=1e-12)
    assert rules.prevention_after_overspend(0.5, 0.2, 2.0) == pytest.approx(0.3, abs=1e-12)
    assert rules.prevention_after_overspend(0.7, 0.5, 0.0) == 0.7  # whole-system: prevention protected
    assert rules.prevention_after_overspend(0.7, -0.3, 1.0) == 0.7  # underspend cuts nothing
    assert rules.prevention_after_overspend(0.7, 5.0, 1.0) == 0.0


def test_weekly_allowance_is_min_of_plan_and_what_is_left():
    """min(budget_year / 52, max(remaining, 0) / weeks_left): planned 100 a week; 100 left over 10 weeks
    -> 10; an overspent budget -> 0."""
    allowance = rules.weekly_allowance(np.full(3, 5200.0), np.array([5200.0, 100.0, -50.0]), 10)
    np.testing.assert_allclose(allowance, [100.0, 10.0, 0.0], rtol=1e-12)
    # weeks_left is floored at 1
    assert rules.weekly_allowance(np.array([5200.0]), np.array([30.0]), 0)[0] == 30.0


# --- Wellbeing ----------------------------------------------------------------------------------------------
def test_wellbeing_hand_value():
    """need [0.2, 0.4, 0.0]: mean 0.2, max 0.4, burden 0.3; connection 0.5 -> 0.7 * 0.925 = 0.6475."""
    value = rules.wellbeing(np.array([[0.2, 0.4, 0.0], [0.0, 0.0, 0.0]]), np.array([0.5, 1.0]))
    np.testing.assert_allclose(value, [0.6475, 1.0], rtol=1e-12)
