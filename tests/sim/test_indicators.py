"""Observation (sim/indicators.py, docs/ODD.md 7.11) and the outcome registry (sim/outcomes.py): observing a
model writes nothing and draws nothing; summarise does the documented arithmetic over the evaluated weeks
only; the summary has exactly the registered outcomes.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pandas as pd
import pytest

from sim import PlaceModel
from sim.behaviours import score_behaviours
from sim.indicators import (
    BEHAVIOUR_KEYS,
    NEIGHBOURHOOD_COLUMNS,
    WEEKLY_COLUMNS,
    month_counts,
    monthly,
    neighbourhood_month,
    observe_week,
    summarise,
)
from sim.outcomes import HIGHER, LOWER, NEITHER, OUTCOMES
from sim.rules.failure import FAILURE_KINDS

SMALL = ("residents=800", "years=1", "burn_in_years=1", "seed=1")


# --- (a) observation is read-only ---------------------------------------------------------------------------
def state_of(model: PlaceModel) -> dict[str, object]:
    """Every ndarray attribute of the model, its residents' and providers' tables, its route, practice and place
    (the object and a copy), the tally and the random sources' states."""
    arrays = {}
    for owner, obj in (("model", model), ("residents", model.residents), ("providers", model.providers),
                       ("route", model.route), ("practice", model.practice), ("place", model.place)):
        for name, value in vars(obj).items():
            if isinstance(value, np.ndarray):
                arrays[f"{owner}.{name}"] = (value, value.copy())
    return {
        "arrays": arrays,
        "tally": dict(model.tally),
        "behaviour_scores": dict(model.behaviour_scores),
        "rng": model.rng.bit_generator.state,
        "random": model.random.getstate(),
        "steps": model.steps,
        "n_rows": len(model.neighbourhood_rows),
    }


def observe_everything(model: PlaceModel) -> None:
    observe_week(model)
    neighbourhood_month(model)
    counts = month_counts(model)
    score_behaviours(model, counts)
    model.summary()
    monthly(model.timeseries())
    model.neighbourhoods()


@pytest.mark.parametrize("weeks", [0, 3, 13, 53, 70])
def test_observation_writes_nothing_and_draws_nothing(compose, weeks):
    """Observing leaves every model, route, practice and place array byte-identical and draws no number."""
    model = PlaceModel(compose(*SMALL, "scenario=whole_system"), resident_agents=False)
    for _ in range(weeks):
        model.step()
    before = state_of(model)
    assert len(before["arrays"]) > 40
    observe_everything(model)
    observe_everything(model)
    after = state_of(model)
    assert after["arrays"].keys() == before["arrays"].keys()
    for name, (obj, copy) in before["arrays"].items():
        now = after["arrays"][name][0]
        assert now is obj, f"{name} was replaced"
        assert now.dtype == copy.dtype and now.shape == copy.shape, name
        assert now.tobytes() == copy.tobytes(), f"{name} was written"
    for key in ("tally", "behaviour_scores", "rng", "random", "steps", "n_rows"):
        assert after[key] == before[key], key


def test_observation_is_repeatable(compose):
    """Observing twice gives the same numbers (nothing observed feeds back into the next observation)."""
    model = PlaceModel(compose(*SMALL), resident_agents=False)
    for _ in range(30):
        model.step()
    np.testing.assert_array_equal(observe_week(model), observe_week(model))
    np.testing.assert_array_equal(neighbourhood_month(model), neighbourhood_month(model))
    assert month_counts(model) == month_counts(model)
    first, second = model.summary(), model.summary()
    assert first.keys() == second.keys()
    for key in first:
        assert first[key] == second[key] or (math.isnan(first[key]) and math.isnan(second[key])), key


# --- (b) summarise on a hand-built table --------------------------------------------------------------------
N_RESIDENTS = 500
BURN_IN_WEEKS, EVAL_WEEKS = 52, 104  # one burn-in year, two evaluated years


def stand_in() -> types.SimpleNamespace:
    world = types.SimpleNamespace(budget_per_resident=80.0, budget_change_per_year=0.0)
    return types.SimpleNamespace(n_residents=N_RESIDENTS,
                                 params=types.SimpleNamespace(burn_in_years=1, uncertainty=world))


