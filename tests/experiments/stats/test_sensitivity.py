"""Sensitivity analysis (experiments/stats/sensitivity.py, experiments.sensitivity): SALib wired correctly,
checked on a known answer, and the command records its design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.engine.designs import Design, Factor
from experiments.stats.sensitivity import analyse, point_means


def _table(design: Design, f, seeds: int = 2, noise: float = 0.0) -> pd.DataFrame:
    """A study table whose outcome is the known function ``f`` of the design's points (plus seed noise)."""
    rng = np.random.default_rng(0)
    rows = []
    for point, values in enumerate(design.points()):
        for replicate in range(seeds):
            rows.append({"status": "ok", "scenario": "s", "point": point, "replicate": replicate,
                         "y": f(values) + noise * rng.standard_normal()})
    return pd.DataFrame(rows)


def test_morris_recovers_known_elementary_effects():
    """y = 2a + 0b on [0, 1]^2: mu* of a is 2, of b is 0 (SALib's mu* is in the outcome's units per unit)."""
    design = Design("morris", [Factor("a", low=0.0, high=1.0), Factor("b", low=0.0, high=1.0)], samples=10, seed=3)
    means, noise = point_means(_table(design, lambda v: 2 * v["a"]), ["y"], "morris")
    indices = analyse("morris", design.problem(), design.matrix(), means, ["y"], confidence=0.95,
                      num_resamples=100, morris_levels=4, seed=1).set_index("parameter")
    assert indices.loc["a", "mu_star"] == pytest.approx(2.0, abs=1e-9)
    assert indices.loc["b", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert noise["seed_noise_share"].fillna(0).eq(0).all()  # no seed noise in a deterministic outcome


def test_sobol_ranks_an_influential_parameter_above_an_inert_one():
    """y = a + 0.1 b^2: a carries almost all the variance (S1 near 1), b almost none."""
    design = Design("sobol", [Factor("a", low=0.0, high=1.0), Factor("b", low=0.0, high=1.0)], samples=256, seed=3)
    means, _ = point_means(_table(design, lambda v: v["a"] + 0.1 * v["b"] ** 2, seeds=1), ["y"], "sobol")
    indices = analyse("sobol", design.problem(), design.matrix(), means, ["y"], confidence=0.95,
                      num_resamples=100, morris_levels=4, seed=1).set_index("parameter")
    assert indices.loc["a", "ST"] > 0.9 and indices.loc["b", "ST"] < 0.05
    assert indices.loc["a", "S1"] > 10 * max(indices.loc["b", "S1"], 1e-3)


def test_seed_noise_share_is_the_within_point_sum_of_squares():
    """Two points, two seeds each: y = [1, 3] and [10, 12]; within SS = 4, total SS = 85 -> share 4/85."""
    table = pd.DataFrame({"status": "ok", "scenario": "s", "point": [0, 0, 1, 1], "replicate": [0, 1, 0, 1],
                          "y": [1.0, 3.0, 10.0, 12.0]})
    _, noise = point_means(table, ["y"], "grid")
    assert noise.loc[0, "seed_noise_share"] == pytest.approx(4 / 85)


@pytest.mark.slow  # ~45 runs: 15-30 s on two cores
def test_sensitivity_smoke_writes_indices_seed_noise_and_its_design(results):
    from experiments import sensitivity

    assert sensitivity.main(["sensitivity=smoke", "progress=off", "engine.workers=2"]) == 0
    out = results / "sensitivity" / "smoke"
    morris = pd.read_csv(out / "morris.csv")
    sobol = pd.read_csv(out / "sobol.csv")
    noise = pd.read_csv(out / "seed_noise.csv")
    outcomes = ["mean_wellbeing", "failure_demand_share", "total_cost", "mean_resident_trust"]
    assert set(morris["outcome"]) == set(outcomes) and {"mu_star", "mu_star_conf"} <= set(morris)
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns) and len(sobol) == 2 * 4
    assert noise["seed_noise_share"].between(0, 1).all() and len(noise) == 2 * 4
    assert (out / "morris.png").stat().st_size > 0 and (out / "sobol.png").stat().st_size > 0
    design = yaml.safe_load((out / "sensitivity.yaml").read_text())
    assert design["outcomes"] == outcomes and design["n_seeds"] == 2
    assert design["model_overrides"] == ["residents=1000", "years=1", "burn_in_years=1"]
    assert [p["key"] for p in design["parameters"]] == ["uncertainty.need_coupling", "uncertainty.demand_level"]
    assert design["methods"]["morris"]["points"] == 3 * (2 + 1)
    assert design["methods"]["sobol"]["points"] == 4 * (2 + 2)
