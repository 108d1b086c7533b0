"""History matching with Gaussian-process emulators (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015).

A simulator f(x) with outputs f_j is matched to observations z_j in waves. Each wave simulates a space-filling
design inside the space not yet ruled out, fits one emulator per output (a linear mean plus a Gaussian process on
the residuals, scikit-learn), and rules out every x whose implausibility

    I_j(x) = |z_j - E[f_j(x)]| / sqrt(Var_emulator_j(x) + Var_observation_j + Var_discrepancy_j + Var_seed_j)

exceeds the cut-off (3, by Pukelsheim's three-sigma rule) for any output. What is left is the non-implausible
space (NROY: "not ruled out yet"). Waves are applied in sequence: a point must pass every wave's emulators.

An observed pattern is a band [low, high]: z is its midpoint and its observation standard deviation is a third of
its half-width, so that a point emulated exactly at the band's edge, with nothing else uncertain, sits at the
cut-off. Everything here is pure (arrays in, arrays out) and simulator-agnostic: :func:`history_match` takes the
simulator as a function, so the tests run it on toy functions with known answers; ``experiments.calibrate``
passes the place model on the engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CUTOFF = 3.0


@dataclass(frozen=True)
class Target:
    """One observed pattern: the simulator's output ``output`` should lie in [low, high]."""

    name: str
    output: str
    low: float
    high: float
    discrepancy: float = 0.0  # model-discrepancy standard deviation, on the emulated scale
    log_offset: float | None = None  # emulate log(output + offset): outputs spanning orders of magnitude

    def scale(self, values) -> np.ndarray:
        """The scale the output is emulated and judged on (the band is mapped onto it too)."""
        values = np.asarray(values, dtype=float)
        if self.log_offset is None:
            return values
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(np.maximum(values + self.log_offset, 1e-12))

    def unscale(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return values if self.log_offset is None else np.exp(values) - self.log_offset

    @property
    def z(self) -> float:
        return float(0.5 * (self.scale(self.low) + self.scale(self.high)))

    @property
    def obs_var(self) -> float:
        return float(((self.scale(self.high) - self.scale(self.low)) / 2.0 / CUTOFF) ** 2)

    def inside(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return (values >= self.low) & (values <= self.high)


@dataclass(frozen=True)
class Space:
    """The box of plausible ranges: inputs are handled in unit coordinates [0, 1]^d."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, ranges: dict[str, tuple[float, float]]) -> Space:
        names = tuple(ranges)
        low = np.array([ranges[n][0] for n in names], float)
        return cls(names, low, np.array([ranges[n][1] for n in names], float))

    @property
    def dim(self) -> int:
        return len(self.names)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, float) - self.low) / (self.high - self.low)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        return self.low + np.asarray(u, float) * (self.high - self.low)


# --- emulators ----------------------------------------------------------------------------------------------------

@dataclass
class Emulator:
    """A linear mean in the unit inputs plus a Gaussian process (Matern 5/2, one length scale per input, a nugget
    for the simulator's own noise) on the residuals."""

    coef: np.ndarray
    gp: object  # sklearn GaussianProcessRegressor, fitted
    noise_var: float  # the fitted nugget: the simulator's variance at a fixed input (seed noise), output units

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and the emulator's own variance (code uncertainty, the nugget excluded) at unit inputs."""
        u = np.atleast_2d(u)
        trend = _design_matrix(u) @ self.coef
        mean, std = self.gp.predict(u, return_std=True)
        return trend + mean, np.maximum(std**2 - self.noise_var, 0.0)


def _design_matrix(u: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(u)), u])


def _kernel(dim: int, length_scale=None, fixed: bool = False):
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    bounds = "fixed" if fixed else (1e-2, 1e2)
    return (ConstantKernel(1.0, "fixed" if fixed else (1e-3, 1e3))
            * Matern(length_scale=np.ones(dim) if length_scale is None else length_scale,
                     length_scale_bounds=bounds, nu=2.5)
            + WhiteKernel(1e-2, "fixed" if fixed else (1e-6, 1e1)))


def fit_emulator(u: np.ndarray, y: np.ndarray, seed: int = 0, restarts: int = 2, kernel=None) -> Emulator:
    """Fit an emulator to outputs ``y`` at unit inputs ``u`` (rows with a NaN output are left out).

    ``kernel`` fixes the hyperparameters (a fitted ``gp.kernel_``), as leave-one-out validation needs.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor

    u, y = np.atleast_2d(np.asarray(u, float)), np.asarray(y, float)
    keep = np.isfinite(y)
    u, y = u[keep], y[keep]
    if len(y) < u.shape[1] + 3:
        raise ValueError(f"{len(y)} runs are too few to emulate {u.shape[1]} inputs (need {u.shape[1] + 3})")
    x = _design_matrix(u)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    gp = GaussianProcessRegressor(kernel=kernel if kernel is not None else _kernel(u.shape[1]), normalize_y=True,
                                  optimizer=None if kernel is not None else "fmin_l_bfgs_b",
                                  n_restarts_optimizer=0 if kernel is not None else restarts, random_state=seed)
    with warnings.catch_warnings():
        # a length scale at its bound means the output barely depends on that input: expected for most inputs
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        gp.fit(u, residual)
    scale = float(getattr(gp, "_y_train_std", 1.0)) ** 2
    return Emulator(coef, gp, float(gp.kernel_.k2.noise_level) * scale)


def loo_diagnostics(u: np.ndarray, y: np.ndarray, emulator: Emulator) -> dict[str, float]:
    """Leave-one-out validation with the fitted hyperparameters: each run predicted by an emulator fitted to the
    others. ``r2`` (1 - SSE/SST), ``rmse``, ``coverage`` (share of standardised errors within +-3, using emulator +
    nugget variance; about 0.99 when the emulator's uncertainty is honest) and ``n``."""
    u, y = np.atleast_2d(np.asarray(u, float)), np.asarray(y, float)
    keep = np.isfinite(y)
    u, y = u[keep], y[keep]
    kernel = emulator.gp.kernel_
    predicted, variance = np.empty(len(y)), np.empty(len(y))
    for i in range(len(y)):
        others = np.arange(len(y)) != i
        loo = fit_emulator(u[others], y[others], kernel=kernel)
        mean, var = loo.predict(u[i:i + 1])
        predicted[i], variance[i] = mean[0], var[0] + loo.noise_var
    error = y - predicted
    sst = float(((y - y.mean()) ** 2).sum())
    return {"n": len(y), "r2": 1.0 - float((error**2).sum()) / sst if sst > 0 else float("nan"),
            "rmse": float(np.sqrt((error**2).mean())),
            "coverage": float((np.abs(error) <= CUTOFF * np.sqrt(variance)).mean())}


# --- implausibility and the non-implausible space -----------------------------------------------------------------

@dataclass
class Wave:
    """One wave's emulators and the variances it judges with."""

    number: int
    emulators: dict[str, Emulator]  # by target name
    seed_var: dict[str, float]  # by target name: the simulator's variance between seeds at a fixed input


def implausibility(wave: Wave, targets: list[Target], u: np.ndarray) -> pd.DataFrame:
    """I_j at unit inputs ``u``, one column per target; also ``emulator_share`` columns: the emulator's share of
    the denominator's variance (above a half it still dominates, and another wave can help)."""
    out = {}
    for t in targets:
        mean, em_var = wave.emulators[t.name].predict(u)
        other = t.obs_var + t.discrepancy**2 + wave.seed_var[t.name]
        out[t.name] = np.abs(t.z - mean) / np.sqrt(em_var + other)
        out[f"{t.name}:emulator_share"] = em_var / (em_var + other)
    return pd.DataFrame(out)


def non_implausible(waves: list[Wave], targets: list[Target], u: np.ndarray, cutoff: float = CUTOFF) -> np.ndarray:
    """Which unit inputs pass every target of every wave."""
    keep = np.ones(len(u), dtype=bool)
    for wave in waves:
        if not keep.any():
            break
        table = implausibility(wave, targets, u[keep])
        keep[np.flatnonzero(keep)] = (table[[t.name for t in targets]].to_numpy() <= cutoff).all(axis=1)
    return keep


def sample_nroy(waves: list[Wave], targets: list[Target], dim: int, n: int, rng: np.random.Generator,
                batch: int = 20_000, max_candidates: int = 400_000, cutoff: float = CUTOFF) -> tuple[np.ndarray, float]:
    """Up to ``n`` uniform points of the non-implausible space by rejection from the unit box, and the share of
    the box that is non-implausible (estimated from every candidate drawn)."""
    kept, drawn = [], 0
    total = 0
    while drawn < max_candidates and total < n:
        u = rng.random((batch, dim))
        good = u[non_implausible(waves, targets, u, cutoff)]
        kept.append(good)
        total += len(good)
        drawn += batch
    points = np.concatenate(kept) if kept else np.empty((0, dim))
    return points[:n], float(total / drawn) if drawn else float("nan")


def maximin_indices(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` of ``points`` spread out (greedy farthest-point selection from a random start)."""
    if len(points) <= n:
        return np.arange(len(points))
    chosen = [int(rng.integers(len(points)))]
    distance = np.linalg.norm(points - points[chosen[0]], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(points - points[nxt], axis=1))
    return np.array(chosen)


def maximin_subset(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of ``points`` spread out (:func:`maximin_indices`)."""
    return points[maximin_indices(points, n, rng)]


def latin_hypercube(dim: int, n: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=dim, rng=np.random.default_rng(seed)).random(n)


# --- the waves ----------------------------------------------------------------------------------------------------

@dataclass
class WaveRecord:
    number: int
    design: np.ndarray  # unit inputs simulated in this wave (one row per run, replicates repeated)
    outputs: pd.DataFrame  # one row per run, one column per target output
    nroy_share: float  # share of the original box non-implausible after this wave
    emulator_share: float  # mean over NROY samples and targets of the emulator's share of the variance
    diagnostics: dict[str, dict[str, float]]  # leave-one-out, by target
    seed_var: dict[str, float]


@dataclass
class Match:
    """What history matching found."""

    space: Space
    targets: list[Target]
    waves: list[Wave]
    records: list[WaveRecord]
    nroy: np.ndarray  # unit samples of the final non-implausible space
    stopped_because: str
    conflicts: list[str] = field(default_factory=list)


Simulator = Callable[[int, np.ndarray, np.ndarray], pd.DataFrame]


def history_match(space: Space, targets: list[Target], simulate: Simulator, *, wave_size: int, max_waves: int,
                  seed: int, replicate_points: int = 0, replicates: int = 0, min_shrink: float = 0.1,
                  cutoff: float = CUTOFF, say=lambda text: None) -> Match:
    """Waves of design, simulation, emulation and refocusing.

    ``simulate(wave, design, replicate)`` returns the target outputs (one column per ``Target.output``) at the
    unit ``design`` rows, for replicate number ``replicate`` of each row (0 for the design itself; 1.. for the
    extra seeds at the first ``replicate_points`` rows, from which the seed variance is estimated).

    Stops after ``max_waves``, when a wave rules out less than ``min_shrink`` of what was left, when the emulators'
    own variance no longer dominates (below a third of the implausibility's denominator on average), or when
    nothing is left (the patterns conflict; :attr:`Match.conflicts` says which).
    """
    rng = np.random.default_rng(seed)
    waves: list[Wave] = []
    records: list[WaveRecord] = []
    share, stopped = 1.0, f"reached the last wave ({max_waves})"
    seen_u, seen_y = [], []
    for number in range(1, max_waves + 1):
        if number == 1:
            design = latin_hypercube(space.dim, wave_size, seed)
        else:
            pool, _ = sample_nroy(waves, targets, space.dim, 20 * wave_size, rng, cutoff=cutoff)
            design = maximin_subset(pool, wave_size, rng)
        design = np.round(design, 6)
        outputs = simulate(number, design, np.zeros(len(design), int))
        rep_u, rep_y, seed_var = [], [], {}
        if replicate_points and replicates:
            first = min(replicate_points, len(design))
            idx = np.repeat(np.arange(first), replicates)
            rep_y = simulate(number, design[idx], np.tile(np.arange(1, replicates + 1), first))
            rep_u = design[idx]
            keys = np.concatenate([np.arange(first), idx])
            for t in targets:  # pooled variance between seeds at the same input, on the emulated scale
                values = t.scale(np.concatenate([outputs[t.output].to_numpy()[:first], rep_y[t.output].to_numpy()]))
                seed_var[t.name] = float(pd.Series(values).groupby(keys).var(ddof=1).mean())
        seen_u.append(design)
        seen_y.append(outputs)
        if len(rep_u):
            seen_u.append(rep_u)
            seen_y.append(rep_y)
        u_all = np.concatenate(seen_u)
        y_all = pd.concat(seen_y, ignore_index=True)
        # refocus: fit on every run inside the space not yet ruled out by the earlier waves
        inside = non_implausible(waves, targets, u_all, cutoff) if waves else np.ones(len(u_all), bool)
        emulators, diagnostics = {}, {}
        for t in targets:
            y = t.scale(y_all[t.output].to_numpy())[inside]
            emulators[t.name] = fit_emulator(u_all[inside], y, seed=seed + number)
            diagnostics[t.name] = loo_diagnostics(u_all[inside], y, emulators[t.name])
            seed_var.setdefault(t.name, emulators[t.name].noise_var)
        wave = Wave(number, emulators, seed_var)
        waves.append(wave)
        nroy, new_share = sample_nroy(waves, targets, space.dim, 5000, rng, cutoff=cutoff)
        em_share = float("nan")
        if len(nroy):
            table = implausibility(wave, targets, nroy)
            em_share = float(table[[f"{t.name}:emulator_share" for t in targets]].to_numpy().mean())
        records.append(WaveRecord(number, np.concatenate([design, rep_u]) if len(rep_u) else design,
                                  pd.concat([outputs, rep_y], ignore_index=True) if len(rep_u) else outputs,
                                  new_share, em_share, diagnostics, seed_var))
        say(f"wave {number}: {len(u_all[inside])} runs emulated; non-implausible share of the space "
            f"{new_share:.3g} (was {share:.3g}); emulator share of the variance {em_share:.2f}")
        if not len(nroy):
            stopped = f"wave {number} ruled out the whole space: the patterns cannot all be met"
            return Match(space, targets, waves, records, nroy, stopped, conflicts(waves, targets, space.dim, rng))
        shrink = 1.0 - new_share / share if share > 0 else 0.0
        share = new_share
        if number > 1 and shrink < min_shrink:
            stopped = f"wave {number} ruled out only {shrink:.0%} of what was left (less than {min_shrink:.0%})"
            break
        if em_share < 1.0 / 3.0:
            stopped = (f"after wave {number} the emulators' own variance is {em_share:.0%} of the implausibility's "
                       "denominator: seed noise and the bands' widths dominate, so another wave cannot rule out more")
            break
    nroy, _ = sample_nroy(waves, targets, space.dim, 5000, rng, cutoff=cutoff)
    return Match(space, targets, waves, records, nroy, stopped)


def conflicts(waves: list[Wave], targets: list[Target], dim: int, rng: np.random.Generator,
              n: int = 50_000) -> list[str]:
    """When nothing is left: for each pattern, how close the emulated output gets to its band in the space that
    the other patterns leave (a pattern no point of that space can reach is in conflict with them)."""
    u = rng.random((n, dim))
    wave = waves[-1]
    table = implausibility(wave, targets, u)
    names = [t.name for t in targets]
    lines = []
    for t in targets:
        others = [m for m in names if m != t.name]
        ok = (table[others].to_numpy() <= CUTOFF).all(axis=1) if others else np.ones(n, bool)
        alone = float((table[t.name] <= CUTOFF).mean())
        if not ok.any():
            lines.append(f"{t.name}: the other patterns together leave nothing to test it in")
            continue
        mean = t.unscale(wave.emulators[t.name].predict(u[ok])[0])
        gap = np.where(mean < t.low, t.low - mean, np.where(mean > t.high, mean - t.high, 0.0))
        best = int(np.argmin(gap))
        lines.append(f"{t.name}: met alone in {alone:.1%} of the space; where every other pattern is met, its "
                     f"emulated value comes closest at {mean[best]:.4g} against the band [{t.low:g}, {t.high:g}] "
                     f"(short by {gap[best]:.3g})")
    return lines


def constraints(match: Match, n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Which pattern constrains which parameter: for each pattern alone (judged by every wave's emulator of it),
    the share of the space it rules out and, for each parameter, how much it narrows that parameter (1 - the
    interquartile range of what it leaves over a uniform's, 0.5; 0 = not at all, near 1 = pinned down)."""
    u = np.random.default_rng(seed).random((n, match.space.dim))
    rows = []
    for t in [*match.targets, None]:
        judged = match.targets if t is None else [t]
        kept = u[non_implausible(match.waves, judged, u)]
        row = {"pattern": "all patterns" if t is None else t.name, "ruled_out": 1.0 - len(kept) / n}
        for i, name in enumerate(match.space.names):
            if len(kept) >= 20:
                q1, q3 = np.quantile(kept[:, i], [0.25, 0.75])
                row[name] = float(1.0 - (q3 - q1) / 0.5)
            else:
                row[name] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def joint_patterns(points: pd.DataFrame, targets: list[Target]) -> tuple[pd.DataFrame, list[str]]:
    """What the simulations say about which patterns can be met together.

    ``points`` has one column per target name (simulated values; NaN where not simulated). Returns the share of
    points meeting each pair of patterns (diagonal: each alone), and for each pattern a line: among the points
    that meet the most of the other patterns, the value closest to its band and by how much it misses.
    """
    names = [t.name for t in targets if t.name in points.columns]
    by_name = {t.name: t for t in targets}
    inside = pd.DataFrame({n: by_name[n].inside(points[n]) & points[n].notna() for n in names})
    known = points[names].notna()
    joint = pd.DataFrame(index=names, columns=names, dtype=float)
    for a in names:
        for b in names:
            both = known[a] & known[b]
            joint.loc[a, b] = float((inside[a] & inside[b])[both].mean()) if both.any() else np.nan
    lines = []
    for n in names:
        t = by_name[n]
        others = [m for m in names if m != n]
        usable = known[[n, *others]].all(axis=1)
        if not usable.any():
            continue
        met = inside.loc[usable, others].sum(axis=1)
        best = met.max()
        pool = points.loc[met.index[met == best], n]
        gap = np.where(pool < t.low, t.low - pool, np.where(pool > t.high, pool - t.high, 0.0))
        closest = pool.iloc[int(np.argmin(gap))]
        share = float(inside.loc[pool.index, n].mean())
        lines.append(f"{n}: of the {len(pool)} simulated points that meet {best} of the {len(others)} other patterns, "
                     f"{share:.0%} meet it too; the closest value is {closest:.4g} against [{t.low:g}, {t.high:g}]"
                     + (f" (short by {float(np.min(gap)):.3g})" if np.min(gap) > 0 else ""))
    return joint, lines
