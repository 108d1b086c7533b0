"""Global sensitivity of the headline outcomes to named parameters: SALib Morris screening and Sobol indices.

    .venv/bin/python -m experiments.sensitivity sensitivity=uncertainties
    .venv/bin/python -m experiments.sensitivity sensitivity=uncertainties executor=dask workers=2

A sensitivity file (conf/sensitivity/<name>.yaml) is a sweep file (see experiments.sweep) plus the outcomes
to analyse and the sample sizes. Each method's sample is run as a sweep of its own (``<name>-morris``,
``<name>-sobol``) through the same store and executors, so it is resumable and parallel. Replicate seeds are
averaged per sample point before the indices are computed; the seed-noise share (sum of squares between seeds
at the same point / total sum of squares of the outcome, in [0, 1]) says how much of the spread is Monte Carlo
noise rather than the parameters. Writes results/sensitivity/<name>/: morris.csv, sobol.csv, seed_noise.csv, morris.png, sobol.png.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import store
from .cli import fail, help_requested, relative
from .config import ConfigError
from .sweep import SweepConfig, load_sweep_config, plan, problem, run_sweep

HEADLINE = ["mean_wellbeing", "failure_demand_share", "total_cost", "mean_resident_trust"]
METHODS = ("morris", "sobol")


@dataclass
class SensitivityConfig(SweepConfig):
    design: str = "morris"  # unused: each method runs its own design
    outcomes: list[str] = field(default_factory=lambda: list(HEADLINE))
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    morris_trajectories: int = 10
    sobol_samples: int = 64  # Sobol base sample N, a power of 2; runs = N * (k + 2) per scenario and seed
    confidence: float = 0.95
    num_resamples: int = 200  # bootstrap resamples for the confidence intervals


def method_sweep(s: SensitivityConfig, method: str) -> SweepConfig:
    """The sweep that runs one method's sample."""
    own = {f.name: getattr(s, f.name) for f in dataclasses.fields(SweepConfig)}
    own.update(name=f"{s.name}-{method}", design=method,
               samples=s.morris_trajectories if method == "morris" else s.sobol_samples)
    return SweepConfig(**own)


def point_means(sweep: SweepConfig, index: dict, outcomes: list[str]) -> tuple[dict, pd.DataFrame]:
    """Outcome per (scenario, point), averaged over seeds; and the seed-noise share per scenario and outcome."""
    table = pd.read_parquet(store.sweep_dir(sweep.name) / "table.parquet")
    values = table[table["status"] == "ok"].set_index("run_hash")
    rows = [{"scenario": sc, "point": p, "replicate": r, "run_hash": h} for (sc, p, r), h in index.items()]
    frame = pd.DataFrame(rows).join(values[outcomes], on="run_hash")
    means = {sc: g.groupby("point")[outcomes].mean().sort_index() for sc, g in frame.groupby("scenario")}
    noise = []
    for sc, g in frame.groupby("scenario"):
        for outcome in outcomes:
            # one-way decomposition of the sum of squares: within points (seeds) + between points (parameters)
            y = g[outcome]
            total = float(((y - y.mean()) ** 2).sum())
            within = float(((y - g.groupby("point")[outcome].transform("mean")) ** 2).sum())
            noise.append({"method": sweep.design, "scenario": sc, "outcome": outcome,
                          "seed_sum_of_squares": within, "total_sum_of_squares": total,
                          "seed_noise_share": within / total if total > 0 else np.nan})
    return means, pd.DataFrame(noise)


def analyse(s: SensitivityConfig, method: str, sweep: SweepConfig, means: dict) -> pd.DataFrame:
    from SALib.analyze import morris, sobol

    from .sweep import design_points

    prob = problem(sweep)
    x = np.array([[pt[k] for k in prob["names"]] for pt in design_points(sweep)])
    rows = []
    for scenario, frame in means.items():
        for outcome in s.outcomes:
            y = frame[outcome].to_numpy(dtype=float)
            if len(y) != len(x) or not np.all(np.isfinite(y)):
                print(f"  {method}: {scenario} {outcome} skipped (missing or non-finite values)")
                continue
            if method == "morris":
                res = morris.analyze(prob, x, y, num_resamples=s.num_resamples, conf_level=s.confidence,
                                     num_levels=s.morris_levels, seed=s.base_seed)
                for i, name in enumerate(prob["names"]):
                    rows.append({"scenario": scenario, "outcome": outcome, "parameter": name,
                                 "mu_star": res["mu_star"][i], "mu_star_conf": res["mu_star_conf"][i],
                                 "mu": res["mu"][i], "sigma": res["sigma"][i]})
            else:
                res = sobol.analyze(prob, y, calc_second_order=False, num_resamples=s.num_resamples,
                                    conf_level=s.confidence, seed=s.base_seed)
                for i, name in enumerate(prob["names"]):
                    rows.append({"scenario": scenario, "outcome": outcome, "parameter": name,
                                 "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                                 "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(rows)


def bar_chart(frame: pd.DataFrame, value: str, conf: str, title: str, path) -> None:
    """One panel per outcome; bars per parameter, one colour per scenario, whiskers = confidence interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(frame["outcome"]))
    scenarios = list(dict.fromkeys(frame["scenario"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4 * len(outcomes), 3.5), squeeze=False)
    width = 0.8 / max(1, len(scenarios))
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = frame[frame["outcome"] == outcome]
        names = list(dict.fromkeys(sub["parameter"]))
        for j, scenario in enumerate(scenarios):
            part = sub[sub["scenario"] == scenario].set_index("parameter").reindex(names)
            ax.barh(np.arange(len(names)) + j * width, part[value], width, xerr=part[conf], label=scenario,
                    capsize=2)
        ax.set_yticks(np.arange(len(names)) + width * (len(scenarios) - 1) / 2)
        ax.set_yticklabels([n.split(".")[-1] for n in names], fontsize=8)
        ax.set_title(outcome, fontsize=9)
        ax.set_xlabel(value)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__, ("sensitivity",)):
        return 0
    try:
        _, s = load_sweep_config(argv, group="sensitivity", schema=SensitivityConfig)
        for method in s.methods:
            if method not in METHODS:
                raise ConfigError(f"methods: {method!r} is not one of {', '.join(METHODS)}")
        if "sobol" in s.methods and s.sobol_samples & (s.sobol_samples - 1):
            raise ConfigError(f"sobol_samples: must be a power of 2, got {s.sobol_samples}")
        plans = {}
        for method in s.methods:  # every run of every method validated before any runs
            sweep = method_sweep(s, method)
            index: dict = {}
            plans[method] = (sweep, plan(sweep, index), index)
    except ConfigError as exc:
        return fail(exc)
    out = store.results_root() / "sensitivity" / s.name
    out.mkdir(parents=True, exist_ok=True)
    noise = []
    for method, (sweep, specs, index) in plans.items():
        run_sweep(sweep, specs)
        means, seed_noise = point_means(sweep, index, s.outcomes)
        noise.append(seed_noise)
        indices = analyse(s, method, sweep, means)
        indices.to_csv(out / f"{method}.csv", index=False)
        if not indices.empty:
            value, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
            bar_chart(indices, value, conf, f"{s.title or s.name}: {method} ({value}, {s.confidence:.0%} CI)",
                      out / f"{method}.png")
    pd.concat(noise, ignore_index=True).to_csv(out / "seed_noise.csv", index=False)
    print(f"Indices: {relative(out)}/ (morris.csv, sobol.csv, seed_noise.csv, *.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
