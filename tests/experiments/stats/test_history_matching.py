"""History matching on toy simulators whose non-implausible region, or whose true point, is known exactly."""

from __future__ import annotations

import time

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
    assert kept[truth].all()  # nothing that truly fits is ruled out
    assert 0.015 < kept.mean() < 0.06  # and most of what does not fit is (the bands are fuzzy by seed noise)
    assert match.records[-1].nroy_share < 0.1
    assert len(match.nroy) and truly_inside(match.nroy).mean() > 0.3
    assert match.records[0].seed_var["sum"] == pytest.approx(0.01**2, rel=1.5)
    assert len(match.records) >= 2
    for record in match.records:  # both emulators explain the outputs and pass validation
        assert all(d["used"] and d["r2"] > 0.9 and d["folds"] == 5 for d in record.diagnostics.values())
        assert {d["active"] for d in record.diagnostics.values()} == {2}  # x0 and x1; the inert inputs are not


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
    assert list(emulator.active) == [0, 1]
    diagnostics = hm.loo_diagnostics(u, f, emulator)
    assert diagnostics["r2"] > 0.98 and diagnostics["coverage"] > 0.9
    test = rng.random((200, 3))
    mean, var = emulator.predict(test)
    truth = np.sin(3 * test[:, 0]) + test[:, 1] ** 2
    assert np.abs(mean - truth).max() < 0.1
    assert np.mean(np.abs(mean - truth) <= 3 * np.sqrt(var + emulator.noise_var)) > 0.9
    assert emulator.noise_var == pytest.approx(0.01**2, rel=0.6)  # without known noise the nugget is the noise
    # a poor emulator says so: pure noise leaves nothing to explain
    noise = hm.fit_emulator(u, rng.standard_normal(60))
    assert hm.loo_diagnostics(u, rng.standard_normal(60), noise)["r2"] < 0.3


class Fixed:
    """A stand-in emulator: a known mean and variance everywhere."""

    def __init__(self, mean: float, var: float, noise_var: float = 0.0):
        self.mean, self.var, self.noise_var = mean, var, noise_var

    def predict(self, u):
        return np.full(len(u), self.mean), np.full(len(u), self.var)


def implausibility_at(target, mean, var, noise_var=0.0, **wave):
    table = hm.implausibility(hm.Wave(1, {target.name: Fixed(mean, var, noise_var)}, {}, **wave), [target],
                              np.zeros((1, 2)))
    return float(table[target.name].iloc[0])


def test_implausibility_is_zero_inside_the_band_and_measured_to_the_nearer_edge():
    target = hm.Target("t", "a", 1.0, 2.0)
    for mean in (1.0, 1.3, 2.0):  # anywhere inside, edges included, whatever the variance
        assert implausibility_at(target, mean, 1e-9) == 0
    assert implausibility_at(target, 0.4, 0.04) == pytest.approx(3.0)  # 0.6 below low, sd 0.2
    assert implausibility_at(target, 2.3, 0.03, noise_var=0.01) == pytest.approx(1.5)  # 0.3 above high, sd 0.2
    assert implausibility_at(target, 2.3, 0.01, inflation={"t": 4.0}) == pytest.approx(1.5)  # sd x 2
    assert implausibility_at(hm.Target("t", "a", 1.0, 2.0, discrepancy=0.3), 2.4, 0.07) == pytest.approx(1.0)
    seed = hm.SeedVariance(0.0, 20, intercept=np.log(0.04), coef=np.zeros(2))  # seed variance 0.04 from its model
    assert implausibility_at(target, 0.4, 0.0, noise_var=99.0, seed_models={"t": seed}) == pytest.approx(3.0)
    # a log-scale target judges on the log scale: the band [e^0, e^1] is [0, 1] there
    logged = hm.Target("t", "a", 1.0, np.e, log_offset=0.0)
    assert implausibility_at(logged, 1.6, 0.04) == pytest.approx(3.0)
    # an emulator that failed validation rules nothing out
    assert implausibility_at(target, 100.0, 1e-9, used={"t": False}) == 0
    wave = hm.Wave(1, {"t": Fixed(100.0, 1e-9)}, {}, used={"t": False})
    assert hm.non_implausible([wave], [target], np.zeros((3, 2))).all()


