"""Flows through the place (sim/model.py, docs/ODD.md 7.3, 7.10, 7.18, 7.19) in small worlds: residents move in
and out, entrenched needs hold, emergency spells cost until they end, and the commissioner funds last year's
emergencies first.

Every test pins the parameters its expectation depends on (the defaults are being recalibrated), and states an
exact bookkeeping identity, a rate with a tolerance derived from the rule's own variance, or a direction with a
control in which the mechanism is off.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim import PlaceModel
from sim.agents import Commissioner, Resident
from sim.indicators import HARD_EDGES_DOMAINS, WEEKLY_COLUMNS
from sim.model import WEEKS_PER_YEAR
from sim.rules import money, needs, population
from sim.state import LONG_STANDING, NONE

LEFT, ARRIVED = WEEKLY_COLUMNS.index("left"), WEEKLY_COLUMNS.index("arrived")
Z = 5.0  # standard errors allowed in the statistical checks (fixed seeds: they never flake)


def _run(params, weeks: int | None = None, agents: bool = False) -> PlaceModel:
    model = PlaceModel(params, resident_agents=agents)
    for _ in range(model.n_weeks if weeks is None else weeks):
        model.step()
    return model


def _after_phase_one(model: PlaceModel, seen: list) -> None:
    """Snapshot the residents' table and pending arrivals right after phase 1 (moving in and out) of each week."""
    real = model.apply_life_events

    def spy():
        seen.append((model.steps, copy.deepcopy(model.residents), [tuple(a) for a in model._arrivals]))
        real()

    model.apply_life_events = spy


def _force_leavers(monkeypatch, rows_by_week: dict[int, np.ndarray], model_of, twins: dict | None = None) -> None:
    """``who_leaves`` returns ``rows_by_week[week]`` (nobody in other weeks); ``twins[week]`` is a copy of the
    generator as it was when the week's leavers were chosen (what the newcomers are then drawn from)."""

    def fake(n, ceiling, hazard_of, rng):
        week = model_of().steps
        if twins is not None:
            twins[week] = copy.deepcopy(rng)
        return np.asarray(rows_by_week.get(week, np.empty(0, np.intp)), np.intp)

    monkeypatch.setattr(population, "who_leaves", fake)


# --- 7.18 moving in and out ----------------------------------------------------------------------------------------
def test_population_and_every_neighbourhood_keep_their_size_every_week(small_params):
    """Each week as many arrive as leave, the arrivals are exactly the rows stamped with this week, and every
    neighbourhood keeps the residents it was allocated."""
    model = PlaceModel(small_params(residents=600, years=1, uncertainty__leave_rate=0.3), resident_agents=False)
    allocated = model.residents_per_neighbourhood.copy()
    k = model.place.n_neighbourhoods
    moved = 0
    for week in range(1, model.n_weeks + 1):
        model.step()
        r = model.residents
        assert model.n_residents == 600 and {getattr(r, c).shape[0] for c in r.COLUMNS} == {600}
        np.testing.assert_array_equal(np.bincount(r.home, minlength=k), allocated)
        row = model.weekly[week - 1]
        assert row[LEFT] == row[ARRIVED] == (r.arrived_week == week).sum(), f"week {week}"
        assert r.arrived_week.max() <= week
        moved += int(row[LEFT])
    assert moved > 100  # the check bites: at 30 % a year, about 300 moves in two years
    nb = model.neighbourhoods()
    assert nb.groupby("month")["residents"].sum().eq(600).all()


