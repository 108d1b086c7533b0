"""PlaceModel (sim/model.py) in small worlds: bookkeeping, agent handles, scheduling, and mechanisms that must
be off when their lever or uncertainty is off.

The "honesty" tests matter most: warm hand-offs and joint work are the whole-system mechanisms that run on
provider relationships, so when relationships cannot form they must not happen at all (docs/ODD.md 7.9).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import PlaceModel
from sim.agents import Commissioner, Resident
from sim.place import allocate_residents
from sim.rules import needs, ties


def _run(params, weeks: int | None = None, **kwargs) -> PlaceModel:
    model = PlaceModel(params, resident_agents=kwargs.pop("resident_agents", False))
    for _ in range(model.n_weeks if weeks is None else weeks):
        model.step()
    return model


@pytest.fixture
def joint_work_spy(monkeypatch):
    """Record each week's joint work (joint case-weeks + warm hand-offs), as rules.ties.update_ties sees it."""
    weekly: list[float] = []
    real = ties.update_ties

    def spy(ties, joint_work, *args):
        weekly.append(float(joint_work.sum()))
        return real(ties, joint_work, *args)

    monkeypatch.setattr(ties, "update_ties", spy)
    return weekly


# --- bookkeeping --------------------------------------------------------------------------------------------
def test_residents_conserved_and_allocated_to_neighbourhoods(small_params):
    """Every resident array has one row per resident, before and after a year; homes follow the allocation."""
    params = small_params(residents=1234)
    model = PlaceModel(params, resident_agents=False)
    expected = allocate_residents(model.place.population, 1234)
    np.testing.assert_array_equal(model.residents_per_neighbourhood, expected)
    np.testing.assert_array_equal(np.bincount(model.residents.home, minlength=model.place.n_neighbourhoods), expected)
    for _ in range(52):
        model.step()
    arrays = [getattr(model.residents, name) for name in model.residents.COLUMNS]
    assert {a.shape[0] for a in arrays} == {1234}
    assert model.n_residents == 1234
    assert model.neighbourhoods()["residents"].groupby(model.neighbourhoods()["month"]).sum().eq(1234).all()


def test_resident_agent_reads_its_row(small_params):
    """A Resident is a live handle on its row: needs (by domain name), neighbourhood, provider."""
    model = PlaceModel(small_params(residents=600), resident_agents=True)
    residents = list(model.agents_by_type[Resident])
    assert len(residents) == 600
    agent = residents[17]
    assert agent.row == 17
    assert agent.neighbourhood == int(model.residents.home[17])
    assert agent.needs == dict(zip(model.domains, model.residents.need[17].tolist(), strict=True))
    model.residents.need[17, model.domains.index("money")] = 0.75
    assert agent.needs["money"] == pytest.approx(0.75)
    model.residents.case_provider[17] = 2
    assert agent.provider == 2
    expected = float(needs.wellbeing(model.residents.need[17:18], model.residents.connection[17:18])[0])
    assert agent.wellbeing == pytest.approx(expected)


def test_one_service_per_domain(small_params):
    """Services are one per need domain, whatever the domains are; community organisations follow them."""
    base = small_params(residents=600)
    three = dataclasses.replace(base, relations=dataclasses.replace(
        base.relations, domains=["health", "money", "work"], coupling_links=["money -> work: 1.0"],
        entrenched_domains=["money", "work"], spell_domains=["money"], demand_change_domains=["money"]))
    for params in (base, three):
        model = PlaceModel(params, resident_agents=False)
        assert len(model.services) == model.n_services == len(params.relations.domains)
        assert [s.domain for s in model.services] == params.relations.domains
        assert [org.index for org in model.orgs] == list(range(model.n_services, model.n_providers))
        assert model.residents.trust.shape[1] == model.n_services + 1


def test_quarterly_and_annual_events_run_after_the_week(small_params, monkeypatch):
    """Quarterly reviews every 13 weeks; commissioning at construction and again after 52 weeks."""
    calls: list[int] = []
    real = Commissioner.review_quarter

    def counting(self):
        calls.append(self.model.steps)
        return real(self)

    monkeypatch.setattr(Commissioner, "review_quarter", counting)
    model = PlaceModel(small_params(residents=600), resident_agents=False)
    assert model.commissioner.year == 1  # year 0 commissioned at construction
    for _ in range(51):
        model.step()
    assert model.commissioner.year == 1
    assert calls == [13, 26, 39]
    model.step()
    assert model.commissioner.year == 2
    assert calls == [13, 26, 39, 52]


@pytest.mark.parametrize("part, resets", [("commissioning", True), ("accountability", True), ("funding", False)])
def test_reform_that_ends_rationing_lets_thresholds_fall_back(small_params, part, resets):
    """Thresholds raised by silo rationing fall back to the commissioning base when commissioning or
    accountability is reformed (accountability ends rationing: else they would stay frozen where they were)."""
    model = PlaceModel(small_params(residents=600), resident_agents=False)
    s = model.n_services
    base = model.route.commissioning.eligibility_threshold
    model.providers.threshold[:s] = base + 0.2  # as if rationing had raised them
    model.reform(part)
    expected = base if resets else base + 0.2
    np.testing.assert_allclose(model.providers.threshold[:s], expected)
    assert model.route.commissioning.eligibility_threshold == base  # the same base before and after reform


