"""PRIM finds a known box; the sensitivity and discovery commands run end to end on tiny configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import store
from experiments.discovery import find_boxes, prim_peel


@pytest.fixture
def results(tmp_path, monkeypatch):
    root = tmp_path / "results"
    monkeypatch.setenv("PLACESIM_RESULTS", str(root))
    return root


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.4)).to_numpy()  # the box a in (0.6, 1], b in [0, 0.4); c irrelevant
    box = prim_peel(x, y, peel_alpha=0.05, mass_min=0.05)
    assert box.density == 1.0
    assert box.coverage > 0.85
    np.testing.assert_allclose(box.limits.loc["a", "low"], 0.6, atol=0.03)
    np.testing.assert_allclose(box.limits.loc["b", "high"], 0.4, atol=0.03)
    assert box.limits.loc["c", "low"] < 0.05 and box.limits.loc["c", "high"] > 0.95  # not restricted
    assert box.mass == pytest.approx(y[(x["a"] >= box.limits.loc["a", "low"])
                                       & (x["b"] <= box.limits.loc["b", "high"])].size / 2000, abs=1e-12)
    assert box.trajectory["mass"].is_monotonic_decreasing


def test_prim_stops_at_the_minimum_mass_and_finds_a_second_box():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.random((3000, 2)), columns=["a", "b"])
    y = ((x["a"] < 0.2) | (x["b"] > 0.85)).to_numpy()
    boxes = find_boxes(x, y, peel_alpha=0.05, mass_min=0.05, n_boxes=2)
    assert len(boxes) == 2
    assert all(b.mass >= 0.05 for b in boxes)
    assert sum(b.coverage for b in boxes) > 0.8
    assert all(b.density > 0.9 for b in boxes)


@pytest.mark.slow  # ~45 runs: 15-30 s on two cores
def test_sensitivity_smoke_writes_indices_with_intervals_and_seed_noise(results):
    from experiments import sensitivity

    assert sensitivity.main(["sensitivity=smoke", "progress=off", "workers=2"]) == 0
    out = results / "sensitivity" / "smoke"
    morris = pd.read_csv(out / "morris.csv")
    sobol = pd.read_csv(out / "sobol.csv")
    noise = pd.read_csv(out / "seed_noise.csv")
    assert set(morris["outcome"]) == set(sensitivity.HEADLINE) and {"mu_star", "mu_star_conf"} <= set(morris)
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns) and len(sobol) == 2 * 4
    assert noise["seed_noise_share"].between(0, 1).all() and len(noise) == 2 * 4
    assert (out / "morris.png").stat().st_size > 0 and (out / "sobol.png").stat().st_size > 0
    # need coupling moves wellbeing more than nothing at all
    wellbeing = morris[morris["outcome"] == "mean_wellbeing"].set_index("parameter")
    assert wellbeing.loc["uncertainty.need_coupling", "mu_star"] > 0


def test_discovery_smoke_writes_boxes(results):
    from experiments import discovery

    assert discovery.main(["discovery=smoke"]) == 0
    out = results / "discovery" / "smoke"
    cases = pd.read_csv(out / "cases.csv")
    assert len(cases) == 12 and cases["interest"].dtype == bool
    boxes = pd.read_csv(out / "boxes.csv")
    if cases["interest"].any():
        assert {"coverage", "density", "mass", "low", "high"} <= set(boxes.columns)
        assert boxes["coverage"].between(0, 1).all() and boxes["density"].between(0, 1).all()
    assert (out / "boxes.png").stat().st_size > 0
    assert (store.results_root() / "sweeps" / "discovery_smoke" / "table.parquet").exists()