@pytest.mark.parametrize("leave_rate, deprivation_gradient", [(0.05, 0.0), (0.5, 0.0), (0.5, 4.0)])
def test_residents_leave_at_the_documented_rate_without_a_need_gradient(small_params, leave_rate,
                                                                      deprivation_gradient):
    """With leave_need_gradient 0 a resident's weekly hazard depends only on their home (ODD 7.18, written out
    here rather than taken from the rules): h_i = (1 - (1 - leave_rate)^(1/52)) f_k, f_k = (1 + g d_k) / mean_k(1 +
    g d_k). So

    - each resident here at the start is still here a year later with probability (1 - h_i)^52, which is
      1 - leave_rate when g = 0: the count of them is within Z standard deviations of its expectation;
    - leavers over the run number sum_weeks sum_i h_i in expectation, with variance sum_weeks sum_i h_i (1 - h_i):
      the count overall, and the difference between the more and the less deprived half of the place, is within
      Z standard deviations of it;
    - population_turnover, leaving events per resident-year, is within Z standard deviations of 52 mean_i h_i
      (about -ln(1 - leave_rate): 0.051 at 0.05, so within a small tolerance of leave_rate itself).
    """
    params = small_params(residents=1500, years=2, uncertainty__leave_rate=leave_rate,
                          relations__leave_need_gradient=0, relations__leave_deprivation_gradient=deprivation_gradient)
    model = PlaceModel(params, resident_agents=False)
    left_from: list[np.ndarray] = []  # the neighbourhood of every leaver
    real = model.move_out
    model.move_out = lambda rows: (left_from.append(model.residents.home[rows].copy()), real(rows))[1]
    overall = model.place.overall_deprivation
    home = model.residents.home
    relative = 1.0 + deprivation_gradient * overall
    hazard = ((1.0 - (1.0 - leave_rate) ** (1 / 52)) * relative / relative.mean())[home]
    for week in range(1, model.n_weeks + 1):
        model.step()
        if week == WEEKS_PER_YEAR:
            stay = (1.0 - hazard) ** WEEKS_PER_YEAR
            if deprivation_gradient == 0:
                np.testing.assert_allclose(stay, 1.0 - leave_rate, rtol=1e-12)
            stayed = (model.residents.arrived_week == LONG_STANDING).sum()
            assert abs(stayed - stay.sum()) < Z * math.sqrt((stay * (1 - stay)).sum()), (stayed, stay.sum())
    weeks = model.n_weeks
    deprived = overall > np.median(overall)  # per neighbourhood
    left_from = np.concatenate(left_from)
    expected = weeks * hazard.sum()
    assert abs(left_from.size - expected) < Z * math.sqrt(weeks * (hazard * (1 - hazard)).sum())
    difference = deprived[left_from].sum() - (~deprived[left_from]).sum()
    sign = np.where(deprived[home], 1.0, -1.0)
    assert abs(difference - weeks * (sign * hazard).sum()) < Z * math.sqrt(weeks * (hazard * (1 - hazard)).sum())
    ts = model.timeseries()
    turnover = model.summary()["population_turnover"]
    assert turnover == pytest.approx(ts.loc[ts["year"] >= 0, "left"].sum() / (1500 * 2), rel=1e-12)
    resident_years = 1500 * 2
    assert abs(turnover - 52 * hazard.mean()) < Z * math.sqrt(104 * hazard.sum()) / resident_years
    if leave_rate == 0.05 and deprivation_gradient == 0:
        assert abs(turnover - leave_rate) < 0.001 + Z * math.sqrt(104 * hazard.sum()) / resident_years


def test_residents_in_high_need_leave_more_often(small_params):
    """A stated direction: with leave_need_gradient 3, more residents leave than with 0 (same seed)."""
    common = {"residents": 1000, "years": 1, "uncertainty__leave_rate": 0.1}
    flat = _run(small_params(**common, relations__leave_need_gradient=0)).summary()
    steep = _run(small_params(**common, relations__leave_need_gradient=3)).summary()
    assert steep["population_turnover"] > flat["population_turnover"] * 1.05


def test_nobody_moves_when_leave_rate_is_zero(small_params):
    model = _run(small_params(residents=600, years=1, uncertainty__leave_rate=0))
    ts = model.timeseries()
    assert ts["left"].sum() == ts["arrived"].sum() == ts["newcomers"].max() == 0
    assert (model.residents.arrived_week == LONG_STANDING).all()
    summary = model.summary()
    assert summary["population_turnover"] == 0.0 and summary["newcomer_share"] == 0.0
    moving = _run(small_params(residents=600, years=1, uncertainty__leave_rate=0.1)).summary()
    assert moving["population_turnover"] > 0 and moving["newcomer_share"] > 0  # the control