def test_seed_variance_varies_over_the_space_without_the_log_bias():
    rng = np.random.default_rng(4)
    points = rng.random((300, 4))
    groups = np.repeat(np.arange(300), 3)  # 3 runs per point: 2 degrees of freedom
    u = points[groups]
    # constant variance 0.25: the mean log sample variance is log(0.25) - 0.27, the bias-corrected model is not
    y = 0.5 * rng.standard_normal(len(u))
    flat = hm.fit_seed_variance(u, y, groups)
    assert flat.pooled == pytest.approx(0.25, rel=0.1)
    assert np.median(flat(rng.random((100, 4)))) == pytest.approx(0.25, rel=0.15)
    # a standard deviation that grows fifty-fold along x0 (the other inputs inert)
    y = 0.02 * np.exp(np.log(50) * u[:, 0]) * rng.standard_normal(len(u))
    model = hm.fit_seed_variance(u, y, groups)
    low, high = model(np.array([[0.0, 0.5, 0.5, 0.5], [1.0, 0.5, 0.5, 0.5]]))
    assert high / low == pytest.approx(2500, rel=0.6)
    assert low == pytest.approx(0.02**2, rel=0.6)
    assert np.abs(model.coef[1:]).max() < 0.2 * model.coef[0]
    # too few replicated points: the pooled variance everywhere; no replicates at all: nothing
    few = hm.fit_seed_variance(u[:15], y[:15], groups[:15])
    assert few.coef is None and few.points == 5 and np.all(few(points[:3]) == few.pooled)
    assert hm.fit_seed_variance(points, y[:300], np.arange(300)) is None


def test_judge_inflates_an_overconfident_emulator_and_counts_misclassification():
    rng = np.random.default_rng(6)
    target = hm.Target("t", "y", 100.0, 101.0)  # far from every run: nothing to misclassify
    signal, y = 10 * rng.standard_normal(400), rng.standard_normal(400)  # emulated signal, error
    honest = hm.judge(signal + y, signal, np.full(400, 0.5), np.full(400, 0.5), target)
    assert honest["inflation"] < 1.3 and honest["used"] and honest["coverage"] > 0.98 and honest["r2"] > 0.95
    overconfident = hm.judge(signal + 2 * y, signal, np.full(400, 0.5), np.full(400, 0.5), target)  # sd 2, says 1
    # variance 4 times too small: the smallest factor that passes (90 % within 2 sd, 98 % within 3) is ~2.7
    assert 2.0 < overconfident["inflation"] < 4.0 and overconfident["used"] and overconfident["note"] == "inflated"
    hopeless = hm.judge(signal + 10 * y, signal, np.full(400, 0.5), np.full(400, 0.5), target)
    assert not hopeless["used"] and "more than x25" in hopeless["note"]
    useless = hm.judge(y, y[::-1], np.full(400, 1.0), np.full(400, 1.0), target)  # explains nothing
    assert not useless["used"] and "explains nothing" in useless["note"]
    # among 100 runs well emulated far above the band, one inside it that the emulator puts 6 sd below it:
    # misclassified (the coverage criteria alone would tolerate one outlier in 100), and c must bring it to 3
    band = hm.Target("t", "y", 0.0, 1.0)
    runs = np.concatenate([[0.5], np.full(99, 5.0)])
    means = np.concatenate([[-0.6], 5.0 + 0.1 * np.linspace(-1, 1, 99)])
    verdict = hm.judge(runs, means, np.zeros(100), np.full(100, 0.01), band)
    assert verdict["misclassified"] == 1 and verdict["inflation"] == pytest.approx(4.0)
    assert verdict["coverage"] == 0.99


