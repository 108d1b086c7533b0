"""Compare scenarios over replicate seeds on the engine, and write a report a policy reader can follow.

    .venv/bin/python -m experiments.compare                      # silo vs whole_system, 10 seeds each
    .venv/bin/python -m experiments.compare compare.n_seeds=20 residents=20000 uncertainty.need_coupling=0
    .venv/bin/python -m experiments.compare experiment=entry_points engine.executor=dask engine.workers=2

Every scenario in ``compare.scenarios`` runs with the same replicate seeds, drawn from
``numpy.random.SeedSequence(compare.base_seed).spawn(compare.n_seeds)`` (common random numbers, so differences
between scenarios are paired). Every run is composed and validated before any starts. Runs go through the same
engine as sweeps (local processes, Dask or Slurm: ``engine.*``): each writes its record as it finishes, so an
interrupted comparison resumes where it stopped when the same command is run again. Writes
results/compare/<name>-<runs hash>/: table.parquet (one row per run, with the overrides that re-run it),
summary.csv, differences.csv, timeseries.parquet, figures and report.md.

Across plausible worlds (the main job once a place is calibrated; experiments.calibrate writes the ensemble):

    .venv/bin/python -m experiments.compare ensemble=default     # every scenario in every world of the ensemble
    .venv/bin/python -m experiments.compare ensemble=default ensemble.seeds_per_world=5 residents=10000

Each world of ``conf/ensemble/<name>.yaml`` is a point of the uncertainty space consistent with the observed
patterns; every scenario runs in every world with the same ``ensemble.seeds_per_world`` seeds. A world is better
or worse only where the interval of its paired difference over its seeds lies wholly on one side of zero, and not
resolved otherwise (differences_by_world.csv). summary.csv gives the central interval over worlds, differences.csv
how many worlds are clearly better, clearly worse and not resolved (with the shares' intervals) and the worst
world; report.md and a self-contained report.html lead with that answer, the conditions under which the scenario
loses (PRIM over the clearly worse worlds' parameters), the results in the place's own units and the year the
reform pays back.
"""

from __future__ import annotations

from .engine.cli import entry_point, help_requested, relative
from .engine.config import load_config, model_overrides, resolved_yaml
from .engine.executors import check_engine
from .engine.plan import check_reproducible, plan_runs
from .engine.resources import check_memory
from .engine.seeds import replicate_seeds
from .engine.store import check_results_root, output_dir
from .engine.study import claim, fingerprint, labelled_series, run_study, say_failed


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__):
        return 0
    cfg, config = load_config(argv)
    if config.ensemble.worlds or any(a.split("=", 1)[0] == "ensemble" for a in argv):
        from .robust import compare_worlds

        return compare_worlds(argv, cfg, config)
    settings = config.compare
    overrides = model_overrides(argv)
    plan = plan_runs(overrides, settings.scenarios, [{}], replicate_seeds(settings.base_seed, settings.n_seeds))
    check_reproducible(plan.specs[0])
    check_memory([spec.params for spec in plan.specs], config.engine, resident_agents=False)
    check_engine(config.engine)
    check_results_root()
    folder = output_dir("compare", f"{settings.name}-{fingerprint(sorted(plan.hashes))}")
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, "comparison", {"command_line": list(argv), "model_overrides": overrides,
                                 "settings": resolved_yaml(cfg)}, fingerprint(sorted(plan.hashes)),
          name_key="compare.name")
    print(f"Comparing {', '.join(settings.scenarios)} on {config.place.name}: {settings.n_seeds} seeds each, "
          f"{config.residents:,} residents, {config.burn_in_years} burn-in + {config.years} years")
    outcome = run_study(folder, plan, config.engine, config.progress, series=True, label="Comparison")
    if say_failed(outcome, folder):
        return 1
    write_comparison(folder, cfg, config, plan, argv, outcome.wall_seconds)
    print(f"Done: {outcome.ok} ran, {outcome.skipped} reused, in {outcome.wall_seconds:.0f} s.")
    print(f"Report: {relative(folder / 'report.md')}")
    return 0


def write_comparison(folder, cfg, config, plan, argv: list[str], wall: float) -> None:
    """Tables, figures and report.md from the study's records; each file replaces its old version atomically."""
    import pandas as pd

    from .engine import store
    from .engine.executors import check_engine
    from .engine.runner import versions
    from .reporting.report import write_report
    from .stats.comparison import paired_differences, summarise_runs

    settings = config.compare
    runs = pd.read_parquet(folder / "table.parquet")
    months = labelled_series(folder, runs, ("scenario", "replicate", "seed"))
    summary = summarise_runs(runs, settings.scenarios, settings.confidence)
    differences = paired_differences(runs, settings.scenarios, settings.baseline, settings.confidence)
    scenario_params = {}
    for spec in plan.specs:
        scenario_params.setdefault(spec.labels["scenario"], spec.params)

    def write(tmp):
        summary.to_csv(tmp / "summary.csv", index=False)
        differences.to_csv(tmp / "differences.csv", index=False)
        months.to_parquet(tmp / "timeseries.parquet", index=False, engine="pyarrow", compression="zstd")
        (tmp / "config.yaml").write_text(resolved_yaml(cfg))
        write_report(tmp, config, scenario_params, runs, summary, differences, months, versions(), wall,
                     check_engine(config.engine), argv, relative(folder / "table.parquet"))

    store.write_into(folder, write)

if __name__ == "__main__":
    raise SystemExit(main())