def test_a_newcomer_has_no_history_and_is_drawn_fresh(small_params, monkeypatch):
    """Residents with a case, a wait, a signpost, an emergency spell, failure memory, a crisis cool-down and low
    trust leave in week 31: right after phase 1 their rows hold newcomers with every history column fresh, drawn
    from the neighbourhood's profile (draw for draw, from the generator as it was) and stamped with week 31;
    nobody else is touched."""
    params = small_params(residents=600, years=1, scenario="silo", uncertainty__leave_rate=0.05)
    model = _run(params, weeks=30)
    r, week = model.residents, 31
    pick = [np.flatnonzero(r.case_provider >= 0)[:2], np.flatnonzero(r.wait_provider >= 0)[:2],
            np.flatnonzero(r.referral_target >= 0)[:2], np.flatnonzero((r.failure_until > 30).any(axis=1))[:2]]
    assert all(p.size for p in pick)  # the run has made every kind of history
    manual = np.array([7, 77, 177])  # history the run may not have made by now: a spell and a crisis cool-down
    r.spell_domain[manual] = model.domains.index("housing")
    r.crisis_until[manual] = 35
    leavers = np.unique(np.concatenate([*pick, manual]))
    r.trust[leavers] = 0.01
    before = copy.deepcopy(r)
    twins: dict = {}
    _force_leavers(monkeypatch, {week: leavers}, lambda: model, twins)
    seen: list = []
    _after_phase_one(model, seen)
    model.step()
    (_, after, _), = seen
    fresh = population.draw_people(before.home[leavers], model.profile, model.n_services + 1, twins[week])
    np.testing.assert_array_equal(after.need[leavers], fresh.need)
    np.testing.assert_array_equal(after.trust[leavers], fresh.trust)
    np.testing.assert_array_equal(after.entrenchment[leavers], fresh.entrenchment)
    np.testing.assert_array_equal(after.chronic[leavers], fresh.chronic)
    for name in ("resilience", "resilience_base"):
        np.testing.assert_array_equal(getattr(after, name)[leavers], fresh.resilience)
    for name in ("connection", "connection_base"):
        np.testing.assert_array_equal(getattr(after, name)[leavers], fresh.connection)
    np.testing.assert_array_equal(after.wellbeing[leavers], needs.wellbeing(fresh.need, fresh.connection))
    np.testing.assert_array_equal(after.arrived_week[leavers], week)
    assert after.trust[leavers].min() > 0.01  # trust drawn fresh, not the leaver's 0.01
    stayers = np.setdiff1d(np.arange(600), leavers)
    for name, column in r.COLUMNS.items():
        if column.kept:
            np.testing.assert_array_equal(getattr(after, name)[leavers], getattr(before, name)[leavers], name)
        elif not column.drawn:
            np.testing.assert_array_equal(getattr(after, name)[leavers], column.fresh, name)
        np.testing.assert_array_equal(getattr(after, name)[stayers], getattr(before, name)[stayers], name)
    assert (after.case_provider[leavers] == NONE).all() and (after.spell_domain[leavers] == NONE).all()
    assert (after.failure_until[leavers] == 0).all()
    ts = model.timeseries()
    assert ts["left"].iloc[-1] == ts["arrived"].iloc[-1] == leavers.size


def test_support_given_to_a_leaver_does_not_shield_the_newcomer(small_params, monkeypatch):
    """Last week's support (``_addressed``) stops unmet need spilling between domains; a newcomer in a supported
    leaver's row gets none of that shield in phase 3 of the week they arrive."""
    model = _run(small_params(residents=600, years=1, scenario="silo", uncertainty__leave_rate=0.05), weeks=30)
    supported = np.flatnonzero(model.residents.case_provider >= 0)[:3]
    assert supported.size and model._addressed[np.isin(model._addressed_rows, supported)].any()
    _force_leavers(monkeypatch, {31: supported}, lambda: model)
    shields: list[np.ndarray] = []
    real = needs.unmet_excess

    def spy(need, floor, rows, addressed):
        shields.append(addressed[np.isin(rows, supported)].copy())
        return real(need, floor, rows, addressed)

    monkeypatch.setattr(needs, "unmet_excess", spy)
    model.step()
    (shield,) = shields
    assert shield.size and not shield.any()


def test_a_followed_resident_who_leaves_is_followed_no_further(small_params):
    """A followed resident who leaves gets a ``left`` event, the last of their events; the snapshots of their row
    are NaN from that week on (the newcomer there is someone else) and complete before it."""
    model = PlaceModel(small_params(residents=600, years=1, uncertainty__leave_rate=0.5), resident_agents=False)
    followed = np.arange(0, 600, 3)
    journeys = model.follow(followed)
    for _ in range(model.n_weeks):
        model.step()
    assert model.journeys is journeys
    left = {e.resident: e.week for e in journeys.events if e.kind == "left"}
    assert len(left) > 20  # about half of them leave within two years at 50 % a year
    assert sum(e.kind == "left" for e in journeys.events) == len(left)  # once each
    for row, week in left.items():
        events = journeys.events_of(row)
        assert events[-1].kind == "left" and all(e.week < week for e in events[:-1]), row
        slot = int(np.searchsorted(journeys.rows, row))
        assert journeys.left_week[slot] == week
        assert np.isnan(journeys.need[week:, slot]).all() and np.isnan(journeys.wellbeing[week:, slot]).all()
        assert not np.isnan(journeys.need[:week, slot]).any()
        assert model.residents.arrived_week[row] >= week  # someone else lives there now
    stayed = np.flatnonzero(journeys.left_week < 0)
    assert stayed.size and not np.isnan(journeys.need[:, stayed]).any()


