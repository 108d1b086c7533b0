"""Who lives in the place (sim/rules/population.py, ODD 5, 7.18, 7.19) on tiny hand-built arrays, values worked
out by hand, and the random rules checked against the distributions they claim.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly. The
statistical checks use a fixed seed (so they never flake) and a tolerance of five standard errors derived from
the distribution the rule documents, so a rule that draws from the wrong distribution fails them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules import population
from sim.rules.trust import starting_trust

F32 = 1e-6  # absolute tolerance for rules that compute in float32
Z = 5.0  # standard errors allowed in the statistical checks


# --- 7.18 moving in and out -----------------------------------------------------------------------------------------
def test_weekly_rate_compounds_back_to_the_yearly_chance():
    """weekly = 1 - (1 - yearly)^(1/52): surviving 52 weeks at it is surviving the year at ``yearly``."""
    for yearly in (0.0, 0.05, 0.3, 0.99):
        weekly = population.weekly_rate(yearly)
        assert (1.0 - weekly) ** 52 == pytest.approx(1.0 - yearly, rel=1e-12, abs=1e-15)
    # 1 - 0.95^(1/52) = 1 - exp(ln(0.95) / 52) = 1 - exp(-0.000986410) = 0.000985923
    assert population.weekly_rate(0.05) == pytest.approx(0.000985923, rel=1e-6)
    assert population.weekly_rate(0.0) == 0.0
    assert population.weekly_rate(1.0) == 1.0


def test_relative_by_deprivation_has_mean_one_and_ratio_one_plus_gradient():
    """(1 + g d) / mean(1 + g d): d = [0, 0.25, 0.5, 1], g = 2 -> [1, 1.5, 2, 3] / 1.875."""
    deprivation = np.array([0.0, 0.25, 0.5, 1.0])
    relative = population.relative_by_deprivation(deprivation, 2.0)
    np.testing.assert_allclose(relative, np.array([1.0, 1.5, 2.0, 3.0]) / 1.875, rtol=1e-12)
    assert relative.mean() == pytest.approx(1.0, rel=1e-12)
    assert relative[-1] / relative[0] == pytest.approx(3.0, rel=1e-12)  # d = 1 against d = 0: 1 + gradient
    np.testing.assert_array_equal(population.relative_by_deprivation(deprivation, 0.0), 1.0)


def test_leave_hazard_hand_values_and_cap():
    """weekly(rate) * (1 + g_need * need_max) * place_factor, capped at 1."""
    weekly = population.weekly_rate(0.05)
    hazard = population.leave_hazard(np.array([0.0, 0.5, 1.0, 1.0]), np.array([1.0, 1.0, 0.5, 2.0]), 0.05, 2.0)
    # (1 + 2 * [0, 0.5, 1, 1]) * [1, 1, 0.5, 2] = [1, 2, 1.5, 6]
    np.testing.assert_allclose(hazard, weekly * np.array([1.0, 2.0, 1.5, 6.0]), rtol=1e-12)
    flat = population.leave_hazard(np.array([0.0, 0.9]), np.ones(2), 0.05, 0.0)
    np.testing.assert_allclose(flat, weekly, rtol=1e-12)  # no need gradient: need does not matter
    capped = population.leave_hazard(np.array([0.0, 1.0]), np.array([1.0, 3.0]), 0.99, 100.0)
    assert capped[0] == pytest.approx(population.weekly_rate(0.99), rel=1e-12)
    assert capped[1] == 1.0


def test_who_leaves_with_a_constant_hazard_is_binomial():
    """Thinning: Binomial(n, ceiling) candidates each kept with probability h / ceiling leaves Binomial(n, h).

    Over R repetitions, the mean number of leavers is within Z standard errors of n h (standard error
    sqrt(n h (1 - h) / R)), and the sample variance within Z standard errors of n h (1 - h) (the standard error of
    a sample variance is sigma^2 sqrt(2 / (R - 1) + kappa / R), kappa the binomial's excess kurtosis
    (1 - 6 h (1 - h)) / (n h (1 - h))). A rule that left every candidate (mean n * ceiling = 40) or always the
    expected number (variance 0) fails.
    """
    n, h, ceiling, repeats = 200, 0.05, 0.2, 4000
    rng = np.random.default_rng(20)
    counts = np.array([population.who_leaves(n, ceiling, lambda rows: np.full(rows.size, h), rng).size
                       for _ in range(repeats)], dtype=float)
    mean, variance = n * h, n * h * (1 - h)
    assert abs(counts.mean() - mean) < Z * math.sqrt(variance / repeats)
    kurtosis = (1 - 6 * h * (1 - h)) / variance
    assert abs(counts.var(ddof=1) - variance) < Z * variance * math.sqrt(2 / (repeats - 1) + kurtosis / repeats)


def test_who_leaves_each_row_leaves_at_its_own_hazard():
    """Rows with hazards [0, 0.01, 0.05, 0.1, 0.2, 0.3] (1000 rows each, 20 weeks): each group's leave rate is
    within Z standard errors sqrt(h (1 - h) / trials) of its hazard; hazard 0 never leaves. Rows come back sorted,
    unique, in range, and ``hazard_of`` is asked only about candidate rows, sorted and unique."""
    hazards = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.3])
    per_group, weeks = 1000, 20
    hazard = np.repeat(hazards, per_group)
    n = hazard.size
    asked: list[np.ndarray] = []

    def hazard_of(rows):
        asked.append(rows)
        return hazard[rows]

    rng = np.random.default_rng(21)
    left = np.zeros(n)
    for _ in range(weeks):
        rows = population.who_leaves(n, 0.3, hazard_of, rng)
        assert rows.dtype == np.intp
        assert (np.diff(rows) > 0).all() and (rows.size == 0 or (rows[0] >= 0 and rows[-1] < n))
        left[rows] += 1
    for rows in asked:
        assert (np.diff(rows) > 0).all()
    trials = per_group * weeks
    rate = left.reshape(len(hazards), per_group).sum(axis=1) / trials
    assert rate[0] == 0.0
    np.testing.assert_array_less(np.abs(rate - hazards), Z * np.sqrt(hazards * (1 - hazards) / trials) + 1e-12)
    # candidates are drawn at the ceiling, so hazard_of is asked about about 0.3 n rows a week, not n
    assert sum(rows.size for rows in asked) < 0.35 * n * weeks


def test_who_leaves_edge_cases():
    """Ceiling 0 or n 0: nobody (and hazard_of is never called); hazard 1 at ceiling 1: everybody."""
    rng = np.random.default_rng(22)

    def never(rows):
        raise AssertionError("hazard_of called with no candidates")

    assert population.who_leaves(50, 0.0, never, rng).size == 0
    assert population.who_leaves(0, 0.5, never, rng).size == 0
    everybody = population.who_leaves(7, 1.0, lambda rows: np.ones(rows.size), rng)
    np.testing.assert_array_equal(everybody, np.arange(7))


# --- 7.19 entrenched needs -----------------------------------------------------------------------------------------
def test_entrenched_probability_mean_share_ratio_and_cap():
    """share * (1 + g d) / mean(1 + g d), capped at 1: d = [0, 0.5, 1], g = 2 -> share * [0.5, 1, 1.5]."""
    overall = np.array([0.0, 0.5, 1.0])
    p = population.entrenched_probability(overall, 0.02, 2.0)
    np.testing.assert_allclose(p, [0.01, 0.02, 0.03], rtol=1e-12)
    assert p.mean() == pytest.approx(0.02, rel=1e-12)
    assert p[-1] / p[0] == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(population.entrenched_probability(overall, 0.9, 2.0), [0.45, 0.9, 1.0], rtol=1e-12)


def test_chronic_floor_hand_values():
    """level * entrenchment on chronic domains, else 0 (float32)."""
    entrenchment = np.array([1.0, 0.5, 0.0], np.float32)
    chronic = np.array([[True, False, True], [True, True, False], [True, True, True]])
    floor = population.chronic_floor(entrenchment, chronic, 0.75)
    assert floor.dtype == np.float32
    np.testing.assert_allclose(floor, [[0.75, 0.0, 0.75], [0.375, 0.375, 0.0], [0.0, 0.0, 0.0]], atol=F32)


def _profile(p_entrenched=(0.01, 0.1, 0.5), recovery=0.002, trust=0.6, gradient=0.4, p_chronic=0.5):
    """Three neighbourhoods (overall deprivation 0, 0.5, 1) and four domains, of which 1 and 2 can be chronic."""
    overall = np.array([0.0, 0.5, 1.0])
    need_mean = 0.09 * (0.15 + np.array([[0.0, 0.1, 0.2, 0.0], [0.4, 0.5, 0.6, 0.5], [1.0, 0.9, 1.0, 0.8]]))
    return population.Profile(
        need_mean=need_mean, overall=overall, p_entrenched=np.asarray(p_entrenched, float),
        chronic_domains=np.array([False, True, True, False]), p_chronic_domain=p_chronic, chronic_level=0.75,
        entrenchment_recovery_rate=recovery, initial_trust=trust, trust_deprivation_gradient=gradient,
    )


def test_draw_people_shapes_types_bounds_and_determinism():
    profile = _profile()
    home = np.repeat(np.arange(3), [5, 7, 9])
    person = population.draw_people(home, profile, 5, np.random.default_rng(30))
    n = home.size
    assert person.need.shape == (n, 4) and person.chronic.shape == (n, 4) and person.trust.shape == (n, 5)
    for name in ("resilience", "connection", "entrenchment"):
        assert getattr(person, name).shape == (n,)
    for name in ("need", "resilience", "connection", "trust", "entrenchment"):
        assert getattr(person, name).dtype == np.float32, name
    assert person.chronic.dtype == bool
    assert person.need.min() >= 0.0 and person.need.max() <= 1.0
    assert person.resilience.min() >= 0.05 and person.resilience.max() <= 1.0
    assert person.connection.min() >= 0.05 and person.connection.max() <= 1.0
    assert person.trust.min() >= 0.01 and person.trust.max() <= 1.0
    assert set(np.unique(person.entrenchment).tolist()) <= {0.0, 1.0}  # no settled time: 1 or 0
    again = population.draw_people(home, profile, 5, np.random.default_rng(30))
    other = population.draw_people(home, profile, 5, np.random.default_rng(31))
    for name in person._fields:
        np.testing.assert_array_equal(getattr(person, name), getattr(again, name))
    assert not np.array_equal(person.need, other.need) and not np.array_equal(person.trust, other.trust)


def test_draw_people_follows_its_documented_formulas_draw_for_draw():
    """The draws, in the documented order (needs, resilience, connection, entrenchment, chronic domains, trust),
    recomputed by hand from a twin generator."""
    profile = _profile(p_entrenched=(0.3, 0.5, 0.9))
    home = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
    n, d, t = home.size, 4, 3
    person = population.draw_people(home, profile, t, np.random.default_rng(32))
    twin = np.random.default_rng(32)
    need = np.clip(profile.need_mean[home] * twin.exponential(1.0, size=(n, d)), 0.0, 1.0).astype(np.float32)
    resilience = np.clip(0.7 - 0.3 * profile.overall[home] + twin.normal(0, 0.1, n), 0.05, 1.0)
    connection = np.clip(twin.beta(4.0, 3.0, size=n), 0.05, 1.0)
    entrenched = twin.random(n) < profile.p_entrenched[home]
    chronic = (twin.random((n, d)) < 0.5) & profile.chronic_domains & entrenched[:, None]
    need = np.where(chronic, np.maximum(need, np.float32(0.75)), need)
    start = 0.6 * (1 - 0.4 * profile.overall[home])
    trust = np.clip(start[:, None] + twin.normal(0.0, 0.05, size=(n, t)), 0.01, 1.0)
    np.testing.assert_allclose(person.need, need, atol=F32)
    np.testing.assert_allclose(person.resilience, resilience, atol=F32)
    np.testing.assert_allclose(person.connection, connection, atol=F32)
    np.testing.assert_array_equal(person.entrenchment, entrenched.astype(np.float32))
    np.testing.assert_array_equal(person.chronic, chronic)
    np.testing.assert_allclose(person.trust, trust, atol=F32)
    assert entrenched.any() and chronic.any()  # this seed exercises the chronic path


def test_draw_people_entrenched_share_and_chronic_domains():
    """Entrenched share per neighbourhood within Z binomial standard errors of p_entrenched; chronic only on the
    chronic domains and only for the entrenched, on each chronic domain of an entrenched resident with
    probability p_chronic_domain; every need at least its chronic floor (chronic needs at least chronic_level)."""
    profile = _profile()
    per = 20_000
    home = np.repeat(np.arange(3), per)
    person = population.draw_people(home, profile, 2, np.random.default_rng(33))
    entrenched = person.entrenchment > 0
    share = entrenched.reshape(3, per).mean(axis=1)
    p = profile.p_entrenched
    np.testing.assert_array_less(np.abs(share - p), Z * np.sqrt(p * (1 - p) / per))
    assert not person.chronic[:, ~profile.chronic_domains].any()
    assert not person.chronic[~entrenched].any()
    chronic_share = person.chronic[entrenched][:, profile.chronic_domains].mean()
    cells = 2 * entrenched.sum()
    assert abs(chronic_share - 0.5) < Z * math.sqrt(0.25 / cells)
    floor = population.chronic_floor(person.entrenchment, person.chronic, 0.75)
    assert (person.need >= floor).all()
    assert (person.need[person.chronic] >= np.float32(0.75)).all()
    # without the floor a chronic need would usually be far below it: the floor does the lifting
    assert (person.need[~person.chronic & profile.chronic_domains[None, :]] < 0.5).mean() > 0.9


def test_draw_people_trust_is_the_neighbourhood_start_plus_noise_within_bounds():
    """Trust ~ start_k + N(0, 0.05) in every column, clipped to [0.01, 1]; columns drawn independently."""
    per = 5000
    home = np.repeat(np.arange(3), per)
    person = population.draw_people(home, _profile(), 4, np.random.default_rng(34))
    start = starting_trust(0.6, 0.4, np.array([0.0, 0.5, 1.0]))  # [0.6, 0.48, 0.36]: far from the clips
    means = person.trust.reshape(3, per, 4).mean(axis=1)
    np.testing.assert_array_less(np.abs(means - start[:, None]), Z * 0.05 / math.sqrt(per))
    assert abs(person.trust.std() - np.sqrt(0.05**2 + start.var())) < 0.01
    assert not np.array_equal(person.trust[:, 0], person.trust[:, 1])
    high = population.draw_people(home[:500], _profile(trust=1.0, gradient=0.0), 2, np.random.default_rng(35))
    low = population.draw_people(home[:500], _profile(trust=0.0, gradient=0.0), 2, np.random.default_rng(35))
    assert high.trust.max() == 1.0 and high.trust.min() < 1.0  # clipped above, only where the noise is positive
    assert low.trust.min() == np.float32(0.01) and low.trust.max() > 0.01  # and below


def test_settled_residents_entrenchment_matches_the_closed_form():
    """With ``settled_hazard`` h, a resident is still entrenched with chance E[(1 - r)^T], T ~ Exp(rate h) weeks:
    h / (h - ln(1 - r)). Everyone entrenched on arrival (p = 1): the share still entrenched in each group is within
    Z binomial standard errors of its closed form, and entrenchment is 0 or 1."""
    r, per = 0.0015, 100_000
    profile = _profile(p_entrenched=(1.0, 1.0, 1.0), recovery=r)
    home = np.zeros(2 * per, np.intp)
    settled = np.repeat([0.002, 0.02], per)
    person = population.draw_people(home, profile, 2, np.random.default_rng(36), settled_hazard=settled)
    e = person.entrenchment.astype(float).reshape(2, per)
    assert set(np.unique(e)) <= {0.0, 1.0}
    for group, h in enumerate((0.002, 0.02)):
        p = h / (h - math.log1p(-r))
        assert abs(e[group].mean() - p) < Z * math.sqrt(p * (1 - p) / per), (h, e[group].mean(), p)
    # a resident who has lived here longer (lower hazard of leaving) is less often still entrenched
    assert e[0].mean() < e[1].mean() - 0.3
    floor = population.chronic_floor(person.entrenchment, person.chronic, 0.75)
    assert (person.need >= floor).all() and set(np.unique(floor)) <= {0.0, np.float32(0.75)}
    # no recovery: having lived here changes nothing
    none = population.draw_people(home[:1000], _profile(p_entrenched=(1.0, 1.0, 1.0), recovery=0.0), 2,
                                  np.random.default_rng(37), settled_hazard=np.full(1000, 0.002))
    np.testing.assert_array_equal(none.entrenchment, 1.0)


def test_recover_entrenchment_ends_it_for_a_share_rate_of_rows():
    """Each of ``rows`` leaves entrenchment (1 -> 0) with chance ``rate``: of 200,000 entrenched rows at 0.1, the
    share that ended is within Z binomial standard errors of 0.1; other rows, rate 0 and no rows change nothing."""
    n, rate = 200_000, 0.1
    e = np.ones(n + 1, np.float32)
    out = population.recover_entrenchment(e, np.arange(n), rate, np.random.default_rng(40))
    assert out is e and e.dtype == np.float32 and set(np.unique(e)) == {0.0, 1.0}
    assert abs((e[:n] == 0).mean() - rate) < Z * math.sqrt(rate * (1 - rate) / n)
    assert e[n] == 1.0  # not among the rows
    before = e.copy()
    population.recover_entrenchment(e, np.arange(n), 0.0, np.random.default_rng(41))
    population.recover_entrenchment(e, np.empty(0, np.intp), 0.5, np.random.default_rng(41))
    np.testing.assert_array_equal(e, before)


def test_heal_ends_entrenchment_with_chance_rate_times_quality():
    """During whole-person support each entrenched row leaves it with chance ``rate * quality``: rate 0.4, quality
    0.5 and 1 on two halves of 200,000 rows -> shares 0.2 and 0.4 (within Z standard errors); rows already not
    entrenched stay 0 and draw nothing; rate 0, quality 0 and no rows change nothing."""
    n, rate = 100_000, 0.4
    e = np.ones(2 * n, np.float32)
    quality = np.repeat([0.5, 1.0], n)
    out = population.heal(e, np.arange(2 * n), rate, quality, np.random.default_rng(42))
    assert out is e and e.dtype == np.float32
    for half, p in enumerate((0.2, 0.4)):
        ended = (e[half * n:(half + 1) * n] == 0).mean()
        assert abs(ended - p) < Z * math.sqrt(p * (1 - p) / n), (half, ended)
    before = e.copy()
    population.heal(e, np.arange(2 * n), 0.0, quality, np.random.default_rng(43))
    population.heal(e, np.arange(2 * n), rate, np.zeros(2 * n), np.random.default_rng(43))  # no quality, no end
    population.heal(e, np.empty(0, np.intp), rate, np.empty(0), np.random.default_rng(43))
    np.testing.assert_array_equal(e, before)
    # the not-entrenched draw nothing: healing them alongside gives the same result for the entrenched as alone
    a = np.array([1, 0, 1, 0, 1], np.float32)
    b = np.array([1, 1, 1], np.float32)
    population.heal(a, np.arange(5), 0.5, np.ones(5), np.random.default_rng(44))
    population.heal(b, np.arange(3), 0.5, np.ones(3), np.random.default_rng(44))
    np.testing.assert_array_equal(a[[0, 2, 4]], b)