def test_resident_agents_change_nothing_in_the_dynamics(small_params):
    """Creating a Mesa handle per resident must not draw from the model's random source."""
    params = small_params(residents=600, years=1)
    with_agents = _run(params, resident_agents=True).timeseries()
    without = _run(params, resident_agents=False).timeseries()
    assert with_agents.equals(without)


# --- mechanisms switched off --------------------------------------------------------------------------------
def test_signposting_scenario_has_no_warm_handoffs(small_params):
    """referral: signpost -> every referral is a signpost; whole-system otherwise hands some off warmly (three
    years: a proportionate first response refers few people on, and ties take a year to reach a working level)."""
    signpost = _run(small_params(scenario="whole_system", years=3, practice__new__referral="signpost")).timeseries()
    assert signpost["warm_handoffs"].sum() == 0
    assert signpost["signposts"].sum() > 0
    warm = _run(small_params(scenario="whole_system", years=3)).timeseries()
    assert warm["warm_handoffs"].sum() > 0  # the control: the same world with warm hand-offs does use them


def test_no_relationships_means_no_warm_handoffs_and_no_joint_work(small_params, joint_work_spy):
    """Honesty: with relationship_build_rate 0 and no starting ties, ties stay 0, so whole-system working gets
    no warm hand-off, no joint work and no working relationship, though it still refers people on."""
    params = small_params(scenario="whole_system", uncertainty__relationship_build_rate=0,
                          relations__initial_tie_strength=0)
    model = _run(params)
    ts = model.timeseries()
    assert ts["warm_handoffs"].sum() == 0
    assert ts["signposts"].sum() > 0
    assert len(joint_work_spy) == model.n_weeks and max(joint_work_spy) == 0.0
    assert ts["mean_tie_strength"].max() == 0.0
    assert ts["collaboration_density"].max() == 0.0
    assert model.providers.ties.max() == 0.0


def test_joint_work_spy_sees_joint_work_when_relationships_can_form(small_params, joint_work_spy):
    """The control for the honesty test: in the baseline whole-system world joint work does happen."""
    _run(small_params(scenario="whole_system"))
    assert max(joint_work_spy) > 0


def test_without_building_ties_only_decay_from_their_start(small_params):
    """relationship_build_rate 0 with the default starting ties (0.05): no tie ever grows, so the mean tie
    never exceeds its starting value and no pair reaches a working relationship (tie_threshold 0.25)."""
    params = small_params(scenario="whole_system", uncertainty__relationship_build_rate=0)
    start = params.relations.initial_tie_strength
    model = PlaceModel(params, resident_agents=False)
    for _ in range(model.n_weeks):
        model.step()
        assert model.providers.ties.max() <= start
    ts = model.timeseries()
    assert ts["mean_tie_strength"].max() <= start
    assert ts["collaboration_density"].max() == 0.0


def test_no_relationship_building_means_no_warm_handoffs_at_default_ties(small_params, joint_work_spy):
    params = small_params(scenario="whole_system", uncertainty__relationship_build_rate=0)
    ts = _run(params).timeseries()
    assert ts["warm_handoffs"].sum() == 0
    assert max(joint_work_spy) == 0.0


# --- long runs ------------------------------------------------------------------------------------------------------
def test_week_stamps_do_not_overflow_past_630_years(small_params):
    """Week stamps and durations are 32-bit: a model past week 32,767 (630 years, the old 16-bit limit) keeps
    stamping failures, crises and waits correctly."""
    model = PlaceModel(small_params(residents=600, years=1), resident_agents=False)
    for _ in range(52):
        model.step()
    r = model.residents
    for array in (r.failure_until, r.crisis_until, r.case_weeks, r.wait_weeks, r.referral_weeks):
        assert array.dtype == np.int32
    model.steps = 40_000  # as if 770 years had passed (and room in the weekly table for the weeks to come)
    model.n_weeks = 40_010
    model.weekly = np.zeros((model.n_weeks, model.weekly.shape[1]))
    for _ in range(10):
        model.step()
    stamped = model.residents.failure_until[model.residents.failure_until > 0]
    assert stamped.max() > 40_000 and stamped.max() <= 40_010 + model.params.relations.failure_memory_weeks
    assert model.timeseries()["crises"].ge(0).all()


@pytest.mark.slow  # ~30 s: 36,400 weeks of a tiny place
def test_a_700_year_run_finishes(tmp_path, monkeypatch):
    """The whole command: a 700-year run finishes and writes its summary (it crashed at week 32,768 before)."""
    import json
    import subprocess
    import sys

    monkeypatch.setenv("PLACESIM_RESULTS", str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "experiments.run", "residents=20", "years=700", "burn_in_years=0",
                           "progress=off"], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert json.loads((folder / "summary.json").read_text())["years"] == 700