def test_a_warm_handoff_to_a_leaver_lapses_and_others_still_arrive(small_params, monkeypatch):
    """Warm hand-offs waiting at the end of a week (the only arrivals still pending then) are delivered next
    week; half of their residents leave first: their hand-offs are gone after phase 1 and nothing but their own
    crisis brings the newcomers to a door unasked, while the other half's hand-offs are still there."""
    params = small_params(residents=1500, years=1, burn_in_years=0, scenario="silo",
                          practice__usual__referral="warm_handoff", relations__initial_tie_strength=0.9,
                          uncertainty__p_wrong_door=0.9, uncertainty__leave_rate=0.05)  # wrong doors hand on
    model = PlaceModel(params, resident_agents=False)
    for _ in range(40):
        model.step()
        pending = [a for a in model._arrivals if a[0].size]
        if sum(a[0].size for a in pending) >= 2:
            break
    assert pending, "no warm hand-off pending within 40 weeks"
    assert not any(flag for *_, flag in pending)  # a warm hand-off needs no new contact
    who = np.concatenate([a[0] for a in pending])
    door = np.concatenate([a[1] for a in pending])
    leavers, stayers = np.unique(who[::2]), np.setdiff1d(who, who[::2])
    assert leavers.size and stayers.size
    week = model.steps + 1
    _force_leavers(monkeypatch, {week: leavers}, lambda: model)
    seen: list = []
    _after_phase_one(model, seen)
    triaged: list = []
    real_triage = model.triage

    def spy_triage():
        triaged.append([tuple(a) for a in model._arrivals])
        real_triage()

    model.triage = spy_triage
    model.step()
    (_, _, arrivals), = seen
    still = np.concatenate([a[0] for a in arrivals]) if arrivals else np.empty(0, int)
    assert not np.isin(leavers, still).any()
    for row in stayers:
        assert row in still
        (i,) = np.flatnonzero(who == row)[:1]
        assert any(((a[0] == row) & (a[1] == door[i])).any() for a in arrivals)  # to the same door
    (at_triage,) = triaged
    crisis = np.flatnonzero(model.residents.crisis_until == week + params.relations.crisis_cooldown_weeks)
    unasked = np.concatenate([a[0][~np.full(a[0].size, a[3])] for a in at_triage]) if at_triage else []
    assert np.isin(np.intersect1d(unasked, leavers), crisis).all()


def test_a_newcomer_gets_a_new_mesa_handle(small_params, monkeypatch):
    """A newcomer gets a new Resident handle; the leaver's is removed from the model; there are always N."""
    model = _run(small_params(residents=600, years=1, uncertainty__leave_rate=0.05), weeks=2, agents=True)
    rows = np.array([3, 10, 42])
    old = {row: model.resident_handles[row] for row in rows}
    others = [h for i, h in enumerate(model.resident_handles) if i not in old]
    _force_leavers(monkeypatch, {3: rows}, lambda: model)
    model.step()
    agents = model.agents_by_type[Resident]
    assert len(agents) == 600
    for row, handle in old.items():
        new = model.resident_handles[row]
        assert new is not handle and new.row == row and new in agents
        assert handle not in agents and handle not in model.agents
        assert new.unique_id != handle.unique_id
    assert all(a is b for a, b in zip(others, [h for i, h in enumerate(model.resident_handles) if i not in old],
                                      strict=True))
    assert sorted(a.row for a in agents) == list(range(600))


def test_mesa_handles_follow_natural_moves(small_params):
    model = _run(small_params(residents=600, years=1, uncertainty__leave_rate=0.5), agents=True)
    agents = model.agents_by_type[Resident]
    assert len(agents) == 600 and sorted(a.row for a in agents) == list(range(600))
    assert len(model.agents) == 600 + model.n_providers + 1  # residents, providers and the commissioner only
    assert model.timeseries()["arrived"].sum() > 100