def test_local_factor_widens_the_variance_where_errors_are_larger():
    rng = np.random.default_rng(7)
    u = rng.random((200, 3))
    z = np.exp(2 * u[:, 0]) * rng.standard_normal(200)  # the error's sd grows e^2-fold along x0
    factor = hm.fit_local_factor(u, z)
    low, high = factor(np.array([[0.0, 0.5, 0.5], [1.0, 0.5, 0.5]]))
    assert low >= 1.0 and high / low > 10  # variance ratio e^4 = 55, where the factor is not floored at 1
    assert (factor(rng.random((100, 3))) >= 1).all()
    assert (hm.fit_local_factor(u[:10], z[:10])(u) == 1).all()


def test_validation_refits_in_each_fold_and_drops_an_emulator_of_noise():
    rng = np.random.default_rng(8)
    u = rng.random((60, 3))
    target = hm.Target("t", "y", 0.0, 0.1)
    noise, _ = hm.validate(u, rng.standard_normal(60), np.arange(60), target)
    assert not noise["used"] and noise["r2"] <= 0 and noise["folds"] == 5
    good, factor = hm.validate(u, np.sin(3 * u[:, 0]) + 0.05 * rng.standard_normal(60), np.arange(60), target)
    assert good["used"] and good["r2"] > 0.9 and good["n"] == 60
    assert isinstance(factor, hm.LocalFactor)


def test_a_dropped_emulator_keeps_the_search_going():
    """An output that is pure noise cannot be emulated: its emulator is dropped every wave, rules nothing out, and
    the search does not stop early on the other emulators' behalf."""
    def simulate(wave, design, replicate):
        rng = np.random.default_rng([9, wave, int(replicate.sum()), len(design)])
        return pd.DataFrame({"a": design[:, 0] + design[:, 1] + 0.01 * rng.standard_normal(len(design)),
                             "noise": rng.standard_normal(len(design))})
    targets = [TARGETS[0], hm.Target("noise", "noise", -0.2, 0.2)]
    match = hm.history_match(SPACE, targets, simulate, wave_size=40, max_waves=3, seed=0)
    # wave 3 ruled out less than a tenth of what was left, as wave 2 did: with every emulator validated, the search
    # would have stopped there
    assert len(match.records) == 3 and match.stopped_because == "reached the last wave (3)"
    assert all(not r.diagnostics["noise"]["used"] and r.diagnostics["noise"]["r2"] <= 0 for r in match.records)
    assert all(r.diagnostics["sum"]["used"] for r in match.records)
    u = np.random.default_rng(1).random((20_000, SPACE.dim))
    kept = hm.non_implausible(match.waves, targets, u)
    assert kept[TARGETS[0].inside(u[:, 0] + u[:, 1])].all()  # the noise's band rules nothing out
    assert 0.1 < kept.mean() < 0.4  # x0 + x1 in [0.9, 1.1] is a fifth of the square, fuzzy edges included


def test_at_least_two_waves_even_when_the_first_looks_converged():
    match = hm.history_match(SPACE, TARGETS, toy(0.2), wave_size=40, max_waves=3, seed=5)
    assert len(match.records) >= 2


# --- a known answer: a stochastic SIR with a hidden true point ----------------------------------------------------

POPULATION, INFECTED, WEEKS = 1000, 5, 104
SIR_WIDTH = {"final_size": 0.06, "peak_prevalence": 0.03, "peak_week": 2.4}  # each band's width
SIR_SPACE = hm.Space.of({f"x{i}": (0.0, 1.0) for i in range(8)})


