"""Global sensitivity analysis with SALib: Morris elementary effects and Sobol' indices from a sweep's table.

Replicate seeds are averaged per design point before the indices are computed; the seed-noise share (sum of
squares between seeds at the same point over the total sum of squares, in [0, 1]) says how much of an outcome's
spread is Monte Carlo noise rather than the parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = ("morris", "sobol")


def point_means(table: pd.DataFrame, outcomes: list[str], method: str) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Outcome per (scenario, point), averaged over seeds; and the seed-noise share per scenario and outcome.

    ``table`` is a study table (one row per scenario, point and replicate; duplicated points included).
    """
    ok = table[table["status"] == "ok"]
    means = {sc: g.groupby("point")[outcomes].mean().sort_index() for sc, g in ok.groupby("scenario", sort=False)}
    noise = []
    for sc, g in ok.groupby("scenario", sort=False):
        for outcome in outcomes:
            # one-way decomposition of the sum of squares: within points (seeds) + between points (parameters)
            y = g[outcome]
            total = float(((y - y.mean()) ** 2).sum())
            within = float(((y - g.groupby("point")[outcome].transform("mean")) ** 2).sum())
            noise.append({"method": method, "scenario": sc, "outcome": outcome, "seed_sum_of_squares": within,
                          "total_sum_of_squares": total, "seed_noise_share": within / total if total > 0 else np.nan})
    return means, pd.DataFrame(noise)


def analyse(method: str, problem: dict, x: np.ndarray, means: dict[str, pd.DataFrame], outcomes: list[str], *,
            confidence: float, num_resamples: int, morris_levels: int, seed: int, say=print) -> pd.DataFrame:
    """SALib indices per scenario, outcome and parameter.

    ``x`` is the design matrix SALib sampled (one row per point, in point order) and ``means`` the seed-mean
    outcomes per point. Morris gives ``mu_star`` (mean absolute elementary effect, in the outcome's units),
    ``mu_star_conf``, ``mu`` and ``sigma``; Sobol' gives first-order ``S1`` and total ``ST`` indices with their
    bootstrap confidence half-widths.
    """
    from SALib.analyze import morris, sobol

    rows = []
    for scenario, frame in means.items():
        for outcome in outcomes:
            y = frame[outcome].to_numpy(dtype=float)
            if len(y) != len(x) or not np.all(np.isfinite(y)):
                say(f"  {method}: {scenario} {outcome} skipped (missing or non-finite values)")
                continue
            if method == "morris":
                res = morris.analyze(problem, x, y, num_resamples=num_resamples, conf_level=confidence,
                                     num_levels=morris_levels, seed=seed)
                for i, name in enumerate(problem["names"]):
                    rows.append({"scenario": scenario, "outcome": outcome, "parameter": name,
                                 "mu_star": res["mu_star"][i], "mu_star_conf": res["mu_star_conf"][i],
                                 "mu": res["mu"][i], "sigma": res["sigma"][i]})
            else:
                res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                    conf_level=confidence, seed=seed)
                for i, name in enumerate(problem["names"]):
                    rows.append({"scenario": scenario, "outcome": outcome, "parameter": name,
                                 "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                                 "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(rows)