def test_newcomers_count_only_arrivals_after_the_burn_in(small_params):
    """``newcomers`` are residents who arrived after the burn-in (ODD 7.11): the burn-in is weeks 1-52, so at
    the end of week 52 there are none, and at the end of the run they are the rows stamped with weeks 53 on
    (model.steps is already 52 during week 52, the stamp newcomers of that week get)."""
    model = _run(small_params(residents=600, years=1, burn_in_years=1, uncertainty__leave_rate=0.5))
    ts = model.timeseries()
    assert ts.loc[ts["week"] == 52, "year"].item() == -1  # week 52 belongs to the burn-in
    still_here_from_week_52 = int((model.residents.arrived_week == 52).sum())
    assert ts.loc[ts["week"] == 52, "arrived"].item() > 0 and still_here_from_week_52 > 0
    newcomers = int((model.residents.arrived_week > model.burn_in_weeks).sum())
    assert model.summary()["newcomer_share"] == pytest.approx(newcomers / 600, abs=1e-12)
    assert ts.loc[ts["week"] == 52, "newcomers"].item() == 0


# --- 7.19 entrenched needs ----------------------------------------------------------------------------------------
ENTRENCHED = {"uncertainty__entrenched_share": 0.1, "relations__chronic_level": 0.75,
              "relations__p_chronic_domain": 0.5}


def test_entrenched_needs_stay_near_their_floor_under_silo(small_params):
    """Silo, no recovery or healing of entrenchment, nobody moving: every week of a year the entrenched
    residents' chronic needs stay within 0.1 of their floor (0.75) on average, while the same domains of
    residents without entrenched disadvantage stay far below it."""
    params = small_params(residents=1000, years=1, burn_in_years=0, scenario="silo", uncertainty__leave_rate=0,
                          uncertainty__entrenchment_recovery_rate=0, uncertainty__relational_healing_rate=0,
                          **ENTRENCHED)
    model = PlaceModel(params, resident_agents=False)
    r = model.residents
    entrenched = r.entrenchment > 0
    domains = model.profile.chronic_domains
    assert entrenched.sum() > 50 and r.chronic.sum() > 50
    np.testing.assert_array_equal(r.entrenchment[entrenched], 1.0)  # no recovery: the settled time changes nothing
    floor = population.chronic_floor(r.entrenchment, r.chronic, 0.75)
    others = r.need[~entrenched][:, domains]
    for week in range(1, model.n_weeks + 1):
        model.step()
        chronic = r.need[r.chronic]
        assert abs(float(chronic.mean()) - 0.75) < 0.1, week
        assert (np.abs(chronic - floor[r.chronic]) < 0.25).mean() > 0.85, week
        others = r.need[~entrenched][:, domains]
        assert others.mean() < 0.25 and (others >= 0.55).mean() < 0.05, week
    # their other domains are not held up: well below the chronic floor
    assert r.need[entrenched][~r.chronic[entrenched]].mean() < 0.55


def test_entrenchment_ends_naturally_at_its_rate(small_params):
    """No healing, no need gradient in leaving: of the residents entrenched at the start and here all year, the
    share still entrenched is (1 - r)^52 within Z binomial standard errors; nobody's entrenchment is in between."""
    r = 0.004
    params = small_params(residents=4000, years=1, burn_in_years=0, uncertainty__leave_rate=0.05,
                          relations__leave_need_gradient=0, uncertainty__entrenchment_recovery_rate=r,
                          uncertainty__relational_healing_rate=0,
                          **{**ENTRENCHED, "uncertainty__entrenched_share": 0.2})
    model = PlaceModel(params, resident_agents=False)
    start = model.residents.entrenchment.copy()
    for _ in range(52):
        model.step()
    stayed = (model.residents.arrived_week == LONG_STANDING) & (start > 0)
    assert stayed.sum() > 100
    still = model.residents.entrenchment[stayed]
    assert set(np.unique(still)) <= {0.0, 1.0}
    p = (1 - r) ** 52
    assert abs(still.mean() - p) < 3 * np.sqrt(p * (1 - p) / stayed.sum()), (still.mean(), p)


