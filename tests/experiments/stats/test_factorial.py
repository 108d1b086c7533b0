"""Factorial effects (experiments/stats/factorial.py) and resolution V designs (experiments/engine/designs.py):
known effects planted in a toy response are recovered."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.engine.designs import fractional_factorial, interaction_columns, resolution_v
from experiments.stats.factorial import (
    SILO,
    effects_table,
    fit,
    full_reform_interval,
    interaction_share,
    waterfall_steps,
)

FACTORS = [f"f{i}" for i in range(11)]


@pytest.mark.parametrize("k", [2, 3, 5, 8, 11])
def test_designs_are_resolution_v_and_as_small_as_the_tables_allow(k):
    """Every main effect and two-factor interaction column is orthogonal to every other; 11 factors in 128 runs."""
    design = fractional_factorial(k)
    assert set(np.unique(design)) == {-1.0, 1.0} and design.shape[1] == k
    assert resolution_v(design)
    assert len(design) == {2: 4, 3: 8, 5: 16, 8: 64, 11: 128}[k]
    assert (design == 1).all(axis=1).any()  # the full reform is a design point


def test_a_resolution_iv_design_fails_the_check():
    """The control: pyDOE3's 64-run design for 11 factors aliases some two-factor interactions."""
    from pyDOE3 import fracfact_by_res

    design = fracfact_by_res(11, 5)
    assert len(design) == 64 and not resolution_v(design)
    columns, pairs = interaction_columns(design)
    assert len(pairs) == 55 and columns.shape == (64, 55)


def test_planted_main_effects_and_an_interaction_are_recovered_exactly():
    """y = 10 + 2 f0 - 1 f3 + 0.5 f0 f1 (0/1 coding): every term recovered, the rest zero, silo to full reform =
    1.5, of which the interaction's share is 0.5 / 1.5."""
    levels = (fractional_factorial(11) + 1) / 2
    y = 10 + 2 * levels[:, 0] - 1 * levels[:, 3] + 0.5 * levels[:, 0] * levels[:, 1]
    result = fit(levels, y, FACTORS)
    coef = dict(zip(result.terms, result.coefficients, strict=True))
    assert coef[SILO] == pytest.approx(10) and coef["f0"] == pytest.approx(2) and coef["f3"] == pytest.approx(-1)
    assert coef["f0:f1"] == pytest.approx(0.5)
    others = [v for t, v in coef.items() if t not in (SILO, "f0", "f3", "f0:f1")]
    assert np.allclose(others, 0, atol=1e-10)
    assert full_reform_interval(result, 11, 0.95)[0] == pytest.approx(1.5)
    share = interaction_share(result, 11, 0.95)
    assert share[0] == pytest.approx(1 / 3)
    steps = waterfall_steps(result, 11)
    assert steps[0] == (SILO, pytest.approx(10)) and steps[1][0] == "f0" and steps[2][0] == "f3"
    assert sum(v for _, v in steps) == pytest.approx(y[(levels == 1).all(axis=1)][0])


def test_noise_gives_intervals_that_cover_the_planted_effects():
    """With noise, each planted effect lies inside its interval and the intervals widen with the noise."""
    levels = (fractional_factorial(11) + 1) / 2
    rng = np.random.default_rng(4)
    truth = 3 * levels[:, 2] + 1.0 * levels[:, 5] * levels[:, 6]
    narrow = effects_table(fit(levels, truth + rng.normal(0, 0.1, len(levels)), FACTORS), "y", 0.95)
    wide = effects_table(fit(levels, truth + rng.normal(0, 1.0, len(levels)), FACTORS), "y", 0.95)
    for table in (narrow, wide):
        row = table.set_index("term")
        assert row.loc["f2", "ci_low"] < 3 < row.loc["f2", "ci_high"]
        assert row.loc["f5:f6", "ci_low"] < 1 < row.loc["f5:f6", "ci_high"]
    assert (wide["ci_high"] - wide["ci_low"]).mean() > 5 * (narrow["ci_high"] - narrow["ci_low"]).mean()
    assert list(narrow.columns) == ["term", "outcome", "effect", "ci_low", "ci_high"]
