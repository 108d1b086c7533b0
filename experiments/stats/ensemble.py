"""Statistics of a comparison across an ensemble of plausible worlds (experiments.compare ensemble=<name>).

Every scenario runs in every world with the same replicate seeds (common random numbers), so each world gives a
paired difference per seed. Within a world, the t-interval of that difference over its seeds (at the comparison's
confidence level) says whether the world is resolved: *better* where the interval lies wholly on the better side
of zero, *worse* where it lies wholly on the worse side, otherwise *not resolved* (the difference is within seed
noise; with one seed there is no interval and no world is resolved). Across worlds, the spread of the mean
differences is parameter uncertainty (plus what seed noise is left); the shares of worlds that are clearly better
and clearly worse, each with a Wilson interval for a share estimated from a finite ensemble, are the answer a
policy reader asks for.
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


BETTER, WORSE, UNRESOLVED = "better", "worse", "not resolved"


def world_intervals(runs: pd.DataFrame, scenario: str, baseline: str, outcomes: list[str],
                    confidence: float) -> pd.DataFrame:
    """Per world and outcome, the paired difference (scenario - baseline) over the world's seeds and its
    t-interval at ``confidence``: one row per (world, outcome) with ``seeds``, ``difference`` (the mean over seeds,
    as :func:`world_differences`), ``ci_low``, ``ci_high`` (NaN with fewer than two seeds) and ``verdict``
    (better / worse / not resolved; empty for an outcome with no better direction)."""
    keyed = runs.set_index(["scenario", "world", "replicate"])[outcomes]
    diff = (keyed.loc[scenario] - keyed.loc[baseline]).rename_axis(columns="outcome").stack(future_stack=True)
    grouped = diff.dropna().groupby(["world", "outcome"])
    table = pd.DataFrame({"seeds": grouped.size(), "difference": grouped.mean(), "sd": grouped.std(ddof=1)})
    table = table.reindex(pd.MultiIndex.from_product([sorted(runs["world"].unique()), outcomes],
                                                     names=["world", "outcome"]))
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    enough = table["seeds"] >= 2
    t = stats.t.ppf(0.5 + confidence / 2, np.where(enough, table["seeds"] - 1, 1))
    half = np.where(enough, t * table["sd"] / np.sqrt(table["seeds"].clip(lower=1)), np.nan)
    table["ci_low"] = table["difference"] - half
    table["ci_high"] = table["difference"] + half
    table = table.drop(columns="sd").reset_index()
    table["verdict"] = [verdict(o, lo, hi) for o, lo, hi in zip(table["outcome"], table["ci_low"],
                                                                 table["ci_high"], strict=True)]
    return table[["world", "outcome", "seeds", "difference", "ci_low", "ci_high", "verdict"]]


def verdict(outcome: str, ci_low: float, ci_high: float) -> str:
    """better / worse where the interval lies wholly on that side of zero; not resolved otherwise (an interval
    touching or containing zero, or none); "" when the outcome has no better direction."""
    better = OUTCOMES[outcome].better if outcome in OUTCOMES else None
    if better not in (HIGHER, LOWER):
        return ""
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return UNRESOLVED
    above, below = ci_low > 0, ci_high < 0
    if above or below:
        return BETTER if above == (better == HIGHER) else WORSE
    return UNRESOLVED


def world_verdicts(runs: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float,
                   outcomes: list[str] = REPORTED) -> pd.DataFrame:
    """:func:`world_intervals` for every scenario against the baseline, one long table (differences_by_world.csv):
    scenario, baseline, outcome, world, seeds, difference, ci_low, ci_high, verdict."""
    tables = [world_intervals(runs, s, baseline, outcomes, confidence).assign(scenario=s, baseline=baseline)
              for s in scenarios if s != baseline]
    columns = ["scenario", "baseline", "outcome", "world", "seeds", "difference", "ci_low", "ci_high", "verdict"]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return (np.nan, np.nan)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


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
                         outcomes: list[str] = REPORTED, verdicts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scenario minus baseline across worlds: mean, its t-interval (``ci_low``, ``ci_high``), the central interval
    over worlds (``low``, ``high``), ``worlds``, ``seeds_per_world`` (the fewest seeds any world has); how many
    worlds are clearly better, clearly worse and not resolved by their own interval (``worlds_better``,
    ``worlds_worse``, ``worlds_unresolved``), the shares of all worlds that are clearly better
    (``share_worlds_better`` with its Wilson interval ``share_low``, ``share_high``) and clearly worse
    (``share_worlds_worse``, ``share_worse_low``, ``share_worse_high``); and the worst world (the one whose mean
    difference is worst for the scenario), its difference and its verdict. ``verdicts``: :func:`world_verdicts`
    of the same runs, if already computed."""
    tail = (1 - confidence) / 2
    if verdicts is None:
        verdicts = world_verdicts(runs, scenarios, baseline, confidence, outcomes)
    by = verdicts.set_index(["scenario", "outcome", "world"]).sort_index()
    rows = []
    for scenario in scenarios:
        if scenario == baseline:
            continue
        for outcome in outcomes:
            table = by.loc[(scenario, outcome)]
            values = table["difference"].dropna()
            mean, ci_low, ci_high = confidence_interval(values.to_numpy(dtype=float), confidence)
            n = len(values)
            row = {"scenario": scenario, "baseline": baseline, "outcome": outcome, "difference": mean,
                   "ci_low": ci_low, "ci_high": ci_high,
                   "low": float(values.quantile(tail)) if n else np.nan,
                   "high": float(values.quantile(1 - tail)) if n else np.nan,
                   "worlds": n, "seeds_per_world": int(table.loc[values.index, "seeds"].min()) if n else 0,
                   "worlds_better": np.nan, "worlds_worse": np.nan, "worlds_unresolved": np.nan,
                   "share_worlds_better": np.nan, "share_low": np.nan, "share_high": np.nan,
                   "share_worlds_worse": np.nan, "share_worse_low": np.nan, "share_worse_high": np.nan,
                   "worst_world": None, "worst_world_difference": np.nan, "worst_world_verdict": ""}
            direction = OUTCOMES[outcome].better if outcome in OUTCOMES else None
            if direction in (HIGHER, LOWER) and not n:  # defined in no world (e.g. nobody waited): none resolved
                row.update({"worlds_better": 0, "worlds_worse": 0, "worlds_unresolved": 0})
            if direction in (HIGHER, LOWER) and n:
                said = table.loc[values.index, "verdict"]
                better, worse = int((said == BETTER).sum()), int((said == WORSE).sum())
                row.update({"worlds_better": better, "worlds_worse": worse, "worlds_unresolved": n - better - worse,
                            "share_worlds_better": better / n, "share_worlds_worse": worse / n})
                row["share_low"], row["share_high"] = wilson(better, n, confidence)
                row["share_worse_low"], row["share_worse_high"] = wilson(worse, n, confidence)
                worst = values.idxmin() if direction == HIGHER else values.idxmax()
                row.update({"worst_world": int(worst), "worst_world_difference": float(values.loc[worst]),
                            "worst_world_verdict": said.loc[worst]})
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
