"""Compare scenarios over replicate seeds, in parallel, and write a report a policy reader can follow.

    .venv/bin/python -m experiments.compare                      # silo vs whole_system, 10 seeds each
    .venv/bin/python -m experiments.compare compare.n_seeds=20 residents=20000 uncertainty.need_coupling=0

Every scenario in ``compare.scenarios`` runs with the same replicate seeds, drawn from
``numpy.random.SeedSequence(compare.base_seed).spawn(compare.n_seeds)`` (common random numbers, so differences
between scenarios are paired). Every run's configuration is composed and validated before any run starts.
Writes results/compare/<id>/: summary.csv, differences.csv, runs.parquet, timeseries.parquet, figures and
report.md.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing import get_context

import numpy as np
import pandas as pd
from scipy import stats

from sim import Params

from .cli import fail, help_requested, relative
from .config import RESULTS_DIR, ConfigError, config_hash, load_config, model_params, resolved_yaml
from .plots import monthly
from .runner import atomic_folder, commit_folder, show_progress, simulate, versions, write_parquet

OUTCOMES = (
    "mean_wellbeing", "wellbeing_gap_deprived", "unmet_need", "multiple_disadvantage_share",
    "crises_per_1000_per_year", "failure_demand_share", "refusal_rate", "mean_wait_weeks", "lost_referral_share",
    "total_cost", "prevention_share_of_spend", "cost_per_wellbeing_point", "mean_resident_trust",
    "collaboration_density", "mean_tie_strength", "community_orgs_open", "practice_knowledge",
)


def replicate_seeds(base_seed: int, n: int) -> list[int]:
    """Independent replicate seeds from one base seed (SeedSequence.spawn), as plain integers."""
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in np.random.SeedSequence(base_seed).spawn(n)]


@dataclass
class Job:
    scenario: str
    replicate: int
    seed: int
    params: Params
    config_hash: str


def run_job(job: Job) -> tuple[Job, dict, pd.DataFrame, pd.DataFrame, float]:
    """Worker: one simulation; returns its summary, its monthly indicators and monthly quintile wellbeing."""
    start = time.perf_counter()
    result = simulate(job.params, resident_agents=False)
    month = monthly(result.timeseries)
    nb = result.neighbourhoods
    quintiles = (nb.assign(w=nb["mean_wellbeing"] * nb["residents"])
                 .groupby(["month", "deprivation_quintile"])[["w", "residents"]].sum())
    by_q = (quintiles["w"] / quintiles["residents"]).unstack()
    gap = (by_q.iloc[:, 0] - by_q.iloc[:, -1]).to_numpy()
    month["wellbeing_gap"] = gap[: len(month)] if len(gap) >= len(month) else np.r_[gap, [np.nan] * (len(month) - len(gap))]
    month["crises_per_1000_year"] = month["crises"] * 13 * 1000.0 / job.params.residents
    return job, result.summary, month, by_q, time.perf_counter() - start


def confidence_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def summarise_runs(runs: pd.DataFrame, scenarios: list[str], confidence: float) -> pd.DataFrame:
    rows = []
    for scenario in scenarios:
        sub = runs[runs["scenario"] == scenario]
        for outcome in OUTCOMES:
            mean, low, high = confidence_interval(sub[outcome].to_numpy(dtype=float), confidence)
            rows.append({"scenario": scenario, "outcome": outcome, "mean": mean, "ci_low": low, "ci_high": high,
                         "n_seeds": int(sub[outcome].notna().sum())})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float) -> pd.DataFrame:
    """Scenario minus baseline, paired by replicate seed (common random numbers)."""
    rows = []
    base = runs[runs["scenario"] == baseline].set_index("replicate")
    for scenario in scenarios:
        if scenario == baseline:
            continue
        other = runs[runs["scenario"] == scenario].set_index("replicate")
        for outcome in OUTCOMES:
            diff = (other[outcome] - base[outcome]).to_numpy(dtype=float)
            mean, low, high = confidence_interval(diff, confidence)
            rows.append({"scenario": scenario, "baseline": baseline, "outcome": outcome, "difference": mean,
                         "ci_low": low, "ci_high": high, "n_pairs": int(np.isfinite(diff).sum())})
    return pd.DataFrame(rows)


def plan(argv: list[str]) -> tuple[object, list[Job]]:
    """Compose and validate every run's configuration before anything runs."""
    cfg, config = load_config(argv)
    settings = config.compare
    if settings.baseline not in settings.scenarios:
        raise ConfigError(f"compare.baseline: {settings.baseline!r} is not in compare.scenarios")
    seeds = replicate_seeds(settings.base_seed, settings.n_seeds)
    jobs = []
    for scenario in settings.scenarios:
        for replicate, seed in enumerate(seeds):
            run_cfg, run_config = load_config([*argv, f"scenario={scenario}", f"seed={seed}"])
            jobs.append(Job(scenario, replicate, seed, model_params(run_config), config_hash(run_cfg)))
    return (cfg, config), jobs


