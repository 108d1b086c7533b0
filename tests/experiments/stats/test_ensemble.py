"""Statistics across plausible worlds, on tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.stats import ensemble


def runs_table(per_seed: dict[int, list[float]]) -> pd.DataFrame:
    """Crises per world and seed: silo at 30 plus a large seed effect shared by both scenarios (common random
    numbers), whole_system at silo + the planted difference for that seed. Wellbeing moves the opposite way
    (higher is better), so the same worlds win on both."""
    rows = []
    for world, differences in per_seed.items():
        for replicate, d in enumerate(differences):
            shared = 10.0 * np.sin(3.0 * world + replicate)  # cancels in the pairing, not across seeds
            rows.append({"scenario": "silo", "world": world, "replicate": replicate,
                         "crises_per_1000_per_year": 30.0 + shared, "mean_wellbeing": 0.8 + shared / 100})
            rows.append({"scenario": "whole_system", "world": world, "replicate": replicate,
                         "crises_per_1000_per_year": 30.0 + shared + d,
                         "mean_wellbeing": 0.8 + shared / 100 - d / 1000})
    return pd.DataFrame(rows)


PLANTED = {
    0: [-5.0, -5.2, -4.9],  # clearly lower crises: better
    1: [4.0, 4.3, 3.8],  # clearly higher: worse
    2: [0.0, 0.0, 0.0],  # exactly no difference: never better or worse
    3: [1.0, -0.6, 0.3],  # pure noise around zero: not resolved
    4: [-5.0],  # one seed: no interval, not resolved however large
    5: [-0.20, -0.21, -0.19],  # small but consistent: better
    6: [-3.0, 1.0],  # two seeds whose mean has the better sign: not resolved
}
VERDICTS = {0: "better", 1: "worse", 2: "not resolved", 3: "not resolved", 4: "not resolved", 5: "better",
            6: "not resolved"}


def test_each_planted_world_gets_its_verdict_and_t_interval():
    runs = runs_table(PLANTED)
    table = ensemble.world_verdicts(runs, ["silo", "whole_system"], "silo", 0.95,
                                    ["crises_per_1000_per_year", "mean_wellbeing"])
    crises = table[table["outcome"] == "crises_per_1000_per_year"].set_index("world")
    assert crises["verdict"].to_dict() == VERDICTS
    wellbeing = table[table["outcome"] == "mean_wellbeing"].set_index("world")
    assert wellbeing["verdict"].to_dict() == VERDICTS  # higher is better there: the same worlds win
    for world, d in PLANTED.items():
        d = np.array(d)
        assert crises.loc[world, "seeds"] == len(d)
        assert crises.loc[world, "difference"] == pytest.approx(d.mean(), abs=1e-9)
        if len(d) < 2:
            assert np.isnan(crises.loc[world, "ci_low"]) and np.isnan(crises.loc[world, "ci_high"])
            continue
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        assert crises.loc[world, "ci_low"] == pytest.approx(d.mean() - half, abs=1e-9)
        assert crises.loc[world, "ci_high"] == pytest.approx(d.mean() + half, abs=1e-9)
    assert crises.loc[2, "ci_low"] == crises.loc[2, "ci_high"] == 0.0


def test_counts_and_shares_of_worlds_better_worse_and_not_resolved():
    table = ensemble.ensemble_differences(runs_table(PLANTED), ["silo", "whole_system"], "silo", 0.95,
                                          ["crises_per_1000_per_year", "mean_wellbeing"]).set_index("outcome")
    for outcome in ("crises_per_1000_per_year", "mean_wellbeing"):
        row = table.loc[outcome]
        assert (row["worlds"], row["worlds_better"], row["worlds_worse"], row["worlds_unresolved"]) == (7, 2, 1, 4)
        assert row["share_worlds_better"] == pytest.approx(2 / 7)
        assert row["share_worlds_worse"] == pytest.approx(1 / 7)
        assert (row["share_low"], row["share_high"]) == pytest.approx(ensemble.wilson(2, 7, 0.95))
        assert (row["share_worse_low"], row["share_worse_high"]) == pytest.approx(ensemble.wilson(1, 7, 0.95))
        assert row["seeds_per_world"] == 1  # world 4
        assert row["worst_world"] == 1 and row["worst_world_verdict"] == "worse"
    assert table.loc["crises_per_1000_per_year", "worst_world_difference"] == pytest.approx(np.mean(PLANTED[1]))


def test_mean_over_worlds_and_worst_world_when_every_world_is_resolved():
    planted = {w: [d - 0.1, d + 0.1, d] for w, d in enumerate([-5.0, -3.0, -1.0, 2.0, -4.0])}
    table = ensemble.ensemble_differences(runs_table(planted), ["silo", "whole_system"], "silo", 0.95,
                                          ["crises_per_1000_per_year", "mean_wellbeing"]).set_index("outcome")
    crises = table.loc["crises_per_1000_per_year"]
    assert crises["share_worlds_better"] == pytest.approx(0.8) and crises["worlds_unresolved"] == 0
    assert crises["worst_world"] == 3 and crises["worst_world_difference"] == pytest.approx(2.0)
    assert crises["difference"] == pytest.approx(-2.2)
    assert crises["share_low"] < 0.8 < crises["share_high"] <= 1.0
    wellbeing = table.loc["mean_wellbeing"]  # higher is better: the same worlds win
    assert wellbeing["share_worlds_better"] == pytest.approx(0.8) and wellbeing["worst_world"] == 3


def null_worlds(n_worlds: int, seeds: int, effect: float, rng: np.random.Generator) -> pd.DataFrame:
    """``n_worlds`` worlds whose true difference is ``effect``, with normal seed noise (sd 1) in each scenario
    and a world-and-seed effect both scenarios share."""
    world = np.repeat(np.arange(n_worlds), seeds)
    replicate = np.tile(np.arange(seeds), n_worlds)
    shared = rng.normal(30.0, 5.0, world.size)
    silo = shared + rng.normal(0.0, 1.0, world.size)
    other = shared + effect + rng.normal(0.0, 1.0, world.size)
    frame = pd.DataFrame({"world": np.tile(world, 2), "replicate": np.tile(replicate, 2),
                          "scenario": np.repeat(["silo", "whole_system"], world.size),
                          "crises_per_1000_per_year": np.concatenate([silo, other])})
    return frame


@pytest.mark.parametrize(("seeds", "confidence"), [(2, 0.95), (5, 0.95), (3, 0.9)])
def test_worlds_with_no_true_difference_are_wrongly_resolved_at_the_rate_the_confidence_allows(seeds, confidence):
    """The per-world interval's error rate, checked by repetition: in worlds whose true difference is 0, the
    share called better or worse should be 1 - confidence, each side half of it, within four binomial standard
    errors of the number of worlds simulated. A z-interval, a population sd or an unpaired interval fails."""
    n = 20_000
    rng = np.random.default_rng(20260101 + seeds)
    table = ensemble.world_verdicts(null_worlds(n, seeds, 0.0, rng), ["silo", "whole_system"], "silo", confidence,
                                    ["crises_per_1000_per_year"])
    said = table["verdict"].value_counts(normalize=True).reindex(["better", "worse"], fill_value=0.0)
    alpha = 1 - confidence
    tolerance = 4 * np.sqrt(alpha * (1 - alpha) / n)
    assert abs(said.sum() - alpha) < tolerance, (said.sum(), alpha, tolerance)
    half_tolerance = 4 * np.sqrt(alpha / 2 * (1 - alpha / 2) / n)
    for side in ("better", "worse"):
        assert abs(said[side] - alpha / 2) < half_tolerance, (side, said[side], alpha / 2, half_tolerance)


def test_a_true_difference_is_resolved_on_its_own_side_and_more_often_with_more_seeds():
    rng = np.random.default_rng(7)
    share = {}
    for seeds in (2, 5):
        table = ensemble.world_verdicts(null_worlds(4000, seeds, -2.0, rng), ["silo", "whole_system"], "silo", 0.95,
                                        ["crises_per_1000_per_year"])
        counts = table["verdict"].value_counts(normalize=True)
        assert counts.get("worse", 0.0) < 0.01  # lower crises: never (or hardly ever) called worse
        share[seeds] = counts.get("better", 0.0)
    assert share[2] < share[5] and share[5] > 0.6, share


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
