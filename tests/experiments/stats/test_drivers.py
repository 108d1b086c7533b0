"""Sobol indices on an emulator recover a function's known indices, and flag what cannot be trusted."""

from __future__ import annotations

import numpy as np

from experiments.stats import drivers
from experiments.stats.history_matching import Space


def test_sobol_on_an_emulator_of_an_additive_function():
    # f = x0 + 2 x1 on the unit square (x2 inert): S1 = ST = (1/5, 4/5, 0)
    space = Space.of({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    rng = np.random.default_rng(1)
    design = rng.random((60, 3))
    result = drivers.sobol_of_difference(space, design, {"f": design[:, 0] + 2 * design[:, 1]},
                                         rng.random((2000, 3)), samples=1024, seed=3)
    table = result["indices"].set_index("parameter")
    assert abs(table.loc["a", "ST"] - 0.2) < 0.05 and abs(table.loc["b", "ST"] - 0.8) < 0.05
    assert table.loc["c", "ST"] < 0.02
    assert (table["flag"] == "").all()
    assert result["emulators"].iloc[0]["r2"] > 0.95


def test_noise_is_flagged_not_apportioned():
    space = Space.of({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    rng = np.random.default_rng(2)
    design = rng.random((40, 2))
    result = drivers.sobol_of_difference(space, design, {"noise": rng.standard_normal(40)},
                                         rng.random((500, 2)), samples=256, seed=1)
    assert result["indices"]["flag"].str.contains("emulator r2").all()
