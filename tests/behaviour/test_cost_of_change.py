"""The cost of change (ODD 7.16) in the place: it slows what whole-system working buys, and when it is large
enough whole-system working falls behind silo first - the dip the report's routes table looks for."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.engine.config import EngineSettings
from experiments.engine.plan import Plan, plan_runs
from experiments.engine.seeds import replicate_seeds
from experiments.stats.comparison import dip

WORLD = ["residents=10000", "years=2", "burn_in_years=1"]
COSTS = {
    "none": ["uncertainty.change_time_share=0", "uncertainty.relet_disruption_share=0",
             "uncertainty.practice_ramp_weeks=0"],
    # far beyond the plausible ranges (conf/ranges.yaml): most staff time on change for a year, a four-year ramp
    "extreme": ["uncertainty.change_time_share=0.9", "relations.change_weeks=52",
                "uncertainty.practice_ramp_weeks=208"],
}


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict[str, pd.DataFrame]:
    from experiments.engine.study import read_series, run_study

    out = {}
    for name, extra in COSTS.items():
        plan = plan_runs([*WORLD, *extra], ["silo", "whole_system"], [{}], replicate_seeds(20261122, 6))
        folder = tmp_path_factory.mktemp(name)
        run_study(folder, Plan(plan.specs, plan.index), EngineSettings(workers=2), "off", series=True,
                  say=lambda *a: None)
        table = pd.read_parquet(folder / "table.parquet")
        series = read_series(folder, list(table["run_hash"]))
        out[name] = pd.concat([series[r.run_hash].assign(scenario=r.scenario, replicate=r.replicate)
                               for r in table.itertuples()], ignore_index=True)
    return out


def test_without_a_cost_of_change_there_is_no_dip(months):
    assert dip(months["none"], "whole_system", "silo", "mean_wellbeing", "higher") is None


def test_a_large_enough_cost_of_change_makes_a_dip(months):
    """At the default point (a plausible world; 6 seeds, 10,000 residents) the new way is behind silo from about
    month 6 to month 14 of the reform (mean -0.0006 to -0.0008 a month), clearly so in one month (-0.0006 at 0.7
    years); at the earlier hand-set point the dip was deeper (-0.0018, 10 months clearly behind)."""
    fall = dip(months["extreme"], "whole_system", "silo", "mean_wellbeing", "higher")
    assert fall is not None and fall["depth"] < 0 and fall["months_behind"] >= 1
