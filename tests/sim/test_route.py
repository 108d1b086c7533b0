"""The route (sim/route.py, docs/ODD.md 7.15): Practice owns who works the new way and keeps its levers in
step; Route holds the infrastructure in force, starts the route, reforms parts, licenses and spreads the new
way.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import PlaceModel
from sim.params import INFRASTRUCTURE_PARTS
from sim.route import Practice, Route, provider_mask

DOMAINS = ["health", "mental_health", "housing", "money", "work", "safety"]
HEALTH, MENTAL, HOUSING, MONEY, WORK, SAFETY = range(6)
N_ORGS = 3
N = len(DOMAINS) + N_ORGS  # 6 services, then 3 community organisations (6, 7, 8)

# Practice lever attribute -> (the PracticeParams field it follows, how the field's value maps to the lever)
LEVERS = {
    "no_wrong_door": ("no_wrong_door", bool),
    "bespoke": ("bespoke_support", bool),
    "warm_handoff": ("referral", lambda v: v == "warm_handoff"),
    "episode_weeks": ("episode_weeks", int),
    "max_case_weeks": ("max_case_weeks", int),
    "relationship_time": ("relationship_time_share", float),
    "p_socialisation": ("p_socialisation", float),
    "p_code_learning": ("p_code_learning", float),
}

# The new way differs from the usual way in every lever (the defaults share episode and case lengths and p2).
EVERY_LEVER_DIFFERS = {"practice__new__episode_weeks": 12, "practice__new__max_case_weeks": 30,
                       "practice__new__p_code_learning": 0.3}


def assert_levers_follow(practice: Practice, ways) -> None:
    """Every lever array equals np.where(adopted, the new way's value, the usual way's value)."""
    adopted = practice.adopted
    for lever, (field, convert) in LEVERS.items():
        expected = np.where(adopted, convert(getattr(ways.new, field)), convert(getattr(ways.usual, field)))
        actual = getattr(practice, lever)
        assert actual.shape == adopted.shape, lever
        np.testing.assert_array_equal(actual, expected, err_msg=lever)


# --- Practice -----------------------------------------------------------------------------------------------
def test_adopted_is_read_only_and_starts_usual(small_params):
    """A new Practice has nobody adopted; writing to adopted raises ValueError and changes nothing."""
    practice = Practice(small_params().practice, N)
    assert not practice.adopted.any()
    with pytest.raises(ValueError):
        practice.adopted[0] = True
    with pytest.raises(ValueError):
        practice.adopted[:] = True
    assert not practice.adopted.any()


def test_set_copies_its_argument(small_params):
    """Practice.set keeps its own copy: changing the caller's array afterwards does not change who adopted."""
    practice = Practice(small_params().practice, N)
    mine = np.zeros(N, dtype=bool)
    mine[MONEY] = True
    practice.set(mine, week=0)
    mine[:] = True
    assert practice.adopted.tolist() == [i == MONEY for i in range(N)]
    assert practice.bespoke.tolist() == [i == MONEY for i in range(N)]


@pytest.mark.parametrize("overrides", [{}, EVERY_LEVER_DIFFERS], ids=["default_ways", "every_lever_differs"])
def test_levers_follow_adopted_after_set_and_revert(small_params, overrides):
    """After every set and revert each lever array is np.where(adopted, new value, usual value)."""
    ways = small_params(**overrides).practice
    if overrides:
        for field, _ in LEVERS.values():
            assert getattr(ways.new, field) != getattr(ways.usual, field), field
    practice = Practice(ways, N)
    assert_levers_follow(practice, ways)
    rng = np.random.default_rng(3)
    for _ in range(5):
        practice.set(rng.random(N) < 0.5, week=0)
        assert_levers_follow(practice, ways)
    practice.set(np.ones(N, dtype=bool), week=0)
    assert_levers_follow(practice, ways)
    practice.revert([MONEY, 7])
    assert practice.adopted.tolist() == [i not in (MONEY, 7) for i in range(N)]
    assert_levers_follow(practice, ways)
    practice.revert(np.array([HEALTH]))
    assert not practice.adopted[HEALTH] and practice.adopted[HOUSING]
    assert_levers_follow(practice, ways)
    practice.set(np.zeros(N, dtype=bool), week=0)
    assert not practice.bespoke.any() and not practice.warm_handoff.any()
    assert_levers_follow(practice, ways)