def test_whole_person_support_heals_entrenchment_faster_than_silo(small_params):
    """A stated direction, same seed, nobody moving and no natural recovery: with relational_healing_rate 0.03
    the initially entrenched end two years of whole-system working less entrenched than under silo; with
    healing rate 0 their entrenchment does not move in either."""
    common = dict(residents=1000, years=2, burn_in_years=0, uncertainty__leave_rate=0,
                  uncertainty__entrenchment_recovery_rate=0, uncertainty__budget_per_resident=200,
                  **{**ENTRENCHED, "uncertainty__entrenched_share": 0.05})
    result = {}
    for scenario in ("silo", "whole_system"):
        for rate in (0.0, 0.03):
            model = PlaceModel(small_params(scenario=scenario, uncertainty__relational_healing_rate=rate, **common),
                               resident_agents=False)
            entrenched = model.residents.entrenchment > 0
            for _ in range(model.n_weeks):
                model.step()
            result[scenario, rate] = model.residents.entrenchment[entrenched]
    assert result["silo", 0.03].size > 20
    for scenario in ("silo", "whole_system"):
        np.testing.assert_array_equal(result[scenario, 0.0], 1.0)
    assert result["whole_system", 0.03].mean() < result["silo", 0.03].mean() - 0.05


# --- 7.1 a period's demand --------------------------------------------------------------------------------------
def test_demand_path_changes_only_the_chosen_domains():
    """Per neighbourhood, the weekly rate of life events in a domain is hazard x its share of the weights: the
    changed domains' rates are multiplied by the factor, the others' stay exactly as they were; factor 1 changes
    nothing."""
    rng = np.random.default_rng(3)
    hazard = rng.uniform(0.001, 0.02, 40)
    weights = rng.uniform(0.1, 1.1, (40, 6))
    changed = np.array([False, True, False, False, True, False])

    def rates(h, cum):
        w = np.diff(cum, axis=1, prepend=0.0)
        return h[:, None] * w / w.sum(axis=1, keepdims=True)

    same_h, same_cum = needs.demand_path(hazard, weights, changed, 1.0)
    np.testing.assert_array_equal(same_h, hazard)
    np.testing.assert_array_equal(same_cum, np.cumsum(weights, axis=1))
    before = rates(hazard, np.cumsum(weights, axis=1))
    after = rates(*needs.demand_path(hazard, weights, changed, 1.34))
    np.testing.assert_allclose(after[:, changed], 1.34 * before[:, changed], rtol=1e-12)
    np.testing.assert_allclose(after[:, ~changed], before[:, ~changed], rtol=1e-12)


def test_demand_moves_year_by_year_with_the_budget(small_params):
    """uncertainty.demand_change_per_year: each commissioning year k sets every home's hazard and the domain
    weights to the demand path at factor (1 + g)^k; with g = 0 they never move (the golden runs)."""
    params = small_params(residents=600, years=3, burn_in_years=0, uncertainty__demand_change_per_year=0.25)
    model = PlaceModel(params, resident_agents=False)
    base_h = model._base_hazard_by_neighbourhood.copy()
    for year in range(1, 4):
        for _ in range(WEEKS_PER_YEAR):
            model.step()
        h, cum = needs.demand_path(base_h, model.domain_weights_by_neighbourhood, model.demand_change_domains,
                                   1.25 ** year)
        np.testing.assert_array_equal(model.hazard_by_neighbourhood, h)
        np.testing.assert_array_equal(model.domain_cumweights_by_neighbourhood, cum)
        np.testing.assert_array_equal(model.residents.hazard, h[model.residents.home].astype(np.float32))
    flat = PlaceModel(small_params(residents=600, years=3, burn_in_years=0), resident_agents=False)
    start = flat.residents.hazard.copy()
    for _ in range(3 * WEEKS_PER_YEAR):
        flat.step()
    np.testing.assert_array_equal(flat.residents.hazard, start)


def test_rising_housing_demand_starts_more_emergency_spells(small_params):
    """A direction with its control: the same place and seeds, housing demand doubling each year against constant,
    starts more emergency spells (housing is the spell domain) over three years, in every one of three seeds
    (at 1,500 residents a 25 % rise is lost in the noise of a dozen spells)."""
    started = {}
    for g in (0.0, 1.0):
        for seed in (1, 2, 3):
            params = small_params(residents=1500, years=3, burn_in_years=0, seed=seed,
                                  uncertainty__demand_change_per_year=g)
            started[g, seed] = int(_run(params).timeseries()["spells_started"].sum())
    for seed in (1, 2, 3):
        assert started[1.0, seed] > started[0.0, seed], started


# --- 7.3 crisis that lasts ------------------------------------------------------------------------------------------
SPELLS = {"relations__spell_domains": "[housing,money]", "relations__spell_week_cost": 150,
          "relations__emergency_cost": 500, "uncertainty__entrenched_share": 0.1}


