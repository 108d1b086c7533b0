"""History matching with Gaussian-process emulators (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015;
the R package hmer, Iskauskas et al. 2024).

A stochastic simulator with outputs f_j(x) (their expectation over seeds at the input x) is matched to observed
patterns, each a band [low_j, high_j], in waves. Each wave simulates a space-filling design inside the space not
yet ruled out, emulates each output (:func:`fit_emulator`), checks every emulator on runs it was not fitted to
(:func:`validate`), and rules out every x whose implausibility

    I_j(x) = max(0, low_j - E[f_j(x)], E[f_j(x)] - high_j)
             / sqrt(c_j L_j(x) (Var_emulator_j(x) + Var_seed_j(x)) + Var_discrepancy_j)

exceeds the cut-off (3, by Pukelsheim's three-sigma rule) for any output whose emulator passed validation. What
is left is the non-implausible space (NROY: "not ruled out yet"). Waves are applied in sequence: a point must pass
every wave's validated emulators.

- **Band, not point.** I_j is zero inside the band and measured to the nearer edge outside it (as hmer does for a
  target given as a range), on the emulated scale (the band mapped through :meth:`Target.scale`). There is no
  separate observation variance: the band already is the observation's uncertainty (the range in which the
  pattern is observed), and a variance for it as well would count it twice and rule out less than the band says.
  A pattern whose figure has an error beyond its band says so with ``discrepancy`` (a standard deviation on the
  emulated scale).
- **Emulators.** A linear mean in the output's active inputs (forward selection of linear and squared terms by
  BIC, at most ``MAX_ACTIVE``; :func:`select_active`) plus a Gaussian process on the residuals over the same inputs
  (Matern 5/2, one length scale each, by maximum likelihood), with a nugget: the seed noise when the seed variance
  is not known, otherwise what the active inputs leave unexplained, which then counts as emulator variance.
- **Seed variance that varies over the space.** Var_seed_j(x) is the simulator's variance between seeds at x: at
  the replicated points, the log of the sample variance (less its chi-square bias, digamma(nu/2) - log(nu/2) for
  nu degrees of freedom) is regressed on the inputs by ridge regression with a cross-validated penalty
  (:func:`fit_seed_variance`); with fewer than ``MIN_VARIANCE_POINTS`` replicated points it is the pooled variance
  everywhere; without replicates, the emulator's fitted nugget. The same variance is the emulator's per-run noise.
- **Validated emulators only.** Before a wave's emulator may rule anything out, it is fitted again in each of
  ``folds`` folds of the runs it will be fitted to (replicates of a point kept together; active inputs and
  hyperparameters re-estimated in every fold) and judged on the runs held out (:func:`judge`): standardised
  errors with the emulator's variance plus the seed variance, their coverage of +-2 and +-3 standard deviations,
  r2, and misclassification (a held-out run within reach of the band by its seed noise that the emulator would
  rule out). The held-out errors first give L_j(x) >= 1 (:class:`LocalFactor`, a ridge regression of their log
  squares on the inputs, cross-fitted across the folds): where the emulator errs more than it says, e.g. near a
  tipping point with large, bimodal seed noise, its variance widens there. Then c_j >= 1 is the smallest factor
  with which the held-out runs pass (recorded as ``inflation``; 1 = passed as fitted). An emulator that explains
  nothing (held-out r2 <= 0) or needs c_j above ``max_inflation`` is dropped for that wave: it rules nothing out.
- **Stopping.** At least ``min_waves`` (2) waves unless nothing is left; after that, a wave that ruled out less
  than ``min_shrink`` of what was left, or whose emulators' own variance no longer dominates, ends the search only
  if none of its emulators was dropped; otherwise the search goes on to ``max_waves``.

Everything here is pure (arrays in, arrays out) and simulator-agnostic: :func:`history_match` takes the simulator
as a function, so the tests run it on toy simulators with known answers (tests/experiments/stats/
test_history_matching.py, including a stochastic SIR with a hidden true point); ``experiments.calibrate`` passes
the place model on the engine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special

CUTOFF = 3.0
FOLDS = 5  # validation folds per wave
MIN_R2 = 0.0  # an emulator whose held-out r2 is not above this explains nothing: dropped
MAX_INFLATION = 25.0  # an emulator needing its variance multiplied by more (sd x 5) is dropped
COVERAGE_2SD = 0.90  # shares of held-out standardised errors that must lie within +-2 and +-3 sd (Gaussian: 0.954,
COVERAGE_3SD = 0.98  # 0.997; the slack is for the sampling error of ~20-300 held-out runs)
MAX_ACTIVE = 10  # inputs an emulator's Gaussian process may use (the rest act through its nugget)
MIN_VARIANCE_POINTS = 10  # replicated points needed to model the seed variance over the space
MIN_LOCAL_POINTS = 20  # held-out runs needed to let the variance factor vary over the space
MIN_RUNS = 8  # runs needed to fit an emulator


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
    def band(self) -> tuple[float, float]:
        """The band on the emulated scale."""
        return float(self.scale(self.low)), float(self.scale(self.high))

    def distance(self, values) -> np.ndarray:
        """How far values on the emulated scale lie outside the band (0 inside it)."""
        low, high = self.band
        values = np.asarray(values, dtype=float)
        return np.maximum(0.0, np.maximum(low - values, values - high))

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

_SQRT5 = math.sqrt(5.0)
_LOG_LENGTH = (math.log(0.01), math.log(100.0))  # bounds of the length scales, in unit inputs
_LOG_SIGNAL = (math.log(1e-4), math.log(1e2))  # of the Gaussian process's variance (residuals scaled to sd 1)
_LOG_NUGGET = (math.log(1e-6), math.log(1e1))
_JITTER = 1e-8


def _single_threaded(function):
    """Run with one BLAS thread: these matrices are small, and on a shared machine a second BLAS thread waiting for
    a busy core makes a Cholesky factorisation ~25 times slower."""
    from threadpoolctl import threadpool_limits

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)
    return wrapper


def _matern(r2: np.ndarray) -> np.ndarray:
    """Matern 5/2 correlation at squared scaled distances."""
    s = _SQRT5 * np.sqrt(np.maximum(r2, 0.0))
    return (1.0 + s + s * s / 3.0) * np.exp(-s)


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def _negative_log_likelihood(theta: np.ndarray, sq: np.ndarray, r: np.ndarray, noise: np.ndarray):
    """-log p(r | theta) and its gradient, for a zero-mean Gaussian process with covariance
    signal * Matern(distance / length) + (nugget + noise) I; ``sq`` holds each input's squared differences (d, n, n)
    and theta is (log length..., log signal, log nugget)."""
    d, n = sq.shape[0], len(r)
    inv_l2 = np.exp(-2.0 * theta[:d])
    signal, nugget = math.exp(theta[d]), math.exp(theta[d + 1])
    r2 = np.tensordot(inv_l2, sq, axes=1)
    dist = np.sqrt(r2)
    decay = np.exp(-_SQRT5 * dist)
    corr = (1.0 + _SQRT5 * dist + 5.0 * r2 / 3.0) * decay
    a = signal * corr
    a[np.diag_indices(n)] += nugget + noise + _JITTER
    try:
        chol = linalg.cho_factor(a, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = linalg.cho_solve(chol, r, check_finite=False)
    value = 0.5 * r @ alpha + np.log(np.diag(chol[0])).sum() + 0.5 * n * math.log(2 * math.pi)
    w = np.outer(alpha, alpha) - linalg.cho_solve(chol, np.eye(n), check_finite=False)
    slope = (5.0 / 3.0) * (1.0 + _SQRT5 * dist) * decay  # d corr / d log length_k = slope * sq_k / length_k^2
    grad = np.empty_like(theta)
    grad[:d] = -0.5 * signal * inv_l2 * np.tensordot(sq, w * slope, axes=([1, 2], [0, 1]))
    grad[d] = -0.5 * signal * float((w * corr).sum())
    grad[d + 1] = -0.5 * nugget * float(np.trace(w))
    return float(value), grad


def _backward(u: np.ndarray, y: np.ndarray, limit: int, tiny: float) -> list[int]:
    """Backward elimination from the linear model in every input, by BIC, down to at most ``limit`` inputs
    (removing input j raises the residual sum of squares by coef_j^2 / [(X'X)^-1]_jj)."""
    n = len(y)
    keep = list(range(u.shape[1]))
    while keep:
        x = np.column_stack([np.ones(n), u[:, keep]])
        inverse = np.linalg.pinv(x.T @ x)
        coef = inverse @ (x.T @ y)
        rss = float(((y - x @ coef) ** 2).sum())
        rise = coef[1:] ** 2 / np.maximum(np.diag(inverse)[1:], 1e-300)
        j = int(np.argmin(rise))
        better = n * math.log(max(rss + rise[j], tiny) / n) - math.log(n) < n * math.log(max(rss, tiny) / n)
        if not better and len(keep) <= limit:
            break
        del keep[j]
    return keep


def select_active(u: np.ndarray, y: np.ndarray, max_active: int = MAX_ACTIVE) -> np.ndarray:
    """The inputs an output visibly depends on (Vernon et al. 2010's active variables), by the Bayesian
    information criterion: backward elimination from the linear model in every input (when there are runs enough),
    which finds inputs that act only together, as correlated inputs do in a refocused space, then forward selection
    of further inputs; and forward selection alone. Each input enters with a linear and a squared term (curved
    effects); the set whose model has the lower BIC is kept. At most ``max_active`` inputs; at least one."""
    n, d = u.shape
    limit = max(1, min(max_active, d, (n - 2) // 4))
    total = float(((y - y.mean()) ** 2).sum())
    tiny = 1e-12 * total + 1e-300

    def bic(design):
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        rss = float(((y - design @ coef) ** 2).sum())
        return n * math.log(max(rss, tiny) / n) + design.shape[1] * math.log(n)

    def forward(chosen):
        x = np.column_stack([np.ones(n), *(u[:, i] ** p for i in chosen for p in (1, 2))])
        best = bic(x)
        while len(chosen) < limit:
            scores = {i: bic(np.column_stack([x, u[:, i], u[:, i] ** 2])) for i in range(d) if i not in chosen}
            i = min(scores, key=scores.get)
            if chosen and scores[i] >= best:
                break
            chosen = [*chosen, i]
            x = np.column_stack([x, u[:, i], u[:, i] ** 2])
            best = scores[i]
        return chosen, best

    chosen, best = forward([])
    if n >= d + 10:
        other, score = forward(_backward(u, y, limit, tiny))
        if score < best:
            chosen = other
    return np.array(sorted(chosen), dtype=int)


@dataclass
class Emulator:
    """An emulator of one output's expectation: a linear mean in the active inputs plus a Gaussian process (Matern
    5/2, one length scale per active input) on the residuals, with a nugget.

    Fitted with ``noise`` (each run's seed variance, known from the replicates), the nugget stands for what the
    active inputs and the smooth process leave unexplained (the inactive inputs' effects, lack of fit) and is part
    of the emulator's own variance. Fitted without, the nugget is the simulator's seed variance (``noise_var``).
    """

    active: np.ndarray  # indices of the active inputs
    coef: np.ndarray  # the linear mean, on [1, u[:, active]]
    length: np.ndarray  # length scales of the active inputs (unit inputs)
    signal: float  # the Gaussian process's variance (output units)
    nugget: float  # output units
    noise: np.ndarray | None  # the per-run seed variance it was fitted with, or None
    scale: float  # residual standard deviation used to normalise
    train: np.ndarray = field(repr=False)  # active training inputs divided by the length scales
    weights: np.ndarray = field(repr=False)  # A^-1 r (normalised)
    inverse: np.ndarray = field(repr=False)  # A^-1 (normalised)

    @property
    def noise_var(self) -> float:
        """The simulator's variance between seeds at a fixed input, as the emulator knows it (output units)."""
        return self.nugget if self.noise is None else float(np.mean(self.noise))

    def _mean_design(self, u: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(u)), u[:, self.active]])

    @_single_threaded
    def predict(self, u: np.ndarray, batch: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """Emulated expectation and the emulator's own variance at unit inputs (code uncertainty; the nugget is
        included when it is not the seed noise)."""
        u = np.atleast_2d(np.asarray(u, float))
        mean, var = np.empty(len(u)), np.empty(len(u))
        signal = self.signal / self.scale**2
        for start in range(0, len(u), batch):
            part = u[start:start + batch]
            k = signal * _matern(_sqdist(part[:, self.active] / self.length, self.train))
            mean[start:start + batch] = self._mean_design(part) @ self.coef + self.scale * (k @ self.weights)
            own = signal - np.einsum("ij,ij->i", k @ self.inverse, k)
            var[start:start + batch] = self.scale**2 * np.maximum(own, 0.0)
        if self.noise is not None:
            var += self.nugget
        return mean, var

    @property
    def theta(self) -> np.ndarray:
        return np.concatenate([np.log(self.length), [math.log(self.signal / self.scale**2),
                                                     math.log(self.nugget / self.scale**2)]])


def _fit_at(u, y, active, theta, noise) -> Emulator:
    """The emulator with given active inputs and hyperparameters (theta, on the normalised scale)."""
    x = np.column_stack([np.ones(len(u)), u[:, active]])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    scale = float(residual.std()) or 1.0
    d = len(active)
    length = np.exp(theta[:d])
    signal, nugget = math.exp(theta[d]), math.exp(theta[d + 1])
    train = u[:, active] / length
    a = signal * _matern(_sqdist(train, train))
    a[np.diag_indices(len(y))] += nugget + (0.0 if noise is None else noise / scale**2) + _JITTER
    chol = linalg.cho_factor(a, lower=True, check_finite=False)
    inverse = linalg.cho_solve(chol, np.eye(len(y)), check_finite=False)
    return Emulator(active, coef, length, signal * scale**2, nugget * scale**2, noise, scale, train,
                    inverse @ (residual / scale), inverse)


@_single_threaded
def fit_emulator(u: np.ndarray, y: np.ndarray, seed: int = 0, restarts: int = 2,
                 noise: np.ndarray | None = None, active: np.ndarray | None = None) -> Emulator:
    """Fit an emulator to outputs ``y`` at unit inputs ``u`` (rows with a NaN output are left out): active inputs
    by :func:`select_active` (unless given), the linear mean by least squares, the Gaussian process's
    hyperparameters by maximum likelihood (L-BFGS-B from a default start and ``restarts`` random ones).
    ``noise``: each run's seed variance, when known (a heteroscedastic nugget)."""
    u, y = np.atleast_2d(np.asarray(u, float)), np.asarray(y, float)
    keep = np.isfinite(y)
    if noise is not None:
        noise = np.asarray(noise, float)
        keep &= np.isfinite(noise)
    u, y = u[keep], y[keep]
    noise = None if noise is None else np.maximum(noise[keep], 0.0)
    if len(y) < MIN_RUNS:
        raise ValueError(f"{len(y)} runs are too few to emulate (need {MIN_RUNS})")
    active = select_active(u, y) if active is None else np.asarray(active, int)
    x = np.column_stack([np.ones(len(u)), u[:, active]])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    scale = float(residual.std()) or 1.0
    r = residual / scale
    scaled_noise = np.zeros(len(y)) if noise is None else noise / scale**2
    d = len(active)
    sq = np.stack([(u[:, i, None] - u[None, :, i]) ** 2 for i in active])
    bounds = [_LOG_LENGTH] * d + [_LOG_SIGNAL, _LOG_NUGGET]
    known = float(scaled_noise.mean())
    starts = [np.concatenate([np.full(d, math.log(0.5)), [math.log(max(1.0 - known, 0.05)),
                                                           math.log(max(0.1 * (1.0 - known), 1e-3))]])]
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        starts.append(np.concatenate([rng.uniform(math.log(0.1), math.log(2.0), d),
                                      [rng.uniform(math.log(0.05), math.log(2.0)),
                                       rng.uniform(math.log(1e-4), math.log(0.5))]]))
    best = None
    for start in starts:
        result = optimize.minimize(_negative_log_likelihood, start, args=(sq, r, scaled_noise), jac=True,
                                   method="L-BFGS-B", bounds=bounds, options={"maxiter": 200})
        if best is None or result.fun < best.fun:
            best = result
    return _fit_at(u, y, active, best.x, noise)


@_single_threaded
def loo_diagnostics(u: np.ndarray, y: np.ndarray, emulator: Emulator) -> dict[str, float]:
    """Leave-one-out validation with the emulator's hyperparameters held fixed (closed form; Rasmussen & Williams
    2006, eq. 5.12). Quick but optimistic: the hyperparameters have seen every run (:func:`validate` re-estimates
    them without the runs it predicts). ``r2`` (1 - SSE/SST), ``rmse``, ``coverage`` (share of standardised errors
    within +-3, with the emulator's variance plus the seed noise; about 0.99 when honest) and ``n``."""
    u, y = np.atleast_2d(np.asarray(u, float)), np.asarray(y, float)
    keep = np.isfinite(y)
    u, y = u[keep], y[keep]
    noise = emulator.noise[keep] if emulator.noise is not None and len(emulator.noise) == len(keep) else None
    fitted = _fit_at(u, y, emulator.active, emulator.theta, noise)
    x = fitted._mean_design(u)
    r = (y - x @ fitted.coef) / fitted.scale
    diag = np.diag(fitted.inverse)
    error = fitted.scale * (fitted.inverse @ r) / diag  # y_i minus its prediction from the others
    variance = fitted.scale**2 / diag  # includes the nugget and the seed noise
    sst = float(((y - y.mean()) ** 2).sum())
    return {"n": len(y), "r2": 1.0 - float((error**2).sum()) / sst if sst > 0 else float("nan"),
            "rmse": float(np.sqrt((error**2).mean())),
            "coverage": float((np.abs(error) <= CUTOFF * np.sqrt(variance)).mean())}


# --- the seed variance --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeedVariance:
    """The simulator's variance between seeds over the space, on the emulated scale: exp of a linear model of the
    log variance (``coef`` on the unit inputs, clipped to the range of the replicated points' values), or the
    pooled variance everywhere (``coef`` None)."""

    pooled: float
    points: int  # replicated points it was estimated from
    intercept: float = 0.0
    coef: np.ndarray | None = None
    low: float = -np.inf  # clip of the log variance
    high: float = np.inf

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(np.asarray(u, float))
        if self.coef is None:
            return np.full(len(u), self.pooled)
        return np.exp(np.clip(self.intercept + u @ self.coef, self.low, self.high))


def log_variance_bias(dof) -> np.ndarray:
    """E[log s^2] - log sigma^2 for a sample variance with ``dof`` degrees of freedom (Gaussian data)."""
    half = np.asarray(dof, float) / 2.0
    return special.digamma(half) - np.log(half)


def fit_seed_variance(u: np.ndarray, y: np.ndarray, groups: np.ndarray,
                      min_points: int = MIN_VARIANCE_POINTS) -> SeedVariance | None:
    """The seed variance from runs sharing an input (same ``groups`` label): None without replicates; the pooled
    variance when fewer than ``min_points`` points are replicated (or the variance is zero); otherwise a ridge
    regression (penalty by cross-validation; each point weighted by the inverse variance of its log sample
    variance, trigamma(nu/2)) of the bias-corrected log sample variances on the inputs."""
    from sklearn.linear_model import RidgeCV

    frame = pd.DataFrame({"group": np.asarray(groups), "y": np.asarray(y, float)}).dropna()
    stats = frame.groupby("group")["y"].agg(["count", "var"])
    stats = stats[(stats["count"] >= 2) & stats["var"].notna()]
    if stats.empty:
        return None
    dof = (stats["count"] - 1).to_numpy(float)
    variance = stats["var"].to_numpy(float)
    pooled = float((dof * variance).sum() / dof.sum())
    if len(stats) < min_points or pooled <= 0:
        return SeedVariance(pooled, len(stats))
    first = pd.Series(np.arange(len(groups)), index=np.asarray(groups)).groupby(level=0).first()
    x = np.atleast_2d(np.asarray(u, float))[first.loc[stats.index].to_numpy()]
    z = np.log(np.maximum(variance, 1e-3 * pooled)) - log_variance_bias(dof)  # a zero: identical replicates
    weight = 1.0 / special.polygamma(1, dof / 2.0)
    model = RidgeCV(alphas=np.logspace(-3, 4, 29)).fit(x, z, sample_weight=weight)
    return SeedVariance(pooled, len(stats), float(model.intercept_), np.asarray(model.coef_, float),
                        float(z.min()), float(z.max()))


# --- validation ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalFactor:
    """A variance factor that varies over the space, never below 1: exp of a ridge regression of held-out runs'
    log squared standardised errors (less the chi-square bias of one degree of freedom) on the unit inputs, floored
    at 0 and clipped at the largest value seen. Where the emulator's errors are larger than its variance says
    (near a tipping point, say, where the seed noise is large and bimodal), it widens the variance there."""

    intercept: float = 0.0
    coef: np.ndarray | None = None
    high: float = 0.0

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(np.asarray(u, float))
        if self.coef is None:
            return np.ones(len(u))
        return np.exp(np.clip(self.intercept + u @ self.coef, 0.0, self.high))


def fit_local_factor(u: np.ndarray, z: np.ndarray, min_points: int = MIN_LOCAL_POINTS) -> LocalFactor:
    """The :class:`LocalFactor` of standardised errors ``z`` at unit inputs ``u`` (1 everywhere with fewer than
    ``min_points`` of them)."""
    from sklearn.linear_model import RidgeCV

    u, z = np.atleast_2d(np.asarray(u, float)), np.asarray(z, float)
    if len(z) < min_points:
        return LocalFactor()
    log_z2 = np.log(np.maximum(z**2, 1e-4)) - float(log_variance_bias(1.0))
    model = RidgeCV(alphas=np.logspace(-3, 4, 29)).fit(u, log_z2)
    return LocalFactor(float(model.intercept_), np.asarray(model.coef_, float), float(max(log_z2.max(), 0.0)))


def _needed(values: np.ndarray, share: float, limit: float) -> float:
    """The smallest variance factor c with at least ``share`` of |standardised errors| / sqrt(c) within limit."""
    if not len(values):
        return 1.0
    k = max(1, math.ceil(share * len(values) - 1e-9))
    return float((np.sort(values)[k - 1] / limit) ** 2)


def _standardiser(y: np.ndarray, em_var: np.ndarray, seed_var: np.ndarray) -> np.ndarray:
    """em_var + seed_var, kept off zero (a deterministic output emulated exactly)."""
    floor = 1e-12 * float(np.var(y)) + 1e-300 if len(y) else 1e-300
    return np.maximum(em_var + seed_var, floor)


def judge(y: np.ndarray, mean: np.ndarray, em_var: np.ndarray, seed_var: np.ndarray, target: Target,
          max_inflation: float = MAX_INFLATION, local: np.ndarray | None = None) -> dict:
    """Judge predictions of held-out runs ``y`` (emulated scale): the emulator's ``mean`` and variance ``em_var``
    there, the seed variance ``seed_var`` and the local variance factor ``local`` (1 if not given).

    ``coverage`` and ``coverage_2sd``: shares of standardised errors (y - mean) / sqrt(local (em_var + seed_var))
    within +-3 and +-2; ``misclassified``: held-out runs within reach of the band by seed noise alone (distance to
    the band at most 3 sqrt(local seed_var + discrepancy^2)) whose emulated implausibility exceeds the cut-off.
    ``inflation``: the smallest factor c >= 1 on that variance with at least COVERAGE_2SD within +-2, COVERAGE_3SD
    within +-3 and nothing misclassified. ``used``: r2 > MIN_R2 and inflation <= max_inflation; ``note`` says why
    not.
    """
    y, mean = np.asarray(y, float), np.asarray(mean, float)
    em_var, seed_var = np.broadcast_to(em_var, y.shape), np.broadcast_to(seed_var, y.shape)
    error = y - mean
    sst = float(((y - y.mean()) ** 2).sum())
    local = np.ones(len(y)) if local is None else np.asarray(local, float)
    variance = local * _standardiser(y, em_var, seed_var)
    z = np.abs(error) / np.sqrt(variance)
    r2 = 1.0 - float((error**2).sum()) / sst if sst > 0 else float("nan")
    discrepancy = target.discrepancy**2
    reachable = target.distance(y) <= CUTOFF * np.sqrt(seed_var * local + discrepancy)
    emulated = target.distance(mean)
    misclassified = reachable & (emulated > CUTOFF * np.sqrt(variance + discrepancy))
    needs = [1.0, _needed(z, COVERAGE_2SD, 2.0), _needed(z, COVERAGE_3SD, CUTOFF)]
    if reachable.any():
        needs.append(float((((emulated / CUTOFF) ** 2 - discrepancy) / variance)[reachable].max()))
    inflation = max(needs)
    notes = []
    if not r2 > MIN_R2:
        notes.append(f"held-out r2 {r2:.2f}: explains nothing")
    if inflation > max_inflation:
        notes.append(f"needs its variance x{inflation:.3g} (more than x{max_inflation:g})")
    return {"n": len(y), "r2": r2, "rmse": float(np.sqrt((error**2).mean())) if len(y) else float("nan"),
            "coverage": float((z <= CUTOFF).mean()), "coverage_2sd": float((z <= 2.0).mean()),
            "misclassified": int(misclassified.sum()), "inflation": float(inflation), "used": not notes,
            "note": "dropped: " + "; ".join(notes) if notes else ("inflated" if inflation > 1 else "")}


@_single_threaded
def validate(u: np.ndarray, y: np.ndarray, groups: np.ndarray, target: Target,
             seed_model: SeedVariance | None = None, folds: int = FOLDS, seed: int = 0, restarts: int = 0,
             max_inflation: float = MAX_INFLATION) -> tuple[dict, LocalFactor]:
    """k-fold validation of the emulator of ``y`` (emulated scale) at unit inputs ``u``: runs sharing a ``groups``
    label (replicates of one point) are held out together, and each fold's emulator is fitted afresh (active
    inputs and hyperparameters) to the other folds only. The held-out standardised errors then give a
    :class:`LocalFactor` (cross-fitted: each fold's from the others' errors) before :func:`judge` finds the global
    factor. Returns the verdict (plus ``folds`` and ``local_max``, the local factor's largest value at the runs)
    and the local factor fitted to every fold's errors."""
    u, y, groups = np.atleast_2d(np.asarray(u, float)), np.asarray(y, float), np.asarray(groups)
    keep = np.isfinite(y)
    u, y, groups = u[keep], y[keep], groups[keep]
    labels = np.unique(groups)
    k = max(2, min(folds, len(labels)))
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(labels), np.arange(len(labels)) % k, strict=True))
    fold = np.array([fold_of[g] for g in groups])
    mean, em_var, seed_var = np.empty(len(y)), np.empty(len(y)), np.empty(len(y))
    for f in range(k):
        test, train = fold == f, fold != f
        emulator = fit_emulator(u[train], y[train], seed=seed + f, restarts=restarts,
                                noise=None if seed_model is None else seed_model(u[train]))
        mean[test], em_var[test] = emulator.predict(u[test])
        seed_var[test] = emulator.noise_var if seed_model is None else seed_model(u[test])
    z = np.abs(y - mean) / np.sqrt(_standardiser(y, em_var, seed_var))
    local = np.empty(len(y))
    for f in range(k):  # each fold's factor from the other folds' errors, so that it too is judged on fresh runs
        local[fold == f] = fit_local_factor(u[fold != f], z[fold != f])(u[fold == f])
    verdict = judge(y, mean, em_var, seed_var, target, max_inflation, local)
    factor = fit_local_factor(u, z)
    return {**verdict, "folds": k, "local_max": float(factor(u).max())}, factor


# --- implausibility and the non-implausible space -----------------------------------------------------------------

@dataclass
class Wave:
    """One wave's emulators, the seed variance they judge with, and their validation: each emulator's variance
    factor (``inflation``) and whether it may rule anything out (``used``)."""

    number: int
    emulators: dict[str, Emulator]  # by target name (a target whose emulator could not be fitted is missing)
    seed_var: dict[str, float]  # by target name: the pooled seed variance (for reports)
    seed_models: dict[str, SeedVariance] = field(default_factory=dict)  # by target name, where replicated
    inflation: dict[str, float] = field(default_factory=dict)
    used: dict[str, bool] = field(default_factory=dict)
    local: dict[str, LocalFactor] = field(default_factory=dict)  # by target name: the variance factor over the space

    def judges(self, name: str) -> bool:
        return name in self.emulators and self.used.get(name, True)

    def terms(self, name: str, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Emulated expectation, emulator variance and seed variance at unit inputs (before inflation)."""
        emulator = self.emulators[name]
        mean, em_var = emulator.predict(u)
        model = self.seed_models.get(name)
        return mean, em_var, model(u) if model is not None else np.full(len(mean), emulator.noise_var)


def _implausibility_of(wave: Wave, t: Target, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not wave.judges(t.name):
        return np.zeros(len(u)), np.full(len(u), np.nan)
    mean, em_var, seed_var = wave.terms(t.name, u)
    c = wave.inflation.get(t.name, 1.0)
    if t.name in wave.local:
        c = c * wave.local[t.name](u)
    total = c * (em_var + seed_var) + t.discrepancy**2
    distance = t.distance(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(distance > 0, distance / np.sqrt(total), 0.0)
        share = c * em_var / total
    return value, share


def implausibility(wave: Wave, targets: list[Target], u: np.ndarray) -> pd.DataFrame:
    """I_j at unit inputs ``u``, one column per target (0 for a target whose emulator this wave dropped); also
    ``emulator_share`` columns: the emulator's share of the denominator's variance (NaN where dropped; above a half
    it still dominates, and another wave can help)."""
    out = {}
    for t in targets:
        out[t.name], out[f"{t.name}:emulator_share"] = _implausibility_of(wave, t, u)
    return pd.DataFrame(out)


def non_implausible(waves: list[Wave], targets: list[Target], u: np.ndarray, cutoff: float = CUTOFF) -> np.ndarray:
    """Which unit inputs pass every target of every wave."""
    u = np.atleast_2d(u)
    keep = np.ones(len(u), dtype=bool)
    for wave in waves:
        for t in targets:
            if not keep.any():
                return keep
            if wave.judges(t.name):
                rows = np.flatnonzero(keep)
                keep[rows] = _implausibility_of(wave, t, u[rows])[0] <= cutoff
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


def fit_probability(records: list[WaveRecord], targets: list[Target], points: np.ndarray, seed: int = 0,
                    trees: int = 200) -> np.ndarray:
    """Chance that each of ``points`` (unit inputs) lands in every band, as the waves' own runs say: one
    random-forest classifier per target (scikit-learn; in its band or not, from every run's output), their
    probabilities multiplied as if independent. A ranking, not a verdict: it chooses which non-implausible points
    are simulated first when a calibration looks for worlds that fit, and only their simulation decides. Where
    the patterns that bind are met together only in a thin part of the space the emulators cannot resolve, this
    finds it far more often than a spread over all of the space does. A target that every run (or none) meets
    ranks nothing."""
    from sklearn.ensemble import RandomForestClassifier

    u = np.concatenate([r.design for r in records])
    outputs = pd.concat([r.outputs for r in records], ignore_index=True)
    log_p = np.zeros(len(points))
    for t in targets:
        if t.output not in outputs:
            continue
        y = outputs[t.output].to_numpy(dtype=float)
        ok = np.isfinite(y)
        inside = t.inside(y[ok])
        if inside.all() or not inside.any():
            continue
        forest = RandomForestClassifier(trees, min_samples_leaf=3, random_state=seed, n_jobs=1)
        forest.fit(u[ok], inside)
        log_p += np.log(np.clip(forest.predict_proba(points)[:, list(forest.classes_).index(True)], 1e-3, 1.0))
    return np.exp(log_p)


def seed_spread(waves: list[Wave], t: Target, u: np.ndarray) -> np.ndarray:
    """The seed standard deviation of target ``t`` at unit inputs ``u`` (emulated scale), as the last wave that
    estimated it says, with that wave's variance factors for ``t`` (never below 1, so never narrower than the
    seed variance itself); NaN where no wave estimated it."""
    u = np.atleast_2d(np.asarray(u, float))
    for wave in reversed(waves):
        model = wave.seed_models.get(t.name)
        if model is not None:
            variance = model(u)
        elif t.name in wave.emulators:
            variance = np.full(len(u), wave.emulators[t.name].noise_var)
        else:
            continue
        factor = max(1.0, float(np.nan_to_num(wave.inflation.get(t.name, 1.0), nan=1.0)))
        if t.name in wave.local:
            factor = factor * wave.local[t.name](u)
        return np.sqrt(np.maximum(variance * factor, 0.0))
    return np.full(len(u), np.nan)


def within_reach(waves: list[Wave], targets: list[Target], u: np.ndarray, outputs: pd.DataFrame,
                 sds: float = CUTOFF) -> np.ndarray:
    """Which points may still land in every band when more seeds are averaged: for every target, the one seed's
    output (``outputs[t.output]``, one row per point) lies within ``sds`` seed standard deviations
    (:func:`seed_spread`) of the band on the emulated scale. A sequential test: a point whose expectation is inside
    every band fails it only if some seed error exceeds ``sds`` standard deviations (under Gaussian noise 0.27 %
    a target at 3), so the points it stops are almost surely ones the mean over seeds would reject, at a third of
    their cost. A target with no seed variance, or a missing output, stops nothing."""
    keep = np.ones(len(u), bool)
    for t in targets:
        if t.output not in outputs:
            continue
        y = t.scale(outputs[t.output].to_numpy(dtype=float))
        spread = seed_spread(waves, t, u)
        far = t.distance(y) > sds * spread
        keep &= ~(far & np.isfinite(spread) & np.isfinite(y))
    return keep


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
    emulator_share: float  # mean over NROY samples and validated targets of the emulator's share of the variance
    diagnostics: dict[str, dict]  # by target: held-out validation (:func:`judge`), ``folds``, ``active`` inputs
    seed_var: dict[str, float]  # by target: the pooled seed variance


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


def _emulate(t: Target, u: np.ndarray, y: np.ndarray, groups: np.ndarray, seed_model: SeedVariance | None,
             folds: int, seed: int, max_inflation: float) -> tuple[Emulator | None, LocalFactor, dict]:
    """Validate, then fit on every run: the final emulator (None if it cannot be fitted), its local variance
    factor and its record."""
    try:
        check, factor = validate(u, y, groups, t, seed_model, folds=folds, seed=seed, max_inflation=max_inflation)
        emulator = fit_emulator(u, y, seed=seed, noise=None if seed_model is None else seed_model(u))
    except ValueError as exc:
        return None, LocalFactor(), {"n": int(np.isfinite(y).sum()), "r2": float("nan"), "rmse": float("nan"),
                                     "coverage": float("nan"), "coverage_2sd": float("nan"), "misclassified": 0,
                                     "inflation": float("nan"), "used": False, "note": f"dropped: {exc}",
                                     "folds": 0, "local_max": float("nan"), "active": 0}
    return emulator, factor, {**check, "active": len(emulator.active)}


def history_match(space: Space, targets: list[Target], simulate: Simulator, *, wave_size: int, max_waves: int,
                  seed: int, replicate_points: int = 0, replicates: int = 0, min_shrink: float = 0.1,
                  cutoff: float = CUTOFF, validation_folds: int = FOLDS, max_inflation: float = MAX_INFLATION,
                  min_waves: int = 2, say=lambda text: None) -> Match:
    """Waves of design, simulation, emulation, validation and refocusing.

    ``simulate(wave, design, replicate)`` returns the target outputs (one column per ``Target.output``) at the
    unit ``design`` rows, for replicate number ``replicate`` of each row (0 for the design itself; 1.. for the
    extra seeds at the first ``replicate_points`` rows, from which the seed variance is estimated).

    Each wave's emulators are fitted to every run so far inside the space the earlier waves left, validated on
    ``validation_folds`` folds (:func:`validate`), inflated or dropped as that says, and then rule out space.

    Stops when nothing is left (the patterns conflict; :attr:`Match.conflicts` says which), after ``max_waves``,
    or, from wave ``min_waves`` on and only when every emulator of the wave passed validation (none dropped): when
    a wave rules out less than ``min_shrink`` of what was left, or when the emulators' own variance no longer
    dominates (below a third of the implausibility's denominator on average over what is left).
    """
    rng = np.random.default_rng(seed)
    waves: list[Wave] = []
    records: list[WaveRecord] = []
    share, stopped = 1.0, f"reached the last wave ({max_waves})"
    seen_u, seen_y, seen_groups = [], [], []
    next_group = 0
    for number in range(1, max_waves + 1):
        if number == 1:
            design = latin_hypercube(space.dim, wave_size, seed)
        else:
            pool, _ = sample_nroy(waves, targets, space.dim, 20 * wave_size, rng, cutoff=cutoff)
            design = maximin_subset(pool, wave_size, rng)
        design = np.round(design, 6)
        outputs = simulate(number, design, np.zeros(len(design), int))
        groups = next_group + np.arange(len(design))
        next_group += len(design)
        seen_u.append(design)
        seen_y.append(outputs)
        seen_groups.append(groups)
        rep_u, rep_y = np.empty((0, space.dim)), None
        if replicate_points and replicates:
            first = min(replicate_points, len(design))
            idx = np.repeat(np.arange(first), replicates)
            rep_y = simulate(number, design[idx], np.tile(np.arange(1, replicates + 1), first))
            rep_u = design[idx]
            seen_u.append(rep_u)
            seen_y.append(rep_y)
            seen_groups.append(groups[idx])
        u_all = np.concatenate(seen_u)
        y_all = pd.concat(seen_y, ignore_index=True)
        groups_all = np.concatenate(seen_groups)
        # refocus: emulate with every run inside the space not yet ruled out by the earlier waves
        inside = non_implausible(waves, targets, u_all, cutoff) if waves else np.ones(len(u_all), bool)
        emulators, diagnostics, seed_var, seed_models, inflation, used, local = {}, {}, {}, {}, {}, {}, {}
        for t in targets:
            values = t.scale(y_all[t.output].to_numpy())
            model = fit_seed_variance(u_all, values, groups_all)
            emulator, factor, check = _emulate(t, u_all[inside], values[inside], groups_all[inside], model,
                                               validation_folds, seed + number, max_inflation)
            if emulator is not None:
                emulators[t.name] = emulator
            if model is not None:
                seed_models[t.name] = model
            local[t.name] = factor
            seed_var[t.name] = model.pooled if model is not None else (
                emulator.noise_var if emulator is not None else float("nan"))
            diagnostics[t.name] = {**check, "seed_points": 0 if model is None else model.points,
                                   "seed_varies": bool(model is not None and model.coef is not None)}
            inflation[t.name], used[t.name] = check["inflation"], check["used"]
        wave = Wave(number, emulators, seed_var, seed_models, inflation, used, local)
        waves.append(wave)
        nroy, new_share = sample_nroy(waves, targets, space.dim, 5000, rng, cutoff=cutoff)
        judged = [t for t in targets if wave.judges(t.name)]
        em_share = float("nan")
        if len(nroy) and judged:
            table = implausibility(wave, judged, nroy)
            em_share = float(np.nanmean(table[[f"{t.name}:emulator_share" for t in judged]].to_numpy()))
        records.append(WaveRecord(number, np.concatenate([design, rep_u]),
                                  pd.concat([outputs, rep_y], ignore_index=True) if rep_y is not None else outputs,
                                  new_share, em_share, diagnostics, seed_var))
        dropped = [t.name for t in targets if not used[t.name]]
        inflated = [f"{t.name} x{inflation[t.name]:.3g}" for t in targets if used[t.name] and inflation[t.name] > 1]
        r2 = [d["r2"] for d in diagnostics.values() if np.isfinite(d["r2"])]
        say(f"wave {number}: {int(inside.sum())} runs emulated, validated on held-out runs "
            f"(worst r2 {min(r2, default=float('nan')):.2f}; inflated: "
            f"{', '.join(inflated) or 'none'}; dropped: {', '.join(dropped) or 'none'}); non-implausible share of "
            f"the space {new_share:.3g} (was {share:.3g}); emulator share of the variance {em_share:.2f}")
        if not len(nroy):
            stopped = f"wave {number} ruled out the whole space: the patterns cannot all be met"
            return Match(space, targets, waves, records, nroy, stopped, conflicts(waves, targets, space.dim, rng))
        shrink = 1.0 - new_share / share if share > 0 else 0.0
        share = new_share
        if number < min_waves or dropped:
            continue  # a poor emulator may be fit to rule out after another wave's runs: go on
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
    the other patterns leave (a pattern no point of that space can reach is in conflict with them), by the last
    wave's emulators."""
    u = rng.random((n, dim))
    wave = waves[-1]
    table = implausibility(wave, targets, u)
    names = [t.name for t in targets]
    lines = []
    for t in targets:
        if t.name not in wave.emulators:
            lines.append(f"{t.name}: no emulator in wave {wave.number}")
            continue
        others = [m for m in names if m != t.name]
        ok = (table[others].to_numpy() <= CUTOFF).all(axis=1) if others else np.ones(n, bool)
        alone = float((table[t.name] <= CUTOFF).mean())
        if not ok.any():
            lines.append(f"{t.name}: the other patterns together leave nothing to test it in")
            continue
        mean = t.unscale(wave.emulators[t.name].predict(u[ok])[0])
        gap = np.where(mean < t.low, t.low - mean, np.where(mean > t.high, mean - t.high, 0.0))
        best = int(np.argmin(gap))
        caveat = "" if wave.judges(t.name) else " (its emulator failed validation: it ruled nothing out)"
        lines.append(f"{t.name}: met alone in {alone:.1%} of the space; where every other pattern is met, its "
                     f"emulated value comes closest at {mean[best]:.4g} against the band [{t.low:g}, {t.high:g}] "
                     f"(short by {gap[best]:.3g}){caveat}")
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