def test_revert_of_a_non_adopter_is_a_no_op(small_params):
    """Reverting usual-way providers changes neither adopted nor any lever; reverting an adopter does."""
    ways = small_params(**EVERY_LEVER_DIFFERS).practice
    practice = Practice(ways, N)
    practice.set(np.isin(np.arange(N), [HOUSING, 6]), week=0)
    before = {name: getattr(practice, name).copy() for name in ("adopted", *LEVERS)}
    practice.revert([MONEY, 7])
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(practice, name), value, err_msg=name)
    practice.revert([])
    np.testing.assert_array_equal(practice.adopted, before["adopted"])
    practice.revert([HOUSING])  # control: an adopter does go back
    assert practice.adopted.tolist() == [i == 6 for i in range(N)]
    assert practice.episode_weeks[HOUSING] == ways.usual.episode_weeks
    assert practice.episode_weeks[6] == ways.new.episode_weeks


# --- provider_mask ------------------------------------------------------------------------------------------
def test_provider_mask_names_domains_community_and_all():
    """A domain names its service; community names every organisation; all names everyone; [] no one."""
    assert provider_mask([], DOMAINS, N).tolist() == [False] * N
    assert np.flatnonzero(provider_mask(["money"], DOMAINS, N)).tolist() == [MONEY]
    assert np.flatnonzero(provider_mask(["safety", "health"], DOMAINS, N)).tolist() == [HEALTH, SAFETY]
    assert np.flatnonzero(provider_mask(["community"], DOMAINS, N)).tolist() == [6, 7, 8]
    assert np.flatnonzero(provider_mask(["housing", "community"], DOMAINS, N)).tolist() == [HOUSING, 6, 7, 8]
    assert provider_mask(["all"], DOMAINS, N).tolist() == [True] * N
    assert provider_mask(["all"], DOMAINS, N).dtype == bool


# --- Route: start, reform, permission -----------------------------------------------------------------------
def test_route_starts_in_infrastructure_before_with_nobody_adopted(small_params):
    """Before start: every part is `before`, nothing reformed, nobody adopted or licensed."""
    params = small_params(scenario="whole_system")
    route = Route(params, DOMAINS, N)
    for part in INFRASTRUCTURE_PARTS:
        assert getattr(route, part) == getattr(params.infrastructure.before, part)
        assert getattr(route, part) is not getattr(params.infrastructure.after, part)
    assert route.reformed_share() == 0.0
    assert not route.started and not route.practice.adopted.any() and not route.licensed.any()
    assert not route.permitted().any()


def test_start_adopts_first_adopters_only_where_open_and_licenses_them(small_params):
    """start(): open first adopters adopt (closed ones do not) and every first adopter is licensed."""
    params = small_params(scenario="whole_system")
    route = Route(params, DOMAINS, N)
    open_mask = np.ones(N, dtype=bool)
    open_mask[[WORK, 7]] = False
    route.start(open_mask, 52)
    assert route.started
    np.testing.assert_array_equal(route.practice.adopted, open_mask)
    assert route.licensed.all()
    assert_levers_follow(route.practice, params.practice)


def test_start_of_a_prototype_adopts_and_licenses_only_the_prototype(small_params):
    """prototype: money adopts and is licensed; licensed names add licences without adoption."""
    params = small_params(scenario="prototype", scenario__licensed="[housing]")
    route = Route(params, DOMAINS, N)
    route.start(np.ones(N, dtype=bool), 52)
    assert np.flatnonzero(route.practice.adopted).tolist() == [MONEY]
    assert np.flatnonzero(route.licensed).tolist() == [HOUSING, MONEY]
    closed_prototype = Route(params, DOMAINS, N)
    open_mask = np.ones(N, dtype=bool)
    open_mask[MONEY] = False
    closed_prototype.start(open_mask, 52)
    assert not closed_prototype.practice.adopted.any()
    assert np.flatnonzero(closed_prototype.licensed).tolist() == [HOUSING, MONEY]