def execute(jobs: list[Job], workers: int, progress: bool) -> list[tuple]:
    """Run jobs in a process pool (spawned workers: no inherited state); results in job order."""
    results: list[tuple | None] = [None] * len(jobs)
    if workers <= 1:
        iterator = map(run_job, jobs)
        for i, out in enumerate(_progress(iterator, len(jobs), progress)):
            results[i] = out
        return results
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
        for future in _progress(as_completed(futures), len(jobs), progress):
            results[futures[future]] = future.result()
    return results


def _progress(iterable, total: int, enabled: bool):
    if not enabled:
        yield from iterable
        return
    from tqdm import tqdm

    yield from tqdm(iterable, total=total, unit="run", desc="runs")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__):
        return 0
    try:
        (cfg, config), jobs = plan(argv)
    except ConfigError as exc:
        return fail(exc)
    settings = config.compare
    workers = settings.workers or os.cpu_count() or 1
    workers = min(workers, len(jobs))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = RESULTS_DIR / "compare" / f"{stamp}-{settings.name}"
    print(f"Comparing {', '.join(settings.scenarios)} on {config.place.name}: {settings.n_seeds} seeds each, "
          f"{config.residents:,} residents, {config.burn_in_years} burn-in + {config.years} years; "
          f"{len(jobs)} runs on {workers} worker{'s' if workers > 1 else ''}")
    start = time.perf_counter()
    results = execute(jobs, workers, show_progress(config.progress))
    wall = time.perf_counter() - start

    runs = pd.DataFrame([
        {"scenario": job.scenario, "replicate": job.replicate, "seed": job.seed, "config_hash": job.config_hash,
         "seconds": seconds, **summary}
        for job, summary, _, _, seconds in results
    ])
    months = pd.concat([m.assign(scenario=job.scenario, replicate=job.replicate, seed=job.seed)
                        for job, _, m, _, _ in results], ignore_index=True)
    summary = summarise_runs(runs, settings.scenarios, settings.confidence)
    differences = paired_differences(runs, settings.scenarios, settings.baseline, settings.confidence)

    from .report import write_report

    tmp = atomic_folder(folder)
    try:
        summary.to_csv(tmp / "summary.csv", index=False)
        differences.to_csv(tmp / "differences.csv", index=False)
        write_parquet(runs.drop(columns=["seconds"]), tmp / "runs.parquet")
        write_parquet(months, tmp / "timeseries.parquet")
        (tmp / "config.yaml").write_text(resolved_yaml(cfg))
        write_report(tmp, config, runs, summary, differences, months, versions(), wall, workers)
        commit_folder(tmp, folder)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"Done: {len(jobs)} runs in {wall:.0f} s.")
    print(f"Report: {relative(folder / 'report.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