def sir(u: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """A binomial-chain SIR, one epidemic per row of unit inputs: x0 sets R0 (1.2 to 4), x1 the weekly recovery
    rate (0.3 to 1), x2 the share immune at the start (0 to 0.5); x3..x7 are inert. Near R0 (1 - immune) = 1 the
    epidemic may die out or take off, so the seed noise is large, bimodal and varies a hundred-fold over the box."""
    u = np.atleast_2d(u)
    r0, gamma, immune = 1.2 + 2.8 * u[:, 0], 0.3 + 0.7 * u[:, 1], 0.5 * u[:, 2]
    s = np.round(POPULATION * (1 - immune)).astype(np.int64) - INFECTED
    i = np.full(len(u), INFECTED, np.int64)
    total, peak, peak_week = i.copy(), i.copy(), np.zeros(len(u))
    for week in range(1, WEEKS + 1):
        infected = rng.binomial(s, 1 - np.exp(-r0 * gamma * i / POPULATION))
        recovered = rng.binomial(i, 1 - np.exp(-gamma))
        s, i, total = s - infected, i + infected - recovered, total + infected
        peak_week = np.where(i > peak, week, peak_week)
        peak = np.maximum(peak, i)
    return pd.DataFrame({"final_size": total / POPULATION, "peak_prevalence": peak / POPULATION,
                         "peak_week": peak_week})


def sir_trial(trial: int) -> tuple[bool, float]:
    """One hidden true point, drawn at random over the box; bands of fixed widths placed around its expected
    outputs (4,000 epidemics), the truth anywhere inside each. Small waves (30 points, 8 of them with 2 extra
    seeds), up to 4. Is the truth kept by every wave, and what share of the box is ruled out?"""
    rng = np.random.default_rng([2024, trial])
    truth = rng.random(SIR_SPACE.dim)
    expected = sir(np.tile(truth, (4000, 1)), rng).mean()
    targets = []
    for name, width in SIR_WIDTH.items():
        low = expected[name] - width * rng.uniform()
        targets.append(hm.Target(name, name, low, low + width))

    def simulate(wave, design, replicate):
        return sir(design, np.random.default_rng([trial, wave, int(replicate.sum()), len(design)]))

    match = hm.history_match(SIR_SPACE, targets, simulate, wave_size=30, max_waves=4, seed=trial,
                             replicate_points=8, replicates=2)
    return bool(hm.non_implausible(match.waves, targets, truth[None])[0]), 1.0 - match.records[-1].nroy_share


def sir_coverage(trials: range) -> tuple[float, float]:
    start = time.perf_counter()
    results = [sir_trial(t) for t in trials]
    kept = float(np.mean([k for k, _ in results]))
    ruled_out = float(np.mean([r for _, r in results]))
    print(f"SIR known answer: truth kept in {kept:.1%} of {len(results)} trials; {ruled_out:.1%} of the box ruled "
          f"out on average; {time.perf_counter() - start:.0f} s")
    return kept, ruled_out


def test_the_truth_is_kept_in_a_few_hard_trials():
    # trials 0, 1 and 5 are among those in which the former method (no validation, pooled seed variance, a point
    # observation at the band's centre) ruled the truth out
    kept, ruled_out = sir_coverage(range(6))
    assert kept == 1.0
    assert ruled_out > 0.5


@pytest.mark.slow
def test_the_truth_is_kept_at_the_nominal_rate():
    kept, ruled_out = sir_coverage(range(100))
    assert kept >= 0.95
    assert ruled_out > 0.5  # and the method still does its job


def test_fit_probability_ranks_points_that_truly_fit_first():
    """Known answer: the toy's region that meets both bands is 2 % of the box. Classifiers trained on 300 noisy
    runs of a plain Latin hypercube rank 20,000 fresh points. In each of 10 repeats the 200 ranked highest hold at
    least twice the share that truly fits of a random choice, and over the repeats at least five times (measured:
    3 to 24 times, 11 on average); points that fit score at least twice as high as points that do not, on
    average. A target that every run meets, or none does, changes no ranking."""
    shares = []
    for trial in range(10):
        rng = np.random.default_rng(100 + trial)
        design = hm.latin_hypercube(SPACE.dim, 300, seed=trial)
        outputs = toy(0.02, seed=trial)(1, design, np.zeros(len(design)))
        record = hm.WaveRecord(1, design, outputs, 1.0, 1.0, {}, {})
        u = rng.random((20_000, SPACE.dim))
        chance = hm.fit_probability([record], TARGETS, u, seed=trial)
        truth = truly_inside(u)
        enrichment = truth[np.argsort(-chance)[:200]].mean() / truth.mean()
        assert enrichment >= 2, (trial, enrichment)
        assert chance[truth].mean() > 2 * chance[~truth].mean()
        shares.append(enrichment)
    assert np.mean(shares) >= 5, shares
    everyone = [hm.Target("all", "a", -10, 10), hm.Target("nobody", "b", 5, 6)]
    np.testing.assert_array_equal(hm.fit_probability([record], everyone, u[:50]), 1.0)


def test_first_seed_screen_keeps_what_the_mean_over_seeds_would_accept():
    """Known answer: 20,000 points with a known expectation for two patterns (one judged on the log scale) and
    Gaussian seed noise of known spread, each simulated on three seeds. Of the points whose expectation is inside
    both bands, the first-seed screen at 3 standard deviations stops at most 1 % (at most 0.27 % a target, less
    since only points near an edge can be pushed 3 sd beyond it; measured 0 to 0.09 % in five repeats); of the
    points the mean of three seeds accepts, it stops at most 0.2 % (measured: none); and it spares the further
    seeds of most of the points that do not fit (measured: 68-69 % of them)."""
    rng = np.random.default_rng(7)
    n = 20_000
    plain, logged = hm.Target("plain", "a", 1.0, 2.0), hm.Target("logged", "b", 1.0, np.e, log_offset=0.0)
    sd = {"plain": 0.1, "logged": 0.2}  # on the emulated scale
    wave = hm.Wave(1, {}, {}, seed_models={t: hm.SeedVariance(s**2, 20) for t, s in sd.items()})
    mu_plain, mu_log = rng.uniform(0.0, 3.0, n), rng.uniform(-1.0, 2.0, n)
    draws = [pd.DataFrame({"a": mu_plain + sd["plain"] * rng.standard_normal(n),
                           "b": np.exp(mu_log + sd["logged"] * rng.standard_normal(n))}) for _ in range(3)]
    keep = hm.within_reach([wave], [plain, logged], np.zeros((n, 2)), draws[0])
    truly = (mu_plain >= 1) & (mu_plain <= 2) & (mu_log >= 0) & (mu_log <= 1)
    assert 1 - keep[truly].mean() <= 0.01
    mean_a = sum(d["a"] for d in draws) / 3
    mean_b = sum(d["b"] for d in draws) / 3  # as calibration averages: the outcome itself
    accepted = plain.inside(mean_a) & logged.inside(mean_b)
    assert 1 - keep[accepted].mean() <= 0.002
    assert 1 - keep[~accepted].mean() >= 0.5
    # the spread comes from the last wave that estimated it, widened by that wave's variance factors
    wide = hm.Wave(2, {}, {}, seed_models=wave.seed_models, inflation={"plain": 4.0})
    assert hm.seed_spread([wave, wide], plain, np.zeros((1, 2)))[0] == pytest.approx(0.2)
    assert hm.within_reach([wave], [plain], np.zeros((1, 2)), pd.DataFrame({"a": [0.75]}))[0]  # 2.5 sd: kept
    assert not hm.within_reach([wave], [plain], np.zeros((1, 2)), pd.DataFrame({"a": [0.6]}))[0]  # 4 sd: stopped
    # a target no wave estimated, or an output not simulated, stops nothing
    assert hm.within_reach([hm.Wave(1, {}, {})], [plain], np.zeros((1, 2)), pd.DataFrame({"a": [-50.0]}))[0]
    assert hm.within_reach([wave], [plain], np.zeros((1, 2)), pd.DataFrame({"z": [-50.0]}))[0]
