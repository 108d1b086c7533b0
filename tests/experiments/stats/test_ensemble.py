"""Statistics across plausible worlds, on tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.stats import ensemble


def runs_table(differences: list[float], seeds: int = 2) -> pd.DataFrame:
    """Crises per world: silo at 30, whole_system at 30 + the world's difference (+-1 by seed, cancelling)."""
    rows = []
    for world, d in enumerate(differences):
        for replicate in range(seeds):
            noise = 1.0 if replicate % 2 else -1.0
            rows.append({"scenario": "silo", "world": world, "replicate": replicate,
                         "crises_per_1000_per_year": 30.0 + noise, "mean_wellbeing": 0.8})
            rows.append({"scenario": "whole_system", "world": world, "replicate": replicate,
                         "crises_per_1000_per_year": 30.0 + d + noise, "mean_wellbeing": 0.8 - d / 1000})
    return pd.DataFrame(rows)


def test_share_of_worlds_better_worst_world_and_interval():
    runs = runs_table([-5.0, -3.0, -1.0, 2.0, -4.0])
    table = ensemble.ensemble_differences(runs, ["silo", "whole_system"], "silo", 0.95,
                                          ["crises_per_1000_per_year", "mean_wellbeing"]).set_index("outcome")
    crises = table.loc["crises_per_1000_per_year"]
    assert crises["share_worlds_better"] == pytest.approx(0.8)
    assert crises["worst_world"] == 3 and crises["worst_world_difference"] == pytest.approx(2.0)
    assert crises["difference"] == pytest.approx(-2.2)
    assert crises["share_low"] < 0.8 < crises["share_high"] <= 1.0
    wellbeing = table.loc["mean_wellbeing"]  # higher is better: the same worlds win
    assert wellbeing["share_worlds_better"] == pytest.approx(0.8) and wellbeing["worst_world"] == 3


def test_wilson_interval_narrows_with_more_worlds():
    low_small, high_small = ensemble.wilson(8, 10, 0.95)
    low_big, high_big = ensemble.wilson(80, 100, 0.95)
    assert high_big - low_big < high_small - low_small
    assert ensemble.wilson(10, 10, 0.95)[1] == pytest.approx(1.0)


def months_table(extra_by_year: dict[int, list[float]]) -> pd.DataFrame:
    """One month per evaluated year per world; the scenario spends ``extra`` more than silo that year."""
    rows = []
    for world, extras in extra_by_year.items():
        for year, extra in enumerate(extras, start=1):
            for scenario, spend in (("silo", 100.0), ("whole_system", 100.0 + extra)):
                rows.append({"world": world, "scenario": scenario, "replicate": 0, "t_years": year - 0.5,
                             "spend_support": spend, "spend_community": 0.0, "spend_emergency": 0.0})
    return pd.DataFrame(rows)


def test_payback_year():
    months = months_table({0: [-1, -1, -1], 1: [10, -4, -8], 2: [10, 10, -1], 3: [5, -10, 6]})
    table = ensemble.payback(months, "whole_system", "silo").set_index("world")
    assert table.loc[0, "cheaper_throughout"] and table.loc[0, "payback_year"] == 0
    assert table.loc[1, "payback_year"] == 3  # cumulative 10, 6, -2: paid back at the end of year 3
    assert np.isnan(table.loc[2, "payback_year"])
    assert np.isnan(table.loc[3, "payback_year"])  # 5, -5, +1: back above zero at the end