@pytest.mark.parametrize(("scenario", "due"), [
    ("prototype", {0: [], 1: [], 3: ["commissioning", "accountability", "staff_development"],
                   5: ["funding"]}),
    ("whole_place", {0: [], 1: ["staff_development"], 3: ["commissioning", "accountability", "funding"]}),
    ("whole_system", {0: list(INFRASTRUCTURE_PARTS), 1: []}),
    ("silo", {0: [], 1: [], 3: [], 5: []}),
])
def test_reforms_due_are_the_parts_reformed_in_that_year(small_params, scenario, due):
    """reforms_due(year) lists exactly the parts whose scenario.reform year equals year."""
    route = Route(small_params(scenario=scenario), DOMAINS, N)
    for year, parts in due.items():
        assert route.reforms_due(year) == parts, year


def test_reform_switches_one_part_to_after_and_counts_it(small_params):
    """reform(part) puts infrastructure.after in force for that part only; reformed_share counts parts."""
    params = small_params(scenario="prototype")
    route = Route(params, DOMAINS, N)
    route.reform("funding")
    assert route.funding == params.infrastructure.after.funding
    assert route.funding.pooled_budget and not params.infrastructure.before.funding.pooled_budget
    for part in ("commissioning", "accountability", "staff_development"):
        assert getattr(route, part) == getattr(params.infrastructure.before, part)
    assert route.reformed_share() == 0.25
    route.reform("accountability")
    assert route.accountability.learning_signal == "outcomes"
    assert route.reformed_share() == 0.5
    route.reform("accountability")  # reforming a part twice counts it once
    assert route.reformed_share() == 0.5
    route.reform("commissioning")
    route.reform("staff_development")
    assert route.reformed_share() == 1.0
    for part in INFRASTRUCTURE_PARTS:
        assert getattr(route, part) == getattr(params.infrastructure.after, part)


def test_permitted_is_licensed_until_commissioning_permits_everyone(small_params):
    """permitted() is the licensed providers (a copy) until commissioning is reformed, then everyone."""
    route = Route(small_params(scenario="prototype"), DOMAINS, N)
    assert not route.permitted().any()
    route.start(np.ones(N, dtype=bool), 52)
    assert np.flatnonzero(route.permitted()).tolist() == [MONEY]
    route.permitted()[:] = True  # a copy: the caller cannot grant licences
    assert np.flatnonzero(route.permitted()).tolist() == [MONEY]
    route.reform("accountability")
    assert np.flatnonzero(route.permitted()).tolist() == [MONEY]
    route.reform("commissioning")
    assert route.permitted().all()
    assert np.flatnonzero(route.licensed).tolist() == [MONEY]


def test_record_closures_counts_closures_and_good_ones_per_provider(small_params):
    """record_closures adds each closure to its provider's count, and good ones to the good count."""
    route = Route(small_params(), DOMAINS, N)
    route.record_closures(np.array([MONEY, MONEY, 7, MONEY]), np.array([True, False, True, True]))
    route.record_closures(np.array([7]), np.array([False]))
    assert route.closures_quarter.tolist() == [0, 0, 0, 3, 0, 0, 0, 2, 0]
    assert route.good_closures_quarter.tolist() == [0, 0, 0, 2, 0, 0, 0, 1, 0]


# --- Route: spread ------------------------------------------------------------------------------------------
# First adopters money and mental health; everyone is licensed except safety. Threshold 0.5. Results not seen
# (results_weight 0: every open provider's visible results are 1), so exposure is the sum of ties to adopters.
SPREAD = {"scenario": "prototype", "scenario__first_adopters": "[money,mental_health]",
          "scenario__licensed": "[health,mental_health,housing,money,work,community]",
          "scenario__p_leader_adoption": 0, "uncertainty__p_slip_back": 0,
          "uncertainty__adoption_threshold": 0.5,
          "relations__results_weight": 0}


