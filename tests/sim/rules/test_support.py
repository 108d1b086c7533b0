"""Support and closing cases (sim/rules/support.py, ODD 7.7) on hand-built cases, values worked out by hand.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
Three services (domains 0-2, service s serves domain s) and community organisations from index 3.
"""

from __future__ import annotations

import numpy as np

from sim.rules import support

F32 = 1e-6  # absolute tolerance for rules that compute in float32
ORG = 3  # the first community organisation's provider index (= number of services)

# Levers of these examples; joint_work_min_tie and resolved_level are exact in binary, so equality is exact.
RATES = {"support_effect_rate": 0.1, "standardised_fit": 0.6, "generalist_share": 0.3,
         "community_effect_rate": 0.05, "coordination_cost": 0.25, "joint_work_min_tie": 0.25,
         "resolved_level": 0.125}


def _week(need, provider, case_domain, quality, knowledge, ties, **levers) -> support.SupportWeek:
    """support_week on lists of rows, with ``RATES`` overridden by ``levers``."""
    return support.support_week(
        np.array(need, np.float32), np.array(provider, np.intp), np.array(case_domain, np.intp),
        np.array(quality, np.float32), np.array(knowledge, np.float32), np.array(ties, np.float32),
        **{**RATES, **levers},
    )


def test_quality_is_half_plus_half_trust_times_stretch():
    """q = (0.5 + 0.5 * trust) * stretch."""
    q = support.quality(np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.5, 0.8]))
    # (0.5 + 0) * 1 = 0.5; (0.5 + 0.5) * 0.5 = 0.5; (0.5 + 0.25) * 0.8 = 0.6
    np.testing.assert_allclose(q, [0.5, 0.5, 0.6], rtol=1e-12)


def test_support_week_standardised_case_acts_on_its_domain_only():
    """Standardised episode: effect = rate * knowledge * quality * standardised_fit on case_domain, 0 elsewhere."""
    # high ties to every service and high needs elsewhere: a standardised episode still engages no one
    week = _week([[0.6, 0.5, 0.2]], [1], [1], [0.8], [0.5], [[0.9, 0.0, 0.9]])
    # 0.1 * 0.5 * 0.8 * 0.6 = 0.024
    np.testing.assert_allclose(week.effect, [[0.0, 0.024, 0.0]], atol=F32)
    np.testing.assert_allclose(week.addressed, [[0.0, 0.6, 0.0]], atol=F32)
    np.testing.assert_array_equal(week.units, [1.0])
    np.testing.assert_array_equal(week.engaged, [[False, False, False]])


def test_support_week_bespoke_weights_one_on_own_domain_and_tie_weighted_elsewhere():
    """Bespoke: w = 1 on the provider's domain, generalist_share + (1 - generalist_share) * tie elsewhere."""
    week = _week([[0.6, 0.5, 0.05], [0.9, 0.9, 0.9]], [0, 0], [-1, -1], [0.5, 1.0], [1.0, 1.0],
                 [[0.9, 0.4, 0.5], [0.0, 0.2, 0.0]])
    # row 0: w = [1, 0.3 + 0.7 * 0.4, 0.3 + 0.7 * 0.5] = [1, 0.58, 0.65] (own tie 0.9 ignored); 0.1 * 1 * 0.5 * w
    # row 1: w = [1, 0.3 + 0.7 * 0.2, 0.3 + 0.7 * 0] = [1, 0.44, 0.3]; 0.1 * 1 * 1 * w
    np.testing.assert_allclose(week.effect, [[0.05, 0.029, 0.0325], [0.1, 0.044, 0.03]], atol=F32)
    np.testing.assert_allclose(week.addressed, [[1.0, 0.58, 0.65], [1.0, 0.44, 0.3]], atol=F32)


def test_support_week_bespoke_engages_partners_with_tie_and_unresolved_need_never_itself():
    """Engaged = tie >= joint_work_min_tie & need > resolved_level, own service excluded; units = 1 + cost * n."""
    week = _week(
        [[0.6, 0.5, 0.05], [0.5, 0.125, 0.9], [0.5, 0.9, 0.5], [0.9, 0.9, 0.9]],
        [0, 2, 1, 0], [-1, -1, -1, -1], [1.0] * 4, [1.0] * 4,
        [[0.9, 0.4, 0.5],  # own (0) tie 0.9 & need 0.6 but never itself; 1 engaged; 2 need 0.05 resolved
         [0.25, 0.5, 0.0],  # 0: tie == min tie -> engaged; 1: need == resolved_level is not above -> not
         [0.5, 0.0, 1.0],  # 0 and 2 engaged
         [0.0, 0.2, 0.0]],  # 1: tie 0.2 < 0.25 -> not engaged
    )
    np.testing.assert_array_equal(week.engaged, [[False, True, False], [True, False, False],
                                                 [True, False, True], [False, False, False]])
    # 1 + 0.25 * [1, 1, 2, 0]
    np.testing.assert_array_equal(week.units, np.array([1.25, 1.25, 1.5, 1.0], np.float32))
    assert week.units.dtype == np.float32


def test_support_week_community_organisation_acts_on_every_domain():
    """Community organisation: effect = community_effect_rate * quality on every domain (knowledge unused)."""
    week = _week([[0.9, 0.1, 0.0]], [ORG], [-1], [0.5], [0.3], [[0.9, 0.9, 0.9]])
    # 0.05 * 0.5 = 0.025 on every domain; addressed = community / support rate = 0.05 / 0.1 = 0.5
    np.testing.assert_allclose(week.effect, [[0.025, 0.025, 0.025]], atol=F32)
    np.testing.assert_allclose(week.addressed, [[0.5, 0.5, 0.5]], atol=F32)
    np.testing.assert_array_equal(week.units, [1.0])
    np.testing.assert_array_equal(week.engaged, [[False, False, False]])


