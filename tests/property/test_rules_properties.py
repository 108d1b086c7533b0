"""Hypothesis on the pure rules: bounds (needs, trust, ties stay in [0, 1]), conservation (money, residents),
the admission contract (never more than the free slots, longest waits first), and who lives in the place
(leavers are distinct rows that had a chance to leave; newcomers are drawn within bounds; the emergency set-aside
never exceeds the money or goes negative)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.place import allocate_residents
from sim.rules import money, needs, population, ties, triage, trust

SETTINGS = settings(max_examples=80, deadline=None)

unit = st.floats(0.0, 1.0, allow_nan=False)
unit32 = st.floats(0.0, 1.0, width=32, allow_nan=False)


@st.composite
def need_world(draw):
    """Needs (N, D) in [0, 1], hazards, domain weights, recovery, a coupling matrix, support on some rows."""
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 6))
    need = draw(arrays(np.float32, (n, d), elements=unit32))
    hazard = draw(arrays(np.float64, n, elements=unit))
    weights = draw(arrays(np.float64, (n, d), elements=st.floats(0.01, 5.0)))
    recovery = draw(arrays(np.float32, n, elements=unit32))
    matrix = draw(arrays(np.float32, (d, d), elements=st.floats(0.0, 5.0, width=32)))
    rows = np.array(sorted(draw(st.sets(st.integers(0, n - 1), max_size=n))), dtype=np.int64)
    addressed = draw(arrays(np.float32, (rows.size, d), elements=unit32))
    return need, hazard, np.cumsum(weights, axis=1), recovery, matrix, rows, addressed


@SETTINGS
@given(world=need_world(), shock_size=unit, floor=unit, seed=st.integers(0, 2**32 - 1))
def test_needs_stay_in_unit_interval(world, shock_size, floor, seed):
    """After a week's life events, recovery and coupling, every need is still in [0, 1]."""
    need, hazard, cum, recovery, matrix, rows, addressed = world
    events = needs.apply_life_events(need, hazard, cum, shock_size, recovery, np.random.default_rng(seed))
    assert 0 <= events <= need.shape[0]
    excess = needs.unmet_excess(need, floor, rows, addressed)
    assert (excess >= 0).all()
    needs.couple_needs(need, excess, matrix)
    assert need.min() >= 0.0 and need.max() <= 1.0


@SETTINGS
@given(world=need_world(), floor=unit)
def test_coupling_never_lowers_need(world, floor):
    """Spill only adds: need after coupling >= need before (monotone, no hidden recovery)."""
    need, _, _, _, matrix, rows, addressed = world
    before = need.copy()
    needs.couple_needs(need, needs.unmet_excess(need, floor, rows, addressed), matrix)
    assert (need >= before).all()


@st.composite
def social_graph(draw):
    n = draw(st.integers(1, 12))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    edges = [(a, b) for a, b in edges if a != b]
    rows = [a for a, b in edges] + [b for a, b in edges]
    cols = [b for a, b in edges] + [a for a, b in edges]
    adjacency = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    adjacency.data[:] = 1.0
    degree = np.asarray(adjacency.sum(axis=1)).ravel().astype(np.float32)
    values = draw(arrays(np.float32, (n, draw(st.integers(1, 4))), elements=unit32))
    return adjacency, degree, values


@SETTINGS
@given(graph=social_graph(), rate=unit, ratio=st.floats(0.01, 10.0), mouth=unit)
def test_trust_stays_in_unit_interval(graph, rate, ratio, mouth):
    """Good and bad experiences and word of mouth keep trust in [0, 1] (rate in [0, 1], ratio in (0, 10])."""
    adjacency, degree, values = graph
    gained = trust.gain_trust(values, np.float32(rate))
    lost = trust.lose_trust(values, np.float32(rate), ratio)
    for t in (gained, lost):
        assert t.min() >= 0.0 and t.max() <= 1.0
    assert (gained >= values).all() and (lost <= values).all()
    trust.word_of_mouth(values, adjacency, degree, mouth)
    assert values.min() >= 0.0 and values.max() <= 1.0