def spread_ties() -> np.ndarray:
    """Symmetric ties: health 0.3 to each adopter (reinforcement), housing exactly 0.5 to money, work 0.3 to
    money alone, safety (not licensed) 0.9 to money, organisation 6 0.9 to housing (not yet an adopter)."""
    ties = np.zeros((N, N))
    for a, b, w in [(HEALTH, MONEY, 0.3), (HEALTH, MENTAL, 0.3), (HOUSING, MONEY, 0.5), (WORK, MONEY, 0.3),
                    (SAFETY, MONEY, 0.9), (6, HOUSING, 0.9)]:
        ties[a, b] = ties[b, a] = w
    return ties


def test_spread_before_start_changes_nothing_but_resets_closures(small_params):
    """Before start, spread adopts no one, draws nothing, returns (0, 0) and resets the closure counts."""
    eager = {**SPREAD, "scenario__p_leader_adoption": 1.0, "uncertainty__p_slip_back": 1.0}
    route = Route(small_params(**eager), DOMAINS, N)
    route.practice.set(np.isin(np.arange(N), [MONEY]), week=0)  # an adopter is left alone before the route starts
    route.record_closures(np.array([MONEY, 6]), np.array([True, False]))
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert route.spread(np.ones((N, N)), np.ones(N, dtype=bool), rng, 65) == (0, 0)
    assert np.flatnonzero(route.practice.adopted).tolist() == [MONEY]
    assert rng.bit_generator.state == state
    assert not route.closures_quarter.any() and not route.good_closures_quarter.any()


def test_spread_adopts_exactly_the_permitted_providers_whose_exposure_reaches_the_threshold(small_params):
    """After start, exactly the permitted open providers with exposure >= threshold adopt, each quarter."""
    # health (0.3 + 0.3) and housing (exactly 0.5) adopt; work (0.3), unlicensed safety and organisation 6
    # (exposed only to housing, which adopts this quarter) do not; the quarter's closure counts are reset
    route = Route(small_params(**SPREAD), DOMAINS, N)
    route.start(np.ones(N, dtype=bool), 52)
    assert np.flatnonzero(route.practice.adopted).tolist() == [MENTAL, MONEY]
    route.record_closures(np.array([MONEY, HOUSING]), np.array([True, True]))
    route.record_closures(np.array([MONEY, HOUSING]), np.array([True, True]))
    ties = spread_ties()
    rng = np.random.default_rng(0)
    assert route.spread(ties, np.ones(N, dtype=bool), rng, 65) == (2, 0)
    assert np.flatnonzero(route.practice.adopted).tolist() == [HEALTH, MENTAL, HOUSING, MONEY]
    assert not route.closures_quarter.any() and not route.good_closures_quarter.any()
    assert_levers_follow(route.practice, route.params.practice)
    # next quarter, housing is an adopter: organisation 6 (0.9 to housing) adopts; safety still may not
    assert route.spread(ties, np.ones(N, dtype=bool), rng, 65) == (1, 0)
    assert np.flatnonzero(route.practice.adopted).tolist() == [HEALTH, MENTAL, HOUSING, MONEY, 6]
    # once commissioning permits everyone, safety (0.9 to money) adopts too
    route.reform("commissioning")
    assert route.spread(ties, np.ones(N, dtype=bool), rng, 65) == (1, 0)
    assert np.flatnonzero(route.practice.adopted).tolist() == [HEALTH, MENTAL, HOUSING, MONEY, SAFETY, 6]
    assert route.spread(ties, np.ones(N, dtype=bool), rng, 65) == (0, 0)


def test_spread_ignores_closed_providers(small_params):
    """A closed adopter exposes no one (health stays, 0.3 short) and a closed provider does not adopt."""
    route = Route(small_params(**SPREAD), DOMAINS, N)
    route.start(np.ones(N, dtype=bool), 52)
    open_mask = np.ones(N, dtype=bool)
    open_mask[[MENTAL, HOUSING]] = False
    assert route.spread(spread_ties(), open_mask, np.random.default_rng(0), 65) == (0, 0)
    assert np.flatnonzero(route.practice.adopted).tolist() == [MONEY]


