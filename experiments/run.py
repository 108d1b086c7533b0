"""Run one simulation and write results/runs/<run id>/.

    .venv/bin/python -m experiments.run scenario=whole_system seed=3 residents=5000 years=5
    .venv/bin/python -m experiments.run residents=2000 figures=true        # also overview.png

Arguments are Hydra overrides (``key=value``; see conf/config.yaml). Writes config.yaml (the model's resolved
configuration), timeseries.parquet (weekly), neighbourhoods.parquet (per neighbourhood per month), summary.json
(outcomes after the burn-in, with the seed, the overrides that reproduce the run, and versions); with
``figures=true`` also overview.png. Every record the project stores (a sweep's or a comparison's
table.parquet) has an ``overrides`` column: passing it here re-runs that record exactly.
"""

from __future__ import annotations

import time

from .engine.cli import entry_point, help_requested, relative


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__):
        return 0
    from sim.outcomes import HEADLINE, OUTCOMES

    from .engine.config import config_hash, load_config, model_overrides, model_params, model_yaml
    from .engine.plan import format_override
    from .engine.resources import check_memory
    from .engine.runner import simulate, write_run
    from .engine.store import check_results_root, output_dir

    cfg, config = load_config(argv)
    params = model_params(config)
    check_memory(params)
    check_results_root()
    run_id = f"{params.scenario.name}-{params.place.name}-seed{params.seed}-{config_hash(cfg)}"
    folder = output_dir("runs", run_id)
    overrides = model_overrides(argv)
    if not any(item.split("=", 1)[0] == "seed" for item in overrides):
        overrides.append(format_override("seed", params.seed))  # the seed is part of every record's identity
    print(f"Running {params.scenario.name} on {params.place.name}: {params.residents:,} residents, "
          f"{params.burn_in_years} burn-in + {params.years} years, seed {params.seed}")
    start = time.perf_counter()
    result = simulate(params, progress=config.progress, label=params.scenario.name)
    import shlex

    write_run(result, params, shlex.join(overrides), model_yaml(cfg), folder, run_id, figures=config.figures)
    seconds = time.perf_counter() - start
    for key in HEADLINE:
        print(f"  {OUTCOMES[key].label:<44} {OUTCOMES[key].format(result.summary[key]):>12}  {OUTCOMES[key].unit}")
    print(f"Done in {seconds:.1f} s. Results: {relative(folder)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