def weekly_table() -> pd.DataFrame:
    """The model's weekly columns, all 0, with week and year; burn-in rows carry large counts."""
    rows = BURN_IN_WEEKS + EVAL_WEEKS
    frame = pd.DataFrame(0.0, index=range(rows), columns=list(WEEKLY_COLUMNS))
    week = np.arange(1, rows + 1)
    frame.insert(0, "week", week)
    frame.insert(1, "year", (week - 1) // 52 - 1)
    burn = frame["year"] < 0
    for column, value in [("contacts_failure", 1000), ("crises", 500), ("refusals", 90), ("triaged", 100),
                          ("admissions", 10), ("wait_weeks_admitted", 1000), ("signposts", 50),
                          ("warm_handoffs", 0), ("lost_referrals", 50), ("bounces", 70),
                          ("spend_emergency", 1e6),
                          ("mean_wellbeing", 0.9), ("unmet_need", 1.0), ("community_orgs_open", 9),
                          (f"failure_{FAILURE_KINDS[0]}", 1000), (BEHAVIOUR_KEYS[0], 10.0)]:
        frame.loc[burn, column] = value
    return frame


def evaluated(frame: pd.DataFrame) -> pd.DataFrame:
    """Set the evaluated weeks' values the expectations below are worked out from."""
    ev = BURN_IN_WEEKS  # the first evaluated row
    cells = {
        (ev, "contacts_value"): 30, (ev, "contacts_failure"): 10,
        (ev, f"failure_{FAILURE_KINDS[0]}"): 4, (ev, f"failure_{FAILURE_KINDS[1]}"): 6,
        (ev + 8, "crises"): 4, (ev + 100, "crises"): 2,
        (ev + 1, "refusals"): 3, (ev + 2, "triaged"): 12,
        (ev + 3, "wait_weeks_admitted"): 40, (ev + 60, "admissions"): 8,
        (ev + 4, "signposts"): 5, (ev + 5, "warm_handoffs"): 3, (ev + 70, "lost_referrals"): 2,
        (ev + 6, "spend_support"): 1000, (ev + 7, "spend_community"): 200, (ev + 9, "spend_emergency"): 800,
        (ev + 10, "bounces"): 4,
    }
    for (row, column), value in cells.items():
        frame.loc[row, column] = value
    later = frame["year"] >= 0
    frame.loc[later, "mean_wellbeing"] = 0.5
    frame.loc[later, "unmet_need"] = 0.2
    frame.loc[later, "community_orgs_open"] = 5
    frame.loc[frame.index[-1], "community_orgs_open"] = 3
    frame.loc[later, BEHAVIOUR_KEYS[0]] = np.where(np.arange(later.sum()) % 2, 4.0, 6.0)
    return frame


def neighbourhood_table() -> pd.DataFrame:
    """Three neighbourhoods over 13 burn-in and 26 evaluated months: one in the least deprived fifth
    (wellbeing 0.8), two in the most deprived (0.4 for 100 residents, 0.7 for 300); burn-in months 0.1."""
    rows = []
    for month in range(1, 40):
        burn = month <= 13
        for k, (quintile, residents, wellbeing) in enumerate([(0, 100, 0.8), (4, 100, 0.4), (4, 300, 0.7)]):
            row = dict.fromkeys(NEIGHBOURHOOD_COLUMNS, 0.0)
            row.update(month=month, neighbourhood=k, code=f"N{k}", residents=residents,
                       deprivation_quintile=quintile, mean_wellbeing=0.1 if burn else wellbeing)
            rows.append(row)
    return pd.DataFrame(rows)


def test_summarise_does_the_documented_arithmetic_over_evaluated_weeks():
    """Every ratio and rate of the summary against hand arithmetic: 500 residents, two evaluated years."""
    out = summarise(evaluated(weekly_table()), neighbourhood_table(), stand_in())
    expected = {
        "failure_demand_share": 10 / 40,
        "crises_per_1000_per_year": 6 * 1000 / (500 * 2),
        "mean_wait_weeks": 40 / 8,
        "refusal_rate": 3 / 12,
        "total_cost": 2000 / 2,
        "prevention_share_of_spend": 1200 / 2000,
        "lost_referral_share": 2 / 8,
        "warm_handoff_share": 3 / 8,
        "contacts_per_1000_per_year": 40 * 1000 / (500 * 2),
        "bounces_per_1000_per_year": 4 * 1000 / (500 * 2),
        "cost_per_wellbeing_point": (1000 / 500) / (0.5 * 100),
        "mean_wellbeing": 0.5,
        "unmet_need": 0.2,
        "community_orgs_open": 3,
        "wellbeing_gap_deprived": 0.8 - (0.4 * 100 + 0.7 * 300) / 400,
        f"failure_{FAILURE_KINDS[0]}_share": 4 / 40,
        f"failure_{FAILURE_KINDS[1]}_share": 6 / 40,
        BEHAVIOUR_KEYS[0]: 5.0,
    }
    for name, value in expected.items():
        assert out[name] == pytest.approx(value), name
    for kind in FAILURE_KINDS[2:]:
        assert out[f"failure_{kind}_share"] == 0.0


def test_summarise_excludes_the_burn_in():
    """Changing the burn-in rows changes nothing: the same evaluated weeks give the same summary."""
    with_burn_in = summarise(evaluated(weekly_table()), neighbourhood_table(), stand_in())
    table = evaluated(weekly_table())
    burn = table["year"] < 0
    table.loc[burn, list(WEEKLY_COLUMNS)] = 0.0  # a quiet burn-in instead of a busy one
    quiet = summarise(table, neighbourhood_table(), stand_in())
    assert list(with_burn_in) == list(quiet)
    for name in with_burn_in:
        a, b = with_burn_in[name], quiet[name]
        assert a == pytest.approx(b, nan_ok=True), name
    assert not math.isnan(with_burn_in["mean_wait_weeks"])


def test_an_undefined_ratio_is_nan_and_a_zero_rate_is_zero():
    """Ratios with a zero evaluated denominator are NaN (burn-in counts do not count); zero rates are 0."""
    table = weekly_table()
    table.loc[table["year"] >= 0, "mean_wellbeing"] = 0.5
    out = summarise(table, neighbourhood_table(), stand_in())
    undefined = ["failure_demand_share", "refusal_rate", "mean_wait_weeks", "lost_referral_share",
                 "warm_handoff_share", "prevention_share_of_spend",
                 *(f"failure_{kind}_share" for kind in FAILURE_KINDS)]
    for name in undefined:
        assert math.isnan(out[name]), name
    for name in ("crises_per_1000_per_year", "contacts_per_1000_per_year", "bounces_per_1000_per_year",
                 "total_cost", "cost_per_wellbeing_point"):
        assert out[name] == 0.0, name


# --- (c) the summary is the outcome registry ----------------------------------------------------------------
@pytest.fixture(scope="module")
def summary(compose):
    model = PlaceModel(compose(*SMALL), resident_agents=False)
    model.run()
    return model.summary()


def test_summary_keys_are_the_registered_outcomes_in_order(summary):
    """model.summary() has exactly the keys of OUTCOMES, in the registry's order, each a float."""
    assert list(summary) == list(OUTCOMES)
    assert all(isinstance(value, float) for value in summary.values())
    assert math.isfinite(summary["mean_wellbeing"]) and 0 < summary["mean_wellbeing"] < 1


def test_every_outcome_has_a_direction_and_a_working_format():
    """Each registered outcome is keyed by its name and has a better direction and a format that takes 0.5."""
    assert len(OUTCOMES) > 20
    for name, outcome in OUTCOMES.items():
        assert outcome.name == name
        assert outcome.better in (HIGHER, LOWER, NEITHER), name
        text = outcome.format(0.5)
        assert isinstance(text, str) and text and text == format(0.5, outcome.fmt), name
        assert outcome.format(float("nan")) == "n/a" and outcome.format(None) == "n/a", name


def test_calibration_outcomes_are_the_documented_arithmetic():
    from sim.indicators import calibration_outcomes, trend

    assert trend(np.array([10.0, 10.0, 10.0])) == pytest.approx(0.0)
    assert trend(np.array([np.e - 1, np.e**2 - 1])) == pytest.approx(np.e - 1)  # log1p doubles: x e over one year
    assert np.isnan(trend(np.array([5.0])))
    frame = weekly_table()
    ev = frame[frame["year"] >= 0].copy()
    budget = 80.0 * N_RESIDENTS
    ev.loc[ev["year"] == 0, "spend_support"] = budget / 52  # year 0 spends its budget exactly
    ev.loc[ev["year"] == 1, "spend_support"] = 1.1 * budget / 52  # year 1 overspends by 10 %
    ev["hard_edges_2"], ev["hard_edges_3"] = 0.004, 0.001
    out = calibration_outcomes(ev, stand_in())
    assert out["budget_deviation"] == pytest.approx(0.1)
    assert out["hard_edges_share"] == pytest.approx(0.004) and out["hard_edges_3_of_2"] == pytest.approx(0.25)
    assert np.isnan(out["prevention_spend_change_5y"]) and np.isnan(out["crisis_spend_change_5y"])  # 2 years only
