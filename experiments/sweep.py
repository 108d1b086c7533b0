"""Designed, resumable, parallel sweeps: conf/sweep/<name>.yaml in, one Parquet record per run out.

    .venv/bin/python -m experiments.sweep sweep=smoke
    .venv/bin/python -m experiments.sweep sweep=uncertainty_lhs engine.executor=dask engine.workers=2
    .venv/bin/python -m experiments.sweep sweep=uncertainty_lhs engine.executor=dask engine.dask.address=tcp://host:8786
    .venv/bin/python -m experiments.sweep sweep=benchmark engine.executor=submitit engine.submitit.slurm_partition=short
    .venv/bin/python -m experiments.sweep sweep=smoke residents=2000      # any other key=value: a model override

A sweep file names a design (grid | lhs | morris | sobol), the model keys to vary (a sampled design takes their
ranges from conf/ranges.yaml), the scenarios, ``n_seeds`` replicate seeds from ``base_seed`` (shared by every
point and scenario: common random numbers), fixed model overrides and the engine. Every run is composed and
validated before any starts (exit 2, one line naming the key, nothing written). Records land in
results/sweeps/<name>/runs/<hash>.parquet; a rerun skips finished runs; the end compacts them into
results/sweeps/<name>/table.parquet, whose ``overrides`` column re-runs any row with experiments.run. A sweep
name holds one model configuration: rerunning it with other model overrides is refused. See docs/SWEEPS.md.
"""

from __future__ import annotations

from .engine.cli import entry_point, help_requested, relative
from .engine.executors import check_engine
from .engine.resources import check_memory
from .engine.store import check_results_root
from .engine.study import claim, run_study
from .engine.sweeps import definition, load_sweep_config, plan_sweep, sweep_folder

TABLE_ORDER = ["point", "scenario", "replicate"]


def run_named_sweep(settings, argv: list[str], plan=None, quiet: bool = False):
    """Run (or resume) a composed sweep; return its outcome counts and folder."""
    check_engine(settings.engine)
    check_results_root()
    plan = plan or plan_sweep(settings)
    check_memory([spec.params for spec in plan.specs], settings.engine, resident_agents=False)
    folder = sweep_folder(settings.name)
    document, stamp = definition(settings, argv)
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, "sweep", document, stamp)
    say = (lambda *a: None) if quiet else print
    outcome = run_study(folder, plan, settings.engine, settings.progress, say=say, label=f"Sweep {settings.name}",
                        order=TABLE_ORDER)
    say(f"Done: {outcome.ok} ran, {outcome.error} failed, {outcome.skipped} skipped in {outcome.wall_seconds:.1f} s. "
        f"Table: {relative(folder / 'table.parquet')}")
    if outcome.error:
        say("Failed runs keep their traceback in the `error` column; run the same command again to retry them.")
    return outcome, folder


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ("sweep",)):
        return 0
    settings = load_sweep_config(argv)
    plan = plan_sweep(settings)
    outcome, _ = run_named_sweep(settings, argv, plan)
    return 1 if outcome.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