def test_spread_weighs_exposure_by_visible_results(small_params):
    """An adopter whose closures went badly this quarter is not copied at results_weight 1, but is at 0."""
    adopted = {}
    for weight in (0.0, 1.0):
        route = Route(small_params(**{**SPREAD, "relations__results_weight": weight}), DOMAINS, N)
        route.start(np.ones(N, dtype=bool), 52)
        route.record_closures(np.full(10, MONEY), np.zeros(10, dtype=bool))  # 0 of 10 closed well
        route.spread(spread_ties(), np.ones(N, dtype=bool), np.random.default_rng(0), 65)
        adopted[weight] = bool(route.practice.adopted[HOUSING])
    assert adopted == {0.0: True, 1.0: False}


def test_spread_slips_back_and_leads_by_probability(small_params):
    """p_slip_back 1 sends every adopter back; p_leader_adoption 1 makes every permitted provider adopt."""
    route = Route(small_params(**{**SPREAD, "uncertainty__p_slip_back": 1.0}), DOMAINS, N)
    route.start(np.ones(N, dtype=bool), 52)
    assert route.spread(np.zeros((N, N)), np.ones(N, dtype=bool), np.random.default_rng(0), 65) == (0, 2)
    assert not route.practice.adopted.any()
    route = Route(small_params(**{**SPREAD, "scenario__p_leader_adoption": 1.0}), DOMAINS, N)
    route.start(np.ones(N, dtype=bool), 52)
    assert route.spread(np.zeros((N, N)), np.ones(N, dtype=bool), np.random.default_rng(0), 65) == (N - 3, 0)
    assert route.practice.adopted.tolist() == [i != SAFETY for i in range(N)]


# --- in the model -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [
    {"scenario": "whole_system"},
    {"scenario": "behaviours_without_infrastructure", "uncertainty__p_slip_back": 0.5},
], ids=["whole_system", "slipping_back"])
def test_model_levers_equal_what_adopted_implies_every_week(small_params, overrides):
    """Stepping a model through the burn-in and a year, the practice levers match adopted after every week."""
    params = small_params(residents=800, years=1, **overrides)
    model = PlaceModel(params, resident_agents=False)
    assert model.practice is model.route.practice
    patterns = set()
    for _ in range(model.n_weeks):
        model.step()
        assert_levers_follow(model.practice, params.practice)
        patterns.add(model.practice.adopted.tobytes())
    assert model.route.started
    assert len(patterns) >= 2  # the check saw adopted change (the burn-in's nobody, then adopters)
    assert model.practice.adopted.any()


def test_since_records_when_each_provider_started_the_new_way(small_params):
    """Practice.since: the week a provider started the new way, kept while it stays, -1 once it reverts; a
    provider that re-adopts starts again (and pays the cost of change again, ODD 7.16)."""
    practice = Practice(small_params().practice, 4)
    assert practice.since.tolist() == [-1, -1, -1, -1]
    practice.set(np.array([True, True, False, False]), week=52)
    assert practice.since.tolist() == [52, 52, -1, -1]
    practice.set(np.array([True, True, True, False]), week=65)
    assert practice.since.tolist() == [52, 52, 65, -1]
    practice.revert([0])
    assert practice.since.tolist() == [-1, 52, 65, -1]
    practice.set(np.array([True, True, True, False]), week=78)
    assert practice.since.tolist() == [78, 52, 65, -1]
    with pytest.raises(ValueError):
        practice.since[0] = 3


def test_the_extent_of_change_counts_the_components_that_differ(small_params):
    """The default new way differs in all seven components; with some set back to the usual value, staff retrain
    for fewer of them (and for none when the two ways are the same)."""
    from sim.route import PRACTICE_COMPONENTS, change_extent

    ways = small_params().practice
    assert change_extent(ways) == 1.0
    partial = small_params(practice__new__no_wrong_door=False, practice__new__waiting_order="arrival").practice
    assert change_extent(partial) == pytest.approx(5 / 7)
    same = dataclasses.replace(ways, new=ways.usual)
    assert change_extent(same) == 0.0 and len(PRACTICE_COMPONENTS) == 7
