"""Run one simulation and write results/runs/<run id>/.

    .venv/bin/python -m experiments.run scenario=whole_system seed=3 residents=5000 years=5

Arguments are Hydra overrides (``key=value``; see conf/config.yaml). Writes config.yaml (fully resolved),
timeseries.parquet (weekly), neighbourhoods.parquet (per neighbourhood per month), summary.json (headline
outcomes after the burn-in, with the seed and versions) and PNG plots.
"""

from __future__ import annotations

import sys
import time

from .cli import fail, help_requested, relative
from .config import RESULTS_DIR, ConfigError, config_hash, load_config, model_params, resolved_yaml
from .runner import show_progress, simulate, write_run

HEADLINE = ("mean_wellbeing", "failure_demand_share", "crises_per_1000_per_year", "mean_wait_weeks",
            "total_cost", "mean_resident_trust", "collaboration_density")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__):
        return 0
    try:
        cfg, config = load_config(argv)
    except ConfigError as exc:
        return fail(exc)
    params = model_params(config)
    run_id = f"{params.scenario.name}-{params.place.name}-seed{params.seed}-{config_hash(cfg)}"
    folder = RESULTS_DIR / "runs" / run_id
    print(f"Running {params.scenario.name} on {params.place.name}: {params.residents:,} residents, "
          f"{params.burn_in_years} burn-in + {params.years} years, seed {params.seed}")
    start = time.perf_counter()
    result = simulate(params, progress=show_progress(config.progress), label=params.scenario.name)
    write_run(result, params, resolved_yaml(cfg), folder, run_id)
    seconds = time.perf_counter() - start
    for key in HEADLINE:
        value = result.summary[key]
        print(f"  {key:<28} {value:,.3f}" if abs(value) < 1e4 else f"  {key:<28} {value:,.0f}")
    print(f"Done in {seconds:.1f} s. Results: {relative(folder)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
