"""Statistics of a comparison across an ensemble of plausible worlds (experiments.compare ensemble=<name>).

Every scenario runs in every world with the same replicate seeds (common random numbers), so each world gives a
paired difference, averaged over its seeds. Across worlds, the spread of those differences is parameter
uncertainty (plus what seed noise is left); the share of worlds in which a scenario beats the baseline, with a
Wilson interval for a share estimated from a finite ensemble, is the answer a policy reader asks for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import HIGHER, LOWER, OUTCOMES, REPORTED

from .comparison import confidence_interval


def world_means(runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Mean over replicate seeds of each outcome, one row per (scenario, world)."""
    return runs.groupby(["scenario", "world"])[outcomes].mean()


def world_differences(runs: pd.DataFrame, scenario: str, baseline: str, outcomes: list[str]) -> pd.DataFrame:
    """Per world: mean over seeds of (scenario - baseline), paired by replicate seed."""
    keyed = runs.set_index(["scenario", "world", "replicate"])[outcomes]
    diff = keyed.loc[scenario] - keyed.loc[baseline]
    return diff.groupby("world").mean()


def wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return (np.nan, np.nan)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def better_mask(values: pd.Series, outcome: str) -> pd.Series | None:
    """Worlds in which the difference favours the scenario (None when the outcome has no better direction)."""
    better = OUTCOMES[outcome].better if outcome in OUTCOMES else None
    if better == HIGHER:
        return values > 0
    if better == LOWER:
        return values < 0
    return None


def summarise_ensemble(runs: pd.DataFrame, scenarios: list[str], confidence: float,
                       outcomes: list[str] = REPORTED) -> pd.DataFrame:
    """One row per scenario and outcome: the mean over worlds and the central interval of per-world means."""
    means = world_means(runs, outcomes)
    tail = (1 - confidence) / 2
    rows = []
    for scenario in scenarios:
        sub = means.loc[scenario]
        for outcome in outcomes:
            values = sub[outcome].dropna()
            rows.append({"scenario": scenario, "outcome": outcome, "mean": float(values.mean()),
                         "low": float(values.quantile(tail)) if len(values) else np.nan,
                         "high": float(values.quantile(1 - tail)) if len(values) else np.nan,
                         "worlds": len(values), "interval": f"central {confidence:.0%} of plausible worlds"})
    return pd.DataFrame(rows)


def ensemble_differences(runs: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float,
                         outcomes: list[str] = REPORTED) -> pd.DataFrame:
    """Scenario minus baseline across worlds: mean, its t-interval (``ci_low``, ``ci_high``), the central interval
    over worlds (``low``, ``high``), ``worlds``, ``share_worlds_better`` with its Wilson interval, and the worst
    world (the one where the scenario does worst against the baseline) and its difference."""
    tail = (1 - confidence) / 2
    rows = []
    for scenario in scenarios:
        if scenario == baseline:
            continue
        per_world = world_differences(runs, scenario, baseline, outcomes)
        for outcome in outcomes:
            values = per_world[outcome].dropna()
            mean, ci_low, ci_high = confidence_interval(values.to_numpy(dtype=float), confidence)
            row = {"scenario": scenario, "baseline": baseline, "outcome": outcome, "difference": mean,
                   "ci_low": ci_low, "ci_high": ci_high,
                   "low": float(values.quantile(tail)) if len(values) else np.nan,
                   "high": float(values.quantile(1 - tail)) if len(values) else np.nan,
                   "worlds": len(values), "share_worlds_better": np.nan, "share_low": np.nan, "share_high": np.nan,
                   "worst_world": None, "worst_world_difference": np.nan}
            better = better_mask(values, outcome)
            if better is not None and len(values):
                k = int(better.sum())
                row["share_worlds_better"] = k / len(values)
                row["share_low"], row["share_high"] = wilson(k, len(values), confidence)
                worst = values.idxmin() if OUTCOMES[outcome].better == HIGHER else values.idxmax()
                row["worst_world"], row["worst_world_difference"] = int(worst), float(values.loc[worst])
            rows.append(row)
    return pd.DataFrame(rows)


def payback(months: pd.DataFrame, scenario: str, baseline: str) -> pd.DataFrame:
    """Per world: when the scenario's extra spend (support, community and emergency, summed from the start of the
    evaluation) is paid back. ``payback_year`` is the evaluated year at whose end the cumulative extra spend is
    at or below zero and stays there to the end; ``cheaper_throughout`` when it never rises above zero at any
    year's end; NaN if it is still above zero at the end."""
    ev = months[months["t_years"] > 0].assign(year=lambda f: np.ceil(f["t_years"]).astype(int))
    ev = ev.assign(spend=ev["spend_support"] + ev["spend_community"] + ev["spend_emergency"])
    per = ev.groupby(["world", "scenario", "replicate", "year"])["spend"].sum().unstack("scenario")
    extra = (per[scenario] - per[baseline]).groupby(["world", "year"]).mean()
    rows = []
    for world, series in extra.groupby(level="world"):
        cumulative = series.droplevel("world").sort_index().cumsum()
        above = cumulative > 0
        if not above.any():
            rows.append({"world": world, "payback_year": 0.0, "cheaper_throughout": True,
                         "extra_spend_end": float(cumulative.iloc[-1])})
            continue
        last_above = int(above[above].index.max())
        paid = last_above < int(cumulative.index.max())
        rows.append({"world": world, "payback_year": float(last_above + 1) if paid else np.nan,
                     "cheaper_throughout": False, "extra_spend_end": float(cumulative.iloc[-1])})
    return pd.DataFrame(rows)