@st.composite
def tie_world(draw):
    p = draw(st.integers(1, 8))
    upper = draw(arrays(np.float64, (p, p), elements=unit))
    strengths = np.triu(upper, 1)
    strengths = strengths + strengths.T
    joint_upper = np.triu(draw(arrays(np.float64, (p, p), elements=st.floats(0.0, 100.0))), 1)
    relationship_time = draw(arrays(np.float64, p, elements=unit))
    return strengths, joint_upper + joint_upper.T, relationship_time


@SETTINGS
@given(world=tie_world(), build=st.floats(0.0, 10.0), decay=unit)
def test_ties_stay_in_unit_interval_symmetric_with_zero_diagonal(world, build, decay):
    strengths, joint, relationship_time = world
    new = ties.update_ties(strengths, joint, relationship_time, build, decay)
    assert new.min() >= 0.0 and new.max() <= 1.0
    np.testing.assert_array_equal(new, new.T)
    np.testing.assert_array_equal(np.diag(new), 0.0)
    if build == 0.0:
        assert (new <= strengths).all()  # nothing grows without building


@st.composite
def waiting_list(draw):
    p = draw(st.integers(1, 5))
    n = draw(st.integers(0, 40))
    provider = draw(arrays(np.intp, n, elements=st.integers(0, p - 1)))
    wait = draw(arrays(np.int16, n, elements=st.integers(0, 100)))
    free = draw(arrays(np.float64, p, elements=st.floats(-5.0, 10.0)))
    return provider, wait, free


@SETTINGS
@given(queue=waiting_list())
def test_admit_ranked_respects_free_slots_and_waiting_order(queue):
    """At each provider: admits exactly min(waiting, floor(free)) people (none if free <= 0), and nobody left
    waiting has waited longer than anybody admitted."""
    provider, wait, free = queue
    admitted = triage.admit_ranked(provider, wait, free)
    assert admitted.shape == provider.shape and admitted.dtype == bool
    for p, room in enumerate(free):
        here = provider == p
        slots = int(np.floor(room)) if room > 0 else 0
        assert admitted[here].sum() == min(here.sum(), slots)
        if admitted[here].any() and (~admitted[here]).any():
            assert wait[here & admitted].min() >= wait[here & ~admitted].max()


@SETTINGS
@given(total=st.floats(0.0, 1e9),
       weights=arrays(np.float64, st.integers(1, 20), elements=st.floats(0.0, 1e6)))
def test_split_budget_conserves_the_total(total, weights):
    parts = money.split_budget(total, weights)
    assert (parts >= 0).all()
    np.testing.assert_allclose(parts.sum(), total, rtol=1e-9, atol=1e-6)


@SETTINGS
@given(population=arrays(np.float64, st.integers(1, 60), elements=st.floats(1.0, 5000.0)),
       extra=st.integers(0, 5000))
def test_allocate_residents_conserves_residents(population, extra):
    residents = len(population) + extra
    counts = allocate_residents(population, residents)
    assert counts.sum() == residents
    assert counts.min() >= 1


@SETTINGS
@given(world=need_world(), level=unit32, seed=st.integers(0, 2**32 - 1))
def test_entrenched_needs_stay_in_unit_interval_and_approach_their_floor(world, level, seed):
    """After a week's life events, recovery and the return to the chronic floor, needs stay in [0, 1]; with no
    life events every entrenched need is at least as close to its floor as before."""
    need, hazard, cum, recovery, _, rows, _ = world
    rng = np.random.default_rng(seed)
    chronic = rng.random((rows.size, need.shape[1])) < 0.5
    entrenchment = rng.random(rows.size).astype(np.float32)
    floor = population.chronic_floor(entrenchment, chronic, level)
    calm = need.copy()
    needs.apply_life_events(need, hazard, cum, 0.5, recovery, rng)
    needs.return_to_chronic(need, rows, floor, recovery)
    assert need.min() >= 0.0 and need.max() <= 1.0
    before = np.abs(calm[rows] - floor)
    needs.apply_life_events(calm, np.zeros(hazard.size), cum, 0.5, recovery, rng)
    needs.return_to_chronic(calm, rows, floor, recovery)
    assert (np.abs(calm[rows] - floor) <= before + 1e-6).all()


