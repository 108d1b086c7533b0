"""Statistics of a comparison: means and t-intervals over replicate seeds, paired differences between scenarios
(common random numbers), yearly differences, and when a route overtakes the baseline for good.

Intervals describe the model's own randomness over seeds (t distribution), not uncertainty about the world.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import HIGHER, OUTCOMES, REPORTED


def confidence_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """(mean, low, high) of the finite values: ``mean +- t * s / sqrt(n)``; NaNs if there are none, and NaN bounds
    for a single value (one seed says nothing about its own noise: a zero-width interval would read as certain)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def mean_and_band(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over replicates (axis 0) and a t-based confidence band (mean +- t * s / sqrt(n)), per column."""
    n = values.shape[0]
    mean = np.nanmean(values, axis=0)
    if n < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * np.nanstd(values, axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def summarise_runs(runs: pd.DataFrame, scenarios: list[str], confidence: float,
                   outcomes: list[str] = REPORTED) -> pd.DataFrame:
    """One row per scenario and outcome: mean, ci_low, ci_high, n_seeds."""
    rows = []
    for scenario in scenarios:
        sub = runs[runs["scenario"] == scenario]
        for outcome in outcomes:
            mean, low, high = confidence_interval(sub[outcome].to_numpy(dtype=float), confidence)
            rows.append({"scenario": scenario, "outcome": outcome, "mean": mean, "ci_low": low, "ci_high": high,
                         "n_seeds": int(sub[outcome].notna().sum())})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float,
                       outcomes: list[str] = REPORTED) -> pd.DataFrame:
    """Scenario minus baseline, paired by replicate seed (common random numbers)."""
    rows = []
    base = runs[runs["scenario"] == baseline].set_index("replicate")
    for scenario in scenarios:
        if scenario == baseline:
            continue
        other = runs[runs["scenario"] == scenario].set_index("replicate")
        for outcome in outcomes:
            diff = (other[outcome] - base[outcome]).to_numpy(dtype=float)
            mean, low, high = confidence_interval(diff, confidence)
            rows.append({"scenario": scenario, "baseline": baseline, "outcome": outcome, "difference": mean,
                         "ci_low": low, "ci_high": high, "n_pairs": int(np.isfinite(diff).sum())})
    return pd.DataFrame(rows)


def reading(outcome: str, diff: float, low: float, high: float) -> str:
    """Plain words for a paired difference and its confidence interval: better, worse, or no clear difference."""
    if not all(np.isfinite([diff, low, high])):
        return "not estimable"
    if low <= 0 <= high:
        return "no clear difference"
    info = OUTCOMES.get(outcome)
    if info is None or info.better not in ("higher", "lower"):
        return "higher" if diff > 0 else "lower"
    return "better" if (diff > 0) == (info.better == HIGHER) else "worse"


def evaluated_months(months: pd.DataFrame) -> pd.DataFrame:
    """Months after the burn-in, with their evaluated year (1 = the first year after the burn-in)."""
    return months[months["t_years"] > 0].assign(year=lambda f: np.ceil(f["t_years"]).astype(int))


def yearly_differences(months: pd.DataFrame, scenario: str, baseline: str, column: str) -> pd.DataFrame:
    """Per evaluated year: mean of ``column`` in scenario minus baseline, paired by replicate (mean, 10th and
    90th percentile over replicates)."""
    ev = evaluated_months(months)
    per = ev.groupby(["scenario", "replicate", "year"])[column].mean().unstack("scenario")
    diff = (per[scenario] - per[baseline]).groupby("year")
    return pd.DataFrame({"mean": diff.mean(), "low": diff.quantile(0.1), "high": diff.quantile(0.9)})


def overtaking(months: pd.DataFrame, scenario: str, baseline: str, column: str, better: str) -> dict:
    """When ``scenario`` overtakes ``baseline`` on ``column`` for good, and how deep it dips first.

    ``overtake``: the first evaluated year from which the mean paired difference is better every year to the
    end (None if never). ``dip``: (year, difference) of the worst yearly difference before that (None if it never
    falls behind).
    """
    yearly = yearly_differences(months, scenario, baseline, column)["mean"]
    gains = yearly if better == HIGHER else -yearly
    overtake = next((int(y) for y in gains.index if (gains.loc[y:] > 0).all()), None)
    before = gains if overtake is None else gains.loc[: overtake - 1]
    behind = before[before < 0]
    dip = None if behind.empty else (int(behind.idxmin()), float(yearly.loc[behind.idxmin()]))
    return {"overtake": overtake, "dip": dip}


def dip(months: pd.DataFrame, scenario: str, baseline: str, column: str, better: str,
        confidence: float = 0.95) -> dict | None:
    """The dip before the gains, month by month: where ``scenario`` is *clearly* behind ``baseline`` on ``column``.

    Each evaluated month's paired difference (scenario minus baseline, by replicate) gets a t-interval over
    replicates; a month is clearly behind when the whole interval lies on the worse side of 0. Returns None if no
    month is, else ``depth`` (the mean difference in the worst such month), ``at_years`` (when, in years since the
    burn-in ended), ``months_behind`` (how many months are clearly behind) and ``last_behind_years`` (the last
    of them). Yearly means can hide a dip that later months of the same year make up; this does not.
    """
    ev = months[months["t_years"] > 0]
    per = ev.pivot_table(index=["replicate", "t_years"], columns="scenario", values=column)
    diff = (per[scenario] - per[baseline]).unstack("replicate")
    rows = [(t, *confidence_interval(values.to_numpy(dtype=float), confidence)) for t, values in diff.iterrows()]
    table = pd.DataFrame(rows, columns=["t_years", "mean", "low", "high"]).set_index("t_years")
    behind = table[table["high"] < 0] if better == HIGHER else table[table["low"] > 0]
    if behind.empty:
        return None
    worst = behind["mean"].idxmin() if better == HIGHER else behind["mean"].idxmax()
    return {"depth": float(behind.loc[worst, "mean"]), "at_years": float(worst), "months_behind": len(behind),
            "last_behind_years": float(behind.index.max())}
