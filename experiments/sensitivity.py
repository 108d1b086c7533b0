"""Global sensitivity of outcomes to named parameters: SALib Morris screening and Sobol' indices.

    .venv/bin/python -m experiments.sensitivity sensitivity=uncertainties
    .venv/bin/python -m experiments.sensitivity sensitivity=uncertainties engine.executor=dask engine.workers=2

A sensitivity file (conf/sensitivity/<name>.yaml) is a sweep file (see experiments.sweep; ranges from
conf/ranges.yaml) plus the outcomes to analyse (names from sim/outcomes.py) and the sample sizes. Each method's
sample runs as a sweep of its own (``<name>-morris``, ``<name>-sobol``) on the same engine and store, so it is
resumable and parallel. Replicate seeds are averaged per point before the indices are computed; the seed-noise
share says how much of an outcome's spread is Monte Carlo noise. Writes results/sensitivity/<name>/:
sensitivity.yaml (the design: methods, sample sizes, parameters and ranges, outcomes, overrides), morris.csv,
sobol.csv, seed_noise.csv, morris.png, sobol.png.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sim.outcomes import HEADLINE, OUTCOMES

from .engine.cli import entry_point, help_requested, relative
from .engine.config import ConfigError
from .engine.sweeps import SweepConfig, check_sweep, design_of, load_settings, plan_sweep
from .stats.sensitivity import METHODS


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


def check(s: SensitivityConfig) -> None:
    for method in s.methods:
        if method not in METHODS:
            raise ConfigError(f"methods: {method!r} is not one of {', '.join(METHODS)}")
    for outcome in s.outcomes:
        if outcome not in OUTCOMES:
            raise ConfigError(f"outcomes: unknown outcome {outcome!r} (see sim/outcomes.py)")
    if not 1 <= s.morris_trajectories <= 100_000:
        raise ConfigError(f"morris_trajectories: must be in [1, 100000], got {s.morris_trajectories}")
    if "sobol" in s.methods and (s.sobol_samples < 1 or s.sobol_samples & (s.sobol_samples - 1)
                                 or s.sobol_samples > 2**20):
        raise ConfigError(f"sobol_samples: must be a power of 2 up to 2^20, got {s.sobol_samples}")
    if not 0.5 <= s.confidence < 1:
        raise ConfigError(f"confidence: must be in [0.5, 1), got {s.confidence}")
    if not 1 <= s.num_resamples <= 100_000:
        raise ConfigError(f"num_resamples: must be in [1, 100000], got {s.num_resamples}")


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ("sensitivity",)):
        return 0
    import pandas as pd

    from .engine import store
    from .reporting.analysis_plots import sensitivity_bars
    from .stats.sensitivity import analyse, point_means
    from .sweep import run_named_sweep

    s, model = load_settings(argv, "sensitivity", SensitivityConfig)
    s.overrides = [*s.overrides, *model]
    check(s)
    plans = {}
    for method in s.methods:  # every run of every method validated before any runs
        sweep = method_sweep(s, method)
        check_sweep(sweep)
        plans[method] = (sweep, plan_sweep(sweep))
    store.check_results_root()
    out = store.output_dir("sensitivity", s.name)
    out.mkdir(parents=True, exist_ok=True)
    noise = []
    written = {}
    for method, (sweep, plan) in plans.items():
        _, folder = run_named_sweep(sweep, argv, plan)
        design = design_of(sweep)
        table = pd.read_parquet(folder / "table.parquet")
        means, seed_noise = point_means(table, s.outcomes, method)
        noise.append(seed_noise)
        indices = analyse(method, design.problem(), design.matrix(), means, s.outcomes, confidence=s.confidence,
                          num_resamples=s.num_resamples, morris_levels=s.morris_levels, seed=s.base_seed)
        store.write_text(out / f"{method}.csv", indices.to_csv(index=False))
        written[method] = {"sweep": sweep.name, "points": len(design.points()), "runs": len(plan.specs)}
        if not indices.empty:
            value, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
            sensitivity_bars(indices, value, conf, f"{s.title or s.name}: {method} ({value}, {s.confidence:.0%} CI)",
                             out / f"{method}.png")
    store.write_text(out / "seed_noise.csv", pd.concat(noise, ignore_index=True).to_csv(index=False))
    store.write_text(out / "sensitivity.yaml", design_document(s, argv, written))
    print(f"Indices: {relative(out)}/ (sensitivity.yaml, {', '.join(f'{m}.csv' for m in s.methods)}, "
          "seed_noise.csv, *.png)")
    return 0


def design_document(s: SensitivityConfig, argv: list[str], written: dict) -> str:
    """sensitivity.yaml: what was analysed and how, enough to read the indices and to run it again."""
    import yaml

    factors = design_of(method_sweep(s, s.methods[0])).factors
    return yaml.safe_dump({
        "command_line": list(argv),
        "methods": written,
        "morris_trajectories": s.morris_trajectories, "morris_levels": s.morris_levels,
        "sobol_samples": s.sobol_samples,
        "parameters": [{"key": f.key, "low": f.low, "high": f.high} for f in factors],
        "outcomes": list(s.outcomes), "scenarios": list(s.scenarios), "n_seeds": s.n_seeds,
        "base_seed": s.base_seed, "model_overrides": list(s.overrides),
        "confidence": s.confidence, "num_resamples": s.num_resamples,
    }, sort_keys=False)


if __name__ == "__main__":
    raise SystemExit(main())