def test_support_week_addressed_is_clipped_to_one():
    """addressed = min(w, 1): a community rate above the support rate (0.2 / 0.1 = 2) addresses fully, not twice."""
    week = _week([[0.9, 0.1, 0.0]], [ORG + 1], [-1], [0.5], [1.0], [[0.0, 0.0, 0.0]], community_effect_rate=0.2)
    np.testing.assert_allclose(week.effect, [[0.1, 0.1, 0.1]], atol=F32)  # 0.2 * 0.5
    np.testing.assert_array_equal(week.addressed, [[1.0, 1.0, 1.0]])
    assert week.addressed.dtype == np.float32 and week.effect.dtype == np.float32


def test_support_week_mixed_batch_equals_cases_one_at_a_time():
    """Each row depends on its own case only: a batch of all three kinds equals the rows computed alone."""
    rows = [
        ([0.6, 0.5, 0.2], 1, 1, 0.8, 0.5, [0.9, 0.0, 0.9]),  # standardised
        ([0.6, 0.5, 0.05], 0, -1, 0.5, 1.0, [0.9, 0.4, 0.5]),  # bespoke
        ([0.9, 0.1, 0.0], ORG, -1, 0.5, 0.3, [0.9, 0.9, 0.9]),  # community organisation
        ([0.5, 0.9, 0.5], 1, -1, 1.0, 1.0, [0.5, 0.0, 1.0]),  # bespoke, two partners
    ]
    batch = _week(*(list(c) for c in zip(*rows, strict=True)))
    for i, row in enumerate(rows):
        alone = _week(*([c] for c in row))
        for name in support.SupportWeek._fields:
            np.testing.assert_array_equal(getattr(batch, name)[i], getattr(alone, name)[0], err_msg=name)


# --- closing cases ---------------------------------------------------------------------------------------------
RESOLVED, NEED_THRESHOLD = 0.125, 0.5


def test_close_cases_standardised_and_bespoke_rules():
    """Standardised closes at episode_weeks resolved or not; bespoke closes when all needs < resolved or at cap."""
    need = np.array([
        [0.3, 0.6, 0.5],  # 0 standardised on 0, at episode end, unresolved
        [0.0, 0.0, 0.0],  # 1 standardised on 1, resolved but 1 week short of the episode: stays open
        [0.05, 0.1, 0.0],  # 2 standardised on 2, past episode end, resolved
        [0.1, 0.05, 0.12],  # 3 bespoke, early on, every need < 0.125: closes resolved
        [0.7, 0.1, 0.3],  # 4 bespoke at longest_weeks, unresolved: closes
        [0.7, 0.1, 0.3],  # 5 bespoke one week before longest_weeks: stays open
        [0.9, 0.1, 0.0],  # 6 standardised on 1, at episode end, treated domain resolved, domain 0 high
    ], np.float32)
    weeks = np.array([6, 5, 8, 2, 20, 19, 6])
    case_domain = np.array([0, 1, 2, -1, -1, -1, 1])
    c = support.close_cases(need, weeks, case_domain, np.full(7, 6), np.full(7, 20), RESOLVED, NEED_THRESHOLD)
    np.testing.assert_array_equal(c.closes, [True, False, True, True, True, False, True])
    # rows below: the closing cases 0, 2, 3, 4, 6
    np.testing.assert_array_equal(c.resolved, [False, True, True, False, False])


def test_close_cases_early_closure_linked_needs_and_onward_referral():
    """early = treated (standardised) or any (bespoke) domain > resolved; linked = untreated >= need_threshold."""
    need = np.array([
        [0.3, 0.6, 0.5],  # standardised on 0: 0 unresolved (early); 1 and 2 >= 0.5 linked; onward 1 (0.6)
        [0.05, 0.1, 0.0],  # standardised on 2, resolved: nothing
        [0.1, 0.05, 0.12],  # bespoke, resolved: nothing
        [0.7, 0.1, 0.6],  # bespoke at the cap: 0 and 2 > 0.125 early; no linked need though 0.6 >= 0.5
        [0.9, 0.1, 0.0],  # standardised on 1: 1 below 0.125 (no early); 0 linked; onward 0
        [0.55, 0.2, 0.8],  # standardised on 1: 1 early; 0 and 2 linked; onward 2 (0.8 > 0.55)
    ], np.float32)
    case_domain = np.array([0, 2, -1, -1, 1, 1])
    c = support.close_cases(need, np.full(6, 20), case_domain, np.full(6, 6), np.full(6, 20), RESOLVED,
                            NEED_THRESHOLD)
    assert c.closes.all()
    np.testing.assert_array_equal(c.early, [[True, False, False], [False, False, False], [False, False, False],
                                            [True, False, True], [False, False, False], [False, True, False]])
    np.testing.assert_array_equal(c.linked, [[False, True, True], [False, False, False], [False, False, False],
                                             [False, False, False], [True, False, False], [True, False, True]])
    np.testing.assert_array_equal(c.onward, [1, -1, -1, -1, 0, 2])


def test_close_cases_nothing_closes():
    """No case due: empty closing arrays of the right shapes."""
    need = np.array([[0.9, 0.0], [0.5, 0.5]], np.float32)
    c = support.close_cases(need, np.array([1, 1]), np.array([0, -1]), np.array([6, 6]), np.array([20, 20]),
                            RESOLVED, NEED_THRESHOLD)
    np.testing.assert_array_equal(c.closes, [False, False])
    assert c.resolved.shape == (0,) and c.early.shape == (0, 2) and c.linked.shape == (0, 2)
    assert c.onward.shape == (0,)