def test_emergency_spells_start_cost_and_end_by_the_rules(small_params):
    """Checked in phase 4 every week: a spell starts only from a crisis whose domain is a spell domain, for a
    resident not already in one, and in that domain; every crisis in a spell domain leaves its resident in a
    spell; one that ends had its need below resolved_level; one that goes on has it at or above. Each week the
    emergency spend is crises x emergency_cost + residents in a spell x spell_week_cost."""
    params = small_params(residents=1000, years=1, burn_in_years=1, **SPELLS)
    model = PlaceModel(params, resident_agents=False)
    rel, r = params.relations, model.residents
    spell_domains = np.flatnonzero(model.spell_domains)
    assert sorted(model.domains[d] for d in spell_domains) == ["housing", "money"]
    counts = {"started": 0, "ended": 0, "crises_elsewhere": 0, "went_on": 0}
    real = model.respond_to_crises

    def checked():
        before = r.spell_domain.copy()
        cool = r.crisis_until.copy()
        started = model.tally["spells_started"]
        real()
        week, after = model.steps, r.spell_domain
        crisis = np.flatnonzero(r.crisis_until != cool)
        assert (r.crisis_until[crisis] == week + rel.crisis_cooldown_weeks).all()
        domain = model._need_argmax[crisis]
        new = np.flatnonzero((before < 0) & (after >= 0))
        assert np.isin(new, crisis).all() and np.isin(after[new], spell_domains).all()
        np.testing.assert_array_equal(after[new], model._need_argmax[new])
        assert model.tally["spells_started"] - started == new.size
        in_spell_domain = np.isin(domain, spell_domains)
        assert (after[crisis[in_spell_domain]] >= 0).all()
        assert (after[crisis[~in_spell_domain & (before[crisis] < 0)]] == NONE).all()
        ended = np.flatnonzero((before >= 0) & (after < 0))
        assert (r.need[ended, before[ended]] < rel.resolved_level).all()
        going = np.flatnonzero(after >= 0)
        assert (r.need[going, after[going]] >= rel.resolved_level).all()
        counts["started"] += new.size
        counts["ended"] += ended.size
        counts["crises_elsewhere"] += int((~in_spell_domain).sum())
        counts["went_on"] += int(((before >= 0) & (after >= 0)).sum())

    model.respond_to_crises = checked
    for _ in range(model.n_weeks):
        model.step()
    assert min(counts.values()) > 0, counts  # every rule was exercised
    ts = model.timeseries()
    np.testing.assert_allclose(ts["spend_emergency"], ts["crises"] * 500 + ts["in_emergency_spell"] * 150,
                               rtol=1e-12)
    assert ts["spells_started"].sum() == counts["started"]


def test_no_spell_domains_means_no_spells(small_params):
    """The control: with no spell domain nobody is ever in a spell and emergency spend is crises alone."""
    params = small_params(residents=1000, years=1, burn_in_years=0, **{**SPELLS, "relations__spell_domains": "[]"})
    ts = _run(params).timeseries()
    assert ts["spells_started"].sum() == ts["in_emergency_spell"].sum() == 0
    assert ts["crises"].sum() > 0
    np.testing.assert_allclose(ts["spend_emergency"], ts["crises"] * 500, rtol=1e-12)


# --- 7.10 the commissioner funds last year's emergencies first ------------------------------------------------------
@pytest.fixture
def commissioning(monkeypatch):
    """Each commission_year: last year's emergency spend per service before it, and the budgets it set."""
    calls: list[dict] = []
    real = Commissioner.commission_year

    def spy(self):
        m = self.model
        s = m.n_services
        emergency = m.providers.emergency_year[:s].copy()
        real(self)
        calls.append({"week": m.steps, "emergency": emergency, "total": m.budget_year_total,
                      "year": m.providers.budget_year[:s].copy(), "remaining": m.providers.budget_remaining[:s].copy()})

    monkeypatch.setattr(Commissioner, "commission_year", spy)
    return calls


