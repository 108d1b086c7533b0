"""Behaviour: the directions the model claims (docs/ODD.md 1, "patterns"), tested on replicate means.

Each claim is a paired difference whole_system - silo over replicate seeds (common random numbers, exactly as
``experiments.compare`` runs them: the same planning, the same engine, the same seeds):

    a. baseline: whole-system working raises mean wellbeing;
    b. need coupling: with needs that do not interact (need_coupling 0) the advantage shrinks, in wellbeing
       and in crises;
    c. relationships: when ties cannot form, warm hand-offs and working relationships vanish;
    d. coordination: when joint work costs 10 staff units per partner, whole-system working loses on failure
       demand and waits and keeps little of its wellbeing advantage (what it keeps comes from the parts that
       need no joint work: a proportionate first response and triage by need); without those two it loses on
       wellbeing too;
    e. silo failure demand lies in Seddon's band [0.40, 0.80] of contacts;
    f. place matters: in silo, the least deprived fifth of neighbourhoods is better off than the most
       deprived fifth.

The fast versions run the default world (10,000 residents, 1 + 10 years) on 3 seeds; the slow ones on 10 seeds
and also require the 95 % confidence interval of the paired difference to exclude zero. Sizes were calibrated
on 12 seeds: at this size every claim held on every seed, with margins of several standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from experiments.engine.config import EngineSettings
from experiments.engine.plan import Plan, plan_runs
from experiments.engine.seeds import replicate_seeds
from experiments.engine.study import run_study
from experiments.stats.comparison import confidence_interval

WORLD = ["residents=10000", "years=10", "burn_in_years=1"]
BASE_SEED = 20261122
SETS = {
    "baseline": [],
    "no_coupling": ["uncertainty.need_coupling=0"],
    "costly_coordination": ["uncertainty.coordination_cost=10"],
    # the new way as it was before a proportionate first response and triage by need (issue 10)
    "costly_coordination_joint_work_only": ["uncertainty.coordination_cost=10",
                                            "practice.new.proportionate_response=false",
                                            "practice.new.waiting_order=arrival"],
}
# Relationship claims are exact (zero), so one whole-system replicate is enough.
NO_TIES = {
    "no_ties_at_all": ["uncertainty.relationship_build_rate=0", "relations.initial_tie_strength=0"],
    "no_tie_building": ["uncertainty.relationship_build_rate=0"],
}


@dataclass
class Replicates:
    """One row per set, scenario and replicate (a study table)."""

    table: pd.DataFrame

    def values(self, name: str, scenario: str, outcome: str) -> np.ndarray:
        rows = self.table[(self.table["set"] == name) & (self.table["scenario"] == scenario)]
        return rows.sort_values("replicate")[outcome].to_numpy(dtype=float)

    def paired(self, name: str, outcome: str) -> np.ndarray:
        """whole_system - silo, replicate by replicate (the same seed in both)."""
        return self.values(name, "whole_system", outcome) - self.values(name, "silo", outcome)


def run_replicates(n_seeds: int, folder) -> Replicates:
    plans = [plan_runs([*WORLD, *extra], ["silo", "whole_system"], [{}], replicate_seeds(BASE_SEED, n_seeds),
                       labels={"set": name}) for name, extra in SETS.items()]
    plans += [plan_runs([*WORLD, *extra], ["whole_system"], [{}], replicate_seeds(BASE_SEED, 1), labels={"set": name})
              for name, extra in NO_TIES.items()]
    combined = Plan([s for p in plans for s in p.specs], [row for p in plans for row in p.index])
    run_study(folder, combined, EngineSettings(workers=2), "off", say=lambda *a: None)
    table = pd.read_parquet(folder / "table.parquet")
    assert (table["status"] == "ok").all()
    return Replicates(table)


@pytest.fixture(scope="module")
def fast(tmp_path_factory) -> Replicates:
    return run_replicates(3, tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> Replicates:
    return run_replicates(10, tmp_path_factory.mktemp("slow"))


def upper(values: np.ndarray) -> float:
    return confidence_interval(values, 0.95)[2]


def lower(values: np.ndarray) -> float:
    return confidence_interval(values, 0.95)[1]


# --- a. baseline --------------------------------------------------------------------------------------------
def test_whole_system_raises_wellbeing(fast):
    assert fast.paired("baseline", "mean_wellbeing").mean() > 0


@pytest.mark.slow
def test_whole_system_raises_wellbeing_beyond_noise(slow):
    assert lower(slow.paired("baseline", "mean_wellbeing")) > 0


# --- b. need coupling ---------------------------------------------------------------------------------------
@pytest.mark.xfail(strict=True, reason=(
    "MODEL.md states it; it held at the earlier hand-set point (coupling 0.04) but not at the default point, a "
    "plausible world whose coupling is nearly 0 (0.00325): there the wellbeing gain is +0.0044 without coupling and "
    "+0.0020 at 0.05, +0.0020 at 0.1 (3 seeds, 10,000 residents), where crises rise to 90-200 per 1,000 a year and "
    "swamp both ways of working. Whether the direction holds across the plausible worlds is open (closing note of "
    "issue 16)"))
def test_advantage_shrinks_when_needs_do_not_interact(fast):
    baseline = fast.paired("baseline", "mean_wellbeing").mean()
    uncoupled = fast.paired("no_coupling", "mean_wellbeing").mean()
    assert uncoupled < baseline
    # crises: whole-system has fewer (a negative difference), and fewer fewer when needs interact
    assert fast.paired("baseline", "crises_per_1000_per_year").mean() < 0
    assert fast.paired("no_coupling", "crises_per_1000_per_year").mean() > \
        fast.paired("baseline", "crises_per_1000_per_year").mean()


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="as test_advantage_shrinks_when_needs_do_not_interact")
def test_advantage_shrinks_when_needs_do_not_interact_beyond_noise(slow):
    wellbeing = slow.paired("baseline", "mean_wellbeing") - slow.paired("no_coupling", "mean_wellbeing")
    outcome = "crises_per_1000_per_year"
    crises = slow.paired("no_coupling", outcome) - slow.paired("baseline", outcome)
    assert lower(wellbeing) > 0
    assert lower(crises) > 0


# --- c. relationships ---------------------------------------------------------------------------------------
def test_no_ties_no_warm_handoffs_no_working_relationships(fast):
    """Ties that start at 0 and cannot grow: whole-system working still runs, without its relational parts."""
    for outcome in ("warm_handoff_share", "collaboration_density", "mean_tie_strength"):
        assert fast.values("no_ties_at_all", "whole_system", outcome).tolist() == [0.0], outcome
    # the control: with relationships able to form, the same world does use them
    assert fast.values("baseline", "whole_system", "warm_handoff_share").min() > 0
    assert fast.values("baseline", "whole_system", "collaboration_density").min() > 0


def test_without_tie_building_no_working_relationships_form(fast):
    """relationship_build_rate 0, default starting ties: no pair ever reaches a working relationship."""
    assert fast.values("no_tie_building", "whole_system", "collaboration_density").tolist() == [0.0]


def test_without_tie_building_no_warm_handoffs(fast):
    assert fast.values("no_tie_building", "whole_system", "warm_handoff_share").tolist() == [0.0]


# --- d. coordination ----------------------------------------------------------------------------------------
def test_costly_coordination_removes_most_of_the_advantage_and_loses_on_waits(fast):
    """At the earlier hand-set point (5 seeds) the wellbeing advantage fell from +0.0098 to +0.0012, failure demand
    rose to 0.67 against silo's 0.53 and waits to 5.1 weeks against 2.4. At the default point (a plausible world
    whose silo already has failure demand 0.65: wrong doors are common there) costly coordination no longer raises
    failure demand above silo's (-0.004, 3 seeds: refusing no one still removes the refusals), so failure demand
    is not asserted; the advantage and the waits are."""
    baseline = fast.paired("baseline", "mean_wellbeing").mean()
    costly = fast.paired("costly_coordination", "mean_wellbeing").mean()
    assert costly <= 0.25 * baseline
    assert fast.paired("costly_coordination", "mean_wait_weeks").mean() > 0


def test_costly_coordination_reverses_the_advantage_of_joint_work_alone(fast):
    """Without the parts that need no joint work, costly coordination turns the wellbeing advantage negative
    (measured, 5 seeds: -0.0006)."""
    assert fast.paired("costly_coordination_joint_work_only", "mean_wellbeing").mean() < 0


@pytest.mark.slow
def test_costly_coordination_loses_beyond_noise(slow):
    assert lower(slow.paired("costly_coordination", "mean_wait_weeks")) > 0
    assert upper(slow.paired("costly_coordination", "mean_wellbeing")) < 0.25 * slow.paired(
        "baseline", "mean_wellbeing").mean()
    assert upper(slow.paired("costly_coordination_joint_work_only", "mean_wellbeing")) < 0


# --- e. silo failure demand ---------------------------------------------------------------------------------
def test_silo_failure_demand_in_seddons_band(fast):
    share = fast.values("baseline", "silo", "failure_demand_share")
    assert ((share >= 0.40) & (share <= 0.80)).all(), share


@pytest.mark.slow
def test_silo_failure_demand_in_seddons_band_every_seed(slow):
    share = slow.values("baseline", "silo", "failure_demand_share")
    assert ((share >= 0.40) & (share <= 0.80)).all(), share


# --- f. place matters ---------------------------------------------------------------------------------------
def test_deprived_neighbourhoods_fare_worse_in_silo(fast):
    gap = fast.values("baseline", "silo", "wellbeing_gap_deprived")
    assert (gap > 0).all(), gap


@pytest.mark.slow
def test_deprived_neighbourhoods_fare_worse_beyond_noise(slow):
    assert lower(slow.values("baseline", "silo", "wellbeing_gap_deprived")) > 0