@SETTINGS
@given(n=st.integers(0, 300), ceiling=unit, seed=st.integers(0, 2**32 - 1))
def test_who_leaves_returns_distinct_sorted_rows_that_could_leave(n, ceiling, seed):
    """Leavers are sorted, distinct rows in range, and only rows whose hazard is positive."""
    rng = np.random.default_rng(seed)
    hazard = ceiling * rng.random(n) * (rng.random(n) < 0.7)  # some rows cannot leave at all
    rows = population.who_leaves(n, ceiling, lambda r: hazard[r], rng)
    assert (np.diff(rows) > 0).all()
    assert rows.size == 0 or (rows[0] >= 0 and rows[-1] < n)
    assert (hazard[rows] > 0).all()


@SETTINGS
@given(k=st.integers(1, 6), n=st.integers(1, 40), p=unit, p_chronic=unit, level=unit, trust0=unit,
       recovery=unit, seed=st.integers(0, 2**32 - 1), settled=st.booleans())
def test_newcomers_are_drawn_within_bounds(k, n, p, p_chronic, level, trust0, recovery, seed, settled):
    """Needs in [0, 1] and at least their chronic floor; strengths in [0.05, 1]; trust in [0.01, 1];
    entrenchment 0 or 1; chronic only for the entrenched on chronic domains."""
    rng = np.random.default_rng(seed)
    d = 4
    overall = rng.random(k)
    profile = population.Profile(
        need_mean=rng.random((k, d)), overall=overall, p_entrenched=np.full(k, p),
        chronic_domains=np.array([True, False, True, False]), p_chronic_domain=p_chronic, chronic_level=level,
        entrenchment_recovery_rate=recovery, initial_trust=trust0, trust_deprivation_gradient=0.4,
    )
    home = rng.integers(0, k, n)
    hazard = rng.random(n) if settled else None
    person = population.draw_people(home, profile, 3, rng, settled_hazard=hazard)
    assert person.need.min() >= 0.0 and person.need.max() <= 1.0
    assert (person.need >= population.chronic_floor(person.entrenchment, person.chronic, level)).all()
    for strength in (person.resilience, person.connection):
        assert strength.min() >= 0.05 and strength.max() <= 1.0
    assert person.trust.min() >= 0.01 and person.trust.max() <= 1.0
    assert set(np.unique(person.entrenchment)) <= {0.0, 1.0}
    assert not person.chronic[:, [1, 3]].any() and not person.chronic[person.entrenchment == 0].any()


@SETTINGS
@given(last_year=arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e6, 1e7)), total=st.floats(0.0, 1e8))
def test_emergency_set_aside_is_never_negative_and_never_more_than_the_money(last_year, total):
    set_aside = money.emergency_set_aside(last_year, total)
    assert (set_aside >= 0).all()
    assert (set_aside <= np.maximum(last_year, 0.0) * (1 + 1e-12)).all()
    assert set_aside.sum() <= total * (1 + 1e-12) + 1e-9


@SETTINGS
@given(budget=arrays(np.float64, 5, elements=st.floats(0.0, 1e6)),
       remaining=arrays(np.float64, 5, elements=st.floats(-1e6, 1e6)),
       weeks_left=st.integers(0, 52), cut=unit, share=unit)
def test_shortfall_and_relationship_time_bounds(budget, remaining, weeks_left, cut, share):
    """Shortfall in [0, 1]; relationship time in [(1 - cut) share, share]: pressure only ever cuts it."""
    short = money.shortfall(budget, remaining, weeks_left)
    assert (short >= 0).all() and (short <= 1).all()
    time = money.relationship_time(np.full(5, share), budget, remaining, weeks_left, cut)
    assert (time <= share + 1e-12).all() and (time >= (1 - cut) * share - 1e-12).all()
