"""What drives a difference between scenarios: Sobol indices computed on an emulator (Oakley & O'Hagan 2004).

The difference (scenario minus baseline, paired seeds) is simulated at points of the plausible space and emulated
(:mod:`experiments.stats.history_matching`: a linear mean plus a Gaussian process whose nugget absorbs seed
noise). The emulator's mean, which is cheap, is then sampled with Saltelli's scheme and analysed with SALib
(first-order S1 and total ST, with bootstrap intervals). The inputs are taken as independent and uniform over the
box the plausible space spans (each input's smallest to largest plausible value): the plausible space itself is
not a box, so the indices describe that box, and the emulator is trusted only as far as its leave-one-out
validation says. Indices are flagged when they cannot be trusted: S1 above ST beyond their intervals, first-order
indices summing above 1, an interval wider than the index, or an emulator that explains little (r2 < 0.5).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .history_matching import Space, fit_emulator, loo_diagnostics


def sobol_on(function, bounds: np.ndarray, names: list[str], samples: int, seed: int, confidence: float = 0.95):
    """First-order and total Sobol indices of ``function`` (rows of inputs -> outputs) over the box ``bounds``
    (shape (d, 2)), with bootstrap intervals (half-widths ``S1_conf``, ``ST_conf``)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(map(float, b)) for b in bounds]}
    with warnings.catch_warnings():
        # SALib warns when the base sample size is not a power of two (the scheme's balance properties)
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        x = sample.sample(problem, samples, calc_second_order=False, seed=seed)
        y = np.asarray(function(x), dtype=float)
        result = analyze.analyze(problem, y, calc_second_order=False, conf_level=confidence, seed=seed)
    return pd.DataFrame({"parameter": names, "S1": result["S1"], "S1_conf": result["S1_conf"],
                         "ST": result["ST"], "ST_conf": result["ST_conf"]})


def flags(table: pd.DataFrame, r2: float) -> pd.Series:
    """Why each index cannot be trusted (empty when it can)."""
    out = []
    s1_sum = float(table["S1"].clip(lower=0).sum())
    for row in table.itertuples():
        why = []
        if row.S1 - row.S1_conf > row.ST + row.ST_conf:
            why.append("S1 > ST")
        if row.ST_conf > abs(row.ST) and row.ST > 0.01:
            why.append("interval wider than the index")
        if s1_sum > 1.05:
            why.append("S1 sum above 1")
        if not r2 >= 0.5:
            why.append(f"emulator r2 {r2:.2f}")
        out.append("; ".join(why))
    return pd.Series(out, index=table.index)


def sobol_of_difference(space: Space, design: np.ndarray, differences: dict[str, np.ndarray], nroy: np.ndarray,
                        samples: int, seed: int) -> dict[str, pd.DataFrame]:
    """For each outcome: an emulator of its difference at the unit ``design`` points, its leave-one-out check,
    and Sobol indices over the box the unit ``nroy`` sample spans. Returns ``indices`` (outcome, parameter, S1,
    S1_conf, ST, ST_conf, flag) and ``emulators`` (outcome, n, mean and sd of the difference, r2, coverage,
    S1 sum)."""
    bounds = np.column_stack([nroy.min(axis=0), nroy.max(axis=0)]) if len(nroy) else np.tile([0.0, 1.0], (space.dim, 1))
    indices, emulators = [], []
    for outcome, values in differences.items():
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        row = {"outcome": outcome, "n": int(finite.sum()), "mean_difference": float(np.nanmean(values)),
               "sd_difference": float(np.nanstd(values, ddof=1)) if finite.sum() > 1 else float("nan")}
        try:
            emulator = fit_emulator(design, values, seed=seed)
        except ValueError as exc:
            emulators.append({**row, "r2": float("nan"), "coverage": float("nan"), "S1_sum": float("nan"),
                              "note": str(exc)})
            continue
        check = loo_diagnostics(design, values, emulator)
        table = sobol_on(lambda u, e=emulator: e.predict(u)[0], bounds, list(space.names), samples, seed)
        table["flag"] = flags(table, check["r2"])
        table.insert(0, "outcome", outcome)
        indices.append(table)
        emulators.append({**row, "r2": check["r2"], "coverage": check["coverage"],
                          "S1_sum": float(table["S1"].sum()), "note": ""})
    return {"indices": pd.concat(indices, ignore_index=True) if indices else pd.DataFrame(),
            "emulators": pd.DataFrame(emulators)}
