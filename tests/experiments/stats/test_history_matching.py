"""History matching on toy simulators whose non-implausible region is known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.stats import history_matching as hm


def toy(noise: float, seed: int = 0):
    """Outputs a = x0 + x1 and b = x0 - x1 (+ Gaussian noise) on the unit square, plus three inert inputs."""
    def simulate(wave, design, replicate):
        rng = np.random.default_rng([seed, wave, int(replicate.sum()), len(design)])
        a = design[:, 0] + design[:, 1] + noise * rng.standard_normal(len(design))
        b = design[:, 0] - design[:, 1] + noise * rng.standard_normal(len(design))
        return pd.DataFrame({"a": a, "b": b})
    return simulate


TARGETS = [hm.Target("sum", "a", 0.9, 1.1), hm.Target("difference", "b", 0.3, 0.5)]
SPACE = hm.Space.of({f"x{i}": (0.0, 1.0) for i in range(5)})


def truly_inside(u: np.ndarray) -> np.ndarray:
    return TARGETS[0].inside(u[:, 0] + u[:, 1]) & TARGETS[1].inside(u[:, 0] - u[:, 1])


def test_recovers_a_known_region():
    match = hm.history_match(SPACE, TARGETS, toy(0.01), wave_size=40, max_waves=4, seed=1,
                             replicate_points=5, replicates=2)
    # the true region is the square 0.6 < x0 < 0.8, 0.1 < x1 < 0.4 rotated: 2 % of the box (area 0.2 x 0.2 / 2)
    rng = np.random.default_rng(5)
    u = rng.random((40_000, SPACE.dim))
    kept = hm.non_implausible(match.waves, TARGETS, u)
    truth = truly_inside(u)
    assert kept[truth].mean() > 0.99  # nothing that truly fits is ruled out
    assert 0.015 < kept.mean() < 0.06  # and most of what does not fit is (the bands are fuzzy by design)
    assert match.records[-1].nroy_share < 0.1
    assert len(match.nroy) and truly_inside(match.nroy).mean() > 0.3
    assert match.records[0].seed_var["sum"] == pytest.approx(0.01**2, rel=1.5)


def test_seed_noise_keeps_more_of_the_space():
    quiet = hm.history_match(SPACE, TARGETS, toy(0.01), wave_size=40, max_waves=3, seed=2)
    noisy = hm.history_match(SPACE, TARGETS, toy(0.2), wave_size=40, max_waves=3, seed=2)
    assert noisy.records[-1].nroy_share > 2 * quiet.records[-1].nroy_share


def test_conflicting_patterns_are_named():
    targets = [hm.Target("sum", "a", 0.0, 0.1), hm.Target("difference", "b", 0.8, 1.0)]  # x0 + x1 small, x0 - x1 big
    match = hm.history_match(SPACE, targets, toy(0.01), wave_size=40, max_waves=3, seed=3)
    assert "cannot all be met" in match.stopped_because
    assert len(match.conflicts) == 2 and all("short by" in line for line in match.conflicts)


def test_emulator_on_a_known_function():
    rng = np.random.default_rng(0)
    u = rng.random((60, 3))
    f = np.sin(3 * u[:, 0]) + u[:, 1] ** 2  # u[:, 2] inert
    emulator = hm.fit_emulator(u, f + 0.01 * rng.standard_normal(60))
    diagnostics = hm.loo_diagnostics(u, f, emulator)
    assert diagnostics["r2"] > 0.98 and diagnostics["coverage"] > 0.9
    test = rng.random((200, 3))
    mean, var = emulator.predict(test)
    truth = np.sin(3 * test[:, 0]) + test[:, 1] ** 2
    assert np.abs(mean - truth).max() < 0.1
    assert np.mean(np.abs(mean - truth) <= 3 * np.sqrt(var + emulator.noise_var)) > 0.9
    # a poor emulator says so: pure noise leaves nothing to explain
    noise = hm.fit_emulator(u, rng.standard_normal(60))
    assert hm.loo_diagnostics(u, rng.standard_normal(60), noise)["r2"] < 0.3


def test_implausibility_at_the_band_edge_is_the_cutoff():
    target = hm.Target("t", "a", 1.0, 2.0)
    assert abs(target.z - 2.0) / np.sqrt(target.obs_var) == pytest.approx(hm.CUTOFF)


def test_joint_patterns_name_the_pair_that_cannot_be_met_together():
    # a and b never both in band (a high when b low); c is met everywhere
    rng = np.random.default_rng(0)
    x = rng.random(400)
    points = pd.DataFrame({"a": x, "b": 1 - x, "c": np.full(400, 0.5)})
    targets = [hm.Target("a", "a", 0.8, 1.0), hm.Target("b", "b", 0.8, 1.0), hm.Target("c", "c", 0.0, 1.0)]
    joint, lines = hm.joint_patterns(points, targets)
    assert joint.loc["a", "b"] == 0 and joint.loc["a", "a"] == pytest.approx((x >= 0.8).mean())
    assert joint.loc["c", "c"] == 1
    line_a = next(line for line in lines if line.startswith("a:"))
    assert "meet 2 of the 2 other patterns" in line_a and "0% meet it too" in line_a and "short by" in line_a
