"""Statistics of a comparison (experiments/stats/comparison.py): intervals, paired differences, readings, and the
year each route overtakes the baseline, on hand-built data with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.stats.comparison import (
    confidence_interval,
    dip,
    overtaking,
    paired_differences,
    reading,
    summarise_runs,
    yearly_differences,
)


def test_confidence_interval_is_mean_plus_minus_t_s_over_root_n():
    """[1, 2, 3]: mean 2, s = 1, half-width t(0.975, 2) / sqrt(3); NaNs are dropped; one value has no interval."""
    mean, low, high = confidence_interval(np.array([1.0, 2.0, np.nan, 3.0]), 0.95)
    half = stats.t.ppf(0.975, 2) / np.sqrt(3)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    mean, low, high = confidence_interval(np.array([5.0, np.nan]), 0.95)
    assert mean == 5.0 and np.isnan(low) and np.isnan(high)
    assert reading("mean_wellbeing", mean - 4.0, low - 4.0, high - 4.0) == "not estimable"  # not "better"
    assert all(np.isnan(confidence_interval(np.array([np.nan]), 0.95)))


def test_paired_differences_pair_by_replicate():
    """Differences are taken seed by seed: an offset shared by both scenarios cancels exactly."""
    runs = pd.DataFrame({"scenario": ["a", "a", "a", "b", "b", "b"], "replicate": [0, 1, 2, 2, 0, 1],
                         "mean_wellbeing": [0.1, 0.5, 0.9, 0.92, 0.12, 0.52]})
    diff = paired_differences(runs, ["a", "b"], "a", 0.95, outcomes=["mean_wellbeing"]).iloc[0]
    assert diff["difference"] == pytest.approx(0.02)
    assert diff["ci_low"] == pytest.approx(0.02) and diff["ci_high"] == pytest.approx(0.02)
    assert diff["n_pairs"] == 3
    summary = summarise_runs(runs, ["a", "b"], 0.95, outcomes=["mean_wellbeing"])
    assert summary.set_index("scenario").loc["a", "mean"] == pytest.approx(0.5)


def test_reading_uses_the_registered_better_direction():
    assert reading("mean_wellbeing", 0.01, 0.005, 0.02) == "better"
    assert reading("mean_wait_weeks", 2.0, 1.0, 3.0) == "worse"
    assert reading("mean_wait_weeks", -2.0, -3.0, -1.0) == "better"
    assert reading("mean_wellbeing", 0.01, -0.01, 0.02) == "no clear difference"
    assert reading("contacts_per_1000_per_year", 5.0, 1.0, 9.0) == "higher"  # neither direction is better
    assert reading("mean_wellbeing", np.nan, 0.0, 1.0) == "not estimable"


def _months(differences: dict[int, float], column: str = "mean_wellbeing") -> pd.DataFrame:
    """Two replicates, 13 months a year; the route's value minus the baseline's in evaluated year y is
    ``differences[y]`` (the burn-in year, t <= 0, differs by a large amount that must be ignored)."""
    rows = []
    for replicate in (0, 1):
        for year in [0, *differences]:
            for month in range(13):
                t = (year - 1) + (month + 1) / 13 if year else -1 + (month + 1) / 13 - 1e-9
                base = 0.5 + 0.01 * replicate
                rows.append({"scenario": "base", "replicate": replicate, "t_years": t, column: base})
                rows.append({"scenario": "route", "replicate": replicate, "t_years": t,
                             column: base + (differences[year] if year else 1.0)})
    return pd.DataFrame(rows)


def test_yearly_differences_are_paired_means_per_evaluated_year():
    yearly = yearly_differences(_months({1: -0.02, 2: 0.01, 3: 0.03}), "route", "base", "mean_wellbeing")
    assert yearly.index.tolist() == [1, 2, 3]
    assert yearly["mean"].tolist() == pytest.approx([-0.02, 0.01, 0.03])


@pytest.mark.parametrize(("differences", "overtake", "dip"), [
    ({1: -0.02, 2: 0.01, 3: 0.03}, 2, (1, -0.02)),  # falls behind in year 1, ahead from year 2 on
    ({1: 0.01, 2: 0.02, 3: 0.03}, 1, None),  # ahead from the start: no dip
    ({1: 0.01, 2: -0.03, 3: 0.02, 4: 0.02}, 3, (2, -0.03)),  # ahead, behind, then ahead for good
    ({1: -0.01, 2: 0.02, 3: -0.005}, None, (1, -0.01)),  # behind at the end: never overtakes; worst year 1
])
def test_the_year_a_route_overtakes_for_good_and_its_dip(differences, overtake, dip):
    result = overtaking(_months(differences), "route", "base", "mean_wellbeing", "higher")
    assert result["overtake"] == overtake
    if dip is None:
        assert result["dip"] is None
    else:
        assert result["dip"] == (dip[0], pytest.approx(dip[1]))


def test_overtaking_on_a_lower_is_better_outcome():
    """Waiting: the route waits longer in years 1-2 (positive differences are worse), less from year 3."""
    result = overtaking(_months({1: 2.0, 2: 1.0, 3: -1.0}, "waiting"), "route", "base", "waiting", "lower")
    assert result["overtake"] == 3
    assert result["dip"] == (1, pytest.approx(2.0))


def _monthly(route_minus_base: list[list[float]]) -> pd.DataFrame:
    """Months 1..k after the burn-in; ``route_minus_base[r][i]`` is replicate r's difference in month i+1."""
    rows = []
    for replicate, diffs in enumerate(route_minus_base):
        for i, d in enumerate(diffs):
            t = (i + 1) / 13
            rows.append({"scenario": "base", "replicate": replicate, "t_years": t, "mean_wellbeing": 0.5})
            rows.append({"scenario": "route", "replicate": replicate, "t_years": t, "mean_wellbeing": 0.5 + d})
    return pd.DataFrame(rows)


def test_a_dip_is_the_months_clearly_behind():
    """Three replicates: months 1-2 clearly behind (all below 0), month 3 mixed (not clear), then ahead."""
    months = _monthly([[-0.010, -0.004, -0.002, 0.01], [-0.012, -0.005, 0.003, 0.01], [-0.011, -0.006, -0.001, 0.01]])
    result = dip(months, "route", "base", "mean_wellbeing", "higher")
    assert result["depth"] == pytest.approx(-0.011)
    assert result["at_years"] == pytest.approx(1 / 13)
    assert result["months_behind"] == 2 and result["last_behind_years"] == pytest.approx(2 / 13)


def test_no_clear_dip_when_the_route_is_never_clearly_behind():
    months = _monthly([[-0.001, 0.01], [0.002, 0.01], [-0.0005, 0.02]])
    assert dip(months, "route", "base", "mean_wellbeing", "higher") is None
    waiting = _monthly([[2.0, 1.5], [2.2, 1.4], [1.8, 1.6]]).rename(columns={"mean_wellbeing": "waiting"})
    worse = dip(waiting, "route", "base", "waiting", "lower")  # more waiting is worse: clearly behind twice
    assert worse["months_behind"] == 2 and worse["depth"] == pytest.approx(2.0)