def test_the_commissioner_sets_last_years_emergency_spend_aside(small_params, commissioning):
    """At the start of each year every service's budget left = its planned staffing + last year's emergency
    spend on it (the set-aside, whole while it fits); staffing shares what is left of the services' total; last
    year's emergency spend is the weekly table's spend_emergency summed over the year; year 0 sets nothing
    aside."""
    params = small_params(residents=1000, years=1, burn_in_years=1, scenario="silo",
                          uncertainty__budget_per_resident=200, **SPELLS)
    model = _run(params)
    first, second = commissioning[0], commissioning[1]
    assert first["week"] == 0 and not first["emergency"].any()
    np.testing.assert_array_equal(first["remaining"], first["year"])
    assert second["week"] == WEEKS_PER_YEAR
    ts = model.timeseries()
    spent = ts.loc[ts["week"] <= WEEKS_PER_YEAR, "spend_emergency"].sum()
    assert second["emergency"].sum() == pytest.approx(spent, rel=1e-12)
    assert 0 < spent < second["total"]  # the set-aside fits: kept whole
    np.testing.assert_allclose(second["remaining"], second["year"] + second["emergency"], rtol=1e-12)
    assert second["year"].sum() == pytest.approx(second["total"] - spent, rel=1e-12)
    np.testing.assert_allclose(second["remaining"] - second["year"],
                               money.emergency_set_aside(second["emergency"], second["total"]), rtol=1e-12)


def test_emergencies_beyond_the_budget_leave_nothing_for_staff(small_params, commissioning):
    """When last year's emergencies cost more than the services' whole budget, the set-aside is scaled to that
    budget and no staffing is planned: prevention is what gives way."""
    params = small_params(residents=1000, years=1, burn_in_years=1, scenario="silo",
                          uncertainty__budget_per_resident=5, **SPELLS)
    _run(params, weeks=WEEKS_PER_YEAR)
    second = commissioning[1]
    assert second["emergency"].sum() > second["total"] > 0
    np.testing.assert_allclose(second["year"], 0.0, atol=1e-9 * second["total"])  # up to rounding
    np.testing.assert_allclose(second["remaining"], second["emergency"] * second["total"] / second["emergency"].sum(),
                               rtol=1e-12)
    assert second["remaining"].sum() == pytest.approx(second["total"], rel=1e-12)


# --- the new outcomes ---------------------------------------------------------------------------------------------
def test_the_new_outcomes_are_in_the_summary_within_their_bounds(small_params):
    """population_turnover >= 0, newcomer_share and hard_edges_persistence in [0, 1], spells begun >= 0, residents
    in a spell per 1,000 in [0, 1000]; each matches its definition over the weekly table, and persistence matches
    a count made here from the residents at the end of the burn-in and a year later."""
    params = small_params(residents=1000, years=1, burn_in_years=1, uncertainty__leave_rate=0.1, **SPELLS)
    model = PlaceModel(params, resident_agents=False)
    rel = params.relations
    columns = [model.domains.index(d) for d in HARD_EDGES_DOMAINS]
    marks = {}
    for week in range(1, model.n_weeks + 1):
        model.step()
        if week in (model.burn_in_weeks, model.burn_in_weeks + WEEKS_PER_YEAR):
            high = (model.residents.need[:, columns] >= rel.need_threshold).sum(axis=1) >= 2
            marks[week] = (high, model.residents.arrived_week.copy())
    (high0, arrived0), (high1, arrived1) = marks.values()
    here = high0 & (arrived1 == arrived0)
    summary = model.summary()
    ts = model.timeseries()
    ev = ts[ts["year"] >= 0]
    assert here.sum() > 5 and (high0 & (arrived1 != arrived0)).any()  # some of the 2+ group have left
    assert summary["hard_edges_persistence"] == pytest.approx((high1 & here).sum() / here.sum(), rel=1e-12)
    assert 0.0 <= summary["hard_edges_persistence"] <= 1.0
    assert summary["population_turnover"] == pytest.approx(ev["left"].sum() / 1000, rel=1e-12)
    assert summary["population_turnover"] > 0
    assert 0.0 < summary["newcomer_share"] <= 1.0
    assert summary["newcomer_share"] * 1000 <= ev["left"].sum() + ts.loc[ts["week"] == 52, "arrived"].item()
    assert summary["emergency_spells_per_1000_per_year"] == pytest.approx(
        ev["spells_started"].sum() * 1000 / (1000 * 1), rel=1e-12)
    assert summary["emergency_spells_per_1000_per_year"] > 0
    assert summary["in_emergency_spell_per_1000"] == pytest.approx(ev["in_emergency_spell"].mean() * 1000 / 1000,
                                                                   rel=1e-12)
    assert 0.0 < summary["in_emergency_spell_per_1000"] <= 1000.0
