"""Money, capacity and rationing (sim/rules/money.py, ODD 7.10) with values worked out by hand.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import money


def test_staff_capacity_hand_value():
    """GBP 1200 at GBP 120 per case-week with 5 % of time on relationships -> 9.5 case units."""
    cap = money.staff_capacity(np.array([1200.0]), np.array([120.0]), np.array([0.05]))
    assert cap[0] == pytest.approx(9.5, rel=1e-12)


def test_ration_thresholds_response_zero_stays_at_base():
    waiting = np.array([0.0, 30.0, 1e4])
    thresholds = money.ration_thresholds(np.full(3, 0.45), 0.45, waiting, np.full(3, 10.0), 0.0)
    np.testing.assert_array_equal(thresholds, 0.45)


def test_ration_thresholds_pressure_raises_falls_back_and_clips():
    """threshold += 0.05 * response * (waiting / capacity - 1), within [base, ceiling 0.85]:
    pressure 3 at response 0.5 -> +0.05; pressure 0 -> -0.025 but not below base; pressure 100 -> ceiling."""
    new = money.ration_thresholds(np.array([0.45, 0.45, 0.45, 0.6]), 0.45, np.array([0.0, 30.0, 1000.0, 0.0]),
                                  np.full(4, 10.0), 0.5)
    np.testing.assert_allclose(new, [0.45, 0.5, 0.85, 0.575], rtol=1e-12)
    high_base = money.ration_thresholds(np.array([0.9]), 0.9, np.array([100.0]), np.array([1.0]), 1.0)
    assert high_base[0] == 0.9  # a base above the ceiling wins


def test_split_budget_proportional_and_equal_when_no_weights():
    np.testing.assert_allclose(money.split_budget(100.0, np.array([1.0, 3.0])), [25.0, 75.0], rtol=1e-12)
    np.testing.assert_allclose(money.split_budget(90.0, np.zeros(3)), [30.0, 30.0, 30.0], rtol=1e-12)
    parts = money.split_budget(1234.5, np.array([0.2, 7.0, 0.0, 1.1]))
    assert parts.sum() == pytest.approx(1234.5, rel=1e-12)


def test_prevention_after_overspend():
    """factor * (1 - min(1, response * max(overspend, 0)))."""
    assert money.prevention_after_overspend(1.0, 0.2, 1.0) == pytest.approx(0.8, abs=1e-12)
    assert money.prevention_after_overspend(0.5, 0.2, 2.0) == pytest.approx(0.3, abs=1e-12)
    assert money.prevention_after_overspend(0.7, 0.5, 0.0) == 0.7  # whole-system: prevention protected
    assert money.prevention_after_overspend(0.7, -0.3, 1.0) == 0.7  # underspend cuts nothing
    assert money.prevention_after_overspend(0.7, 5.0, 1.0) == 0.0


def test_weekly_allowance_is_min_of_plan_and_what_is_left():
    """min(budget_year / 52, max(remaining, 0) / weeks_left): planned 100 a week; 100 left over 10 weeks
    -> 10; an overspent budget -> 0."""
    allowance = money.weekly_allowance(np.full(3, 5200.0), np.array([5200.0, 100.0, -50.0]), 10)
    np.testing.assert_allclose(allowance, [100.0, 10.0, 0.0], rtol=1e-12)
    # weeks_left is floored at 1
    assert money.weekly_allowance(np.array([5200.0]), np.array([30.0]), 0)[0] == 30.0


def test_annual_budget_compounds_the_yearly_change():
    """Budget = per_resident * N * (1 + change)^year."""
    assert money.annual_budget(250.0, 1000, -0.02, 0) == 250_000.0  # year 0: no change yet
    # 250 * 1000 * 0.98^2 = 250000 * 0.9604 = 240100
    assert money.annual_budget(250.0, 1000, -0.02, 2) == pytest.approx(240_100.0, rel=1e-12)
    # 100 * 50 * 1.1^3 = 5000 * 1.331 = 6655
    assert money.annual_budget(100.0, 50, 0.1, 3) == pytest.approx(6655.0, rel=1e-12)


def test_retender_protected_never_lost_and_certain_loss_otherwise():
    """p_loss = 1: every unprotected due contract is lost, no protected one; one draw per due contract."""
    due = np.array([0, 1, 2, 3, 5])
    protected = np.array([False, True, False, True, False])
    rng, twin = np.random.default_rng(11), np.random.default_rng(11)
    lost = money.retender(due, protected, 1.0, rng)
    np.testing.assert_array_equal(lost, ~protected)
    twin.random(due.size)
    assert rng.random() == twin.random()  # the generator advanced by exactly len(due) draws


def test_retender_draws_once_per_due_contract_in_order_protected_or_not():
    """lost_i = (u_i < p_loss) & ~protected_i, u_i one uniform per due contract in order, protected or not."""
    due = np.arange(8)
    protected = np.array([False, False, True, False, True, False, False, True])
    rng, twin = np.random.default_rng(12), np.random.default_rng(12)
    lost = money.retender(due, protected, 0.5, rng)
    u = twin.random(due.size)
    np.testing.assert_array_equal(lost, (u < 0.5) & ~protected)
    assert rng.random() == twin.random()
    # protecting providers moves no one else's draw: unprotected outcomes are the same with no one protected
    unprotected = money.retender(due, np.zeros(due.size, bool), 0.5, np.random.default_rng(12))
    np.testing.assert_array_equal(lost[~protected], unprotected[~protected])
    assert unprotected[protected].any()  # this seed: a protected provider would have lost (the check can bite)


def test_retender_no_loss_at_zero_and_nothing_due():
    """p_loss = 0: nothing lost (still one draw each); nothing due: an empty mask and no draws."""
    rng, twin = np.random.default_rng(13), np.random.default_rng(13)
    assert not money.retender(np.arange(4), np.zeros(4, bool), 0.0, rng).any()
    twin.random(4)
    assert rng.random() == twin.random()
    lost = money.retender(np.empty(0, np.intp), np.empty(0, bool), 1.0, rng)
    assert lost.shape == (0,) and lost.dtype == bool
    assert rng.random() == twin.random()


def test_shortfall_is_the_share_of_planned_staffing_not_affordable():
    """1 - weekly_allowance / (budget_year / 52), in [0, 1]: planned 100 a week; 100 left over 10 weeks -> 10 a
    week, shortfall 0.9; overspent -> 1; more left than planned -> 0; no budget -> 0 (and no division warning)."""
    budget_year = np.array([5200.0, 5200.0, 5200.0, 5200.0, 0.0])
    remaining = np.array([5200.0, 100.0, -50.0, 1e6, 300.0])
    np.testing.assert_allclose(money.shortfall(budget_year, remaining, 10), [0.0, 0.9, 1.0, 0.0, 0.0],
                               rtol=1e-12, atol=1e-15)
    assert money.shortfall(np.array([5200.0]), np.array([30.0]), 0)[0] == pytest.approx(0.7, rel=1e-12)  # 1 week


def test_relationship_time_is_cut_in_proportion_to_the_shortfall():
    """share * (1 - cut * shortfall): shortfalls [0, 0.9, 1] at share 0.05 -> [0.05, 0.005, 0] with cut 1,
    [0.05, 0.0275, 0.025] with cut 0.5, unchanged with cut 0."""
    budget_year = np.full(3, 5200.0)
    remaining = np.array([5200.0, 100.0, -50.0])
    share = np.full(3, 0.05)
    np.testing.assert_allclose(money.relationship_time(share, budget_year, remaining, 10, 1.0), [0.05, 0.005, 0.0],
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(money.relationship_time(share, budget_year, remaining, 10, 0.5),
                               [0.05, 0.0275, 0.025], rtol=1e-12)
    np.testing.assert_array_equal(money.relationship_time(share, budget_year, remaining, 10, 0.0), share)
    usual = np.array([0.0, 0.0, 0.05])  # a provider working the usual way gives no time to relationships anyway
    np.testing.assert_array_equal(money.relationship_time(usual, budget_year, remaining, 10, 1.0), 0.0)


def test_emergency_set_aside_is_last_years_spend_scaled_to_the_total():
    """Last year's emergency spend, each service's share kept, scaled down so it never exceeds the total."""
    np.testing.assert_allclose(money.emergency_set_aside(np.array([100.0, 300.0, 0.0]), 1000.0), [100.0, 300.0, 0.0],
                               rtol=1e-12)
    np.testing.assert_allclose(money.emergency_set_aside(np.array([100.0, 300.0, 0.0]), 200.0), [50.0, 150.0, 0.0],
                               rtol=1e-12)
    exact = money.emergency_set_aside(np.array([100.0, 300.0]), 400.0)  # exactly the total: kept whole
    np.testing.assert_allclose(exact, [100.0, 300.0], rtol=1e-12)


def test_emergency_set_aside_never_negative_and_zero_after_a_year_without_emergencies():
    """A negative entry (a refund) sets nothing aside; no emergencies last year or no money -> nothing set aside."""
    np.testing.assert_allclose(money.emergency_set_aside(np.array([-50.0, 200.0]), 1000.0), [0.0, 200.0], rtol=1e-12)
    np.testing.assert_allclose(money.emergency_set_aside(np.array([-50.0, 200.0]), 100.0), [0.0, 100.0], rtol=1e-12)
    np.testing.assert_array_equal(money.emergency_set_aside(np.zeros(4), 1000.0), np.zeros(4))
    np.testing.assert_array_equal(money.emergency_set_aside(np.array([-5.0, -1.0]), 1000.0), [0.0, 0.0])
    np.testing.assert_array_equal(money.emergency_set_aside(np.array([100.0, 300.0]), 0.0), [0.0, 0.0])
