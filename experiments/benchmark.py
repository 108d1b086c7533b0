"""Speed and memory of one simulation, on one core, at several population sizes.

    .venv/bin/python -m experiments.benchmark                              # 10,000, 50,000, 200,000 residents
    .venv/bin/python -m experiments.benchmark residents=[200000] years=10 burn_in_years=1 scenario=silo

Each size runs in a fresh process (so peak memory is its own) with every weekly phase and the weekly
observation included, and with a Mesa Resident handle per resident. Prints seconds per simulated year,
microseconds per resident-week and peak memory per resident; writes <results>/benchmark/benchmark.csv.
Floors from the core issue: 200,000 residents x 11 years under 60 s; under 2 KB per resident; linear cost.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field

from sim.params import nonneg, positive

from .engine.cli import entry_point, help_requested, own_settings, relative
from .engine.config import quiet_libraries


@dataclass
class BenchmarkSettings:
    residents: list[int] = field(default_factory=lambda: [10_000, 50_000, 200_000],
                                 metadata={"range": (1, 50_000_000, False)})
    years: int = positive(10, 1000)
    burn_in_years: int = nonneg(1, 1000)
    scenario: str = "whole_system"  # the heavier of the two by default


def peak_rss() -> int:
    """This process's peak resident set size in bytes (VmHWM: reset by exec, unlike getrusage's ru_maxrss, which a
    child started by fork and exec inherits from a large parent)."""
    try:
        for line in open("/proc/self/status"):  # noqa: SIM115 - a tiny file read once
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(residents: int, years: int, burn_in_years: int, scenario: str) -> dict:
    """In this process: build and run one model; return timings and peak resident set size."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    quiet_libraries()
    from sim import PlaceModel

    from .engine.config import load_config, model_params

    _, config = load_config([f"residents={residents}", f"years={years}", f"burn_in_years={burn_in_years}",
                             f"scenario={scenario}"])
    baseline = peak_rss()
    start = time.perf_counter()
    model = PlaceModel(model_params(config))
    built = time.perf_counter()
    model.run()
    model.summary()
    done = time.perf_counter()
    peak = peak_rss()
    weeks = model.n_weeks
    sim_years = weeks / 52
    return {
        "residents": residents,
        "scenario": scenario,
        "years_simulated": sim_years,
        "build_s": round(built - start, 3),
        "run_s": round(done - built, 3),
        "total_s": round(done - start, 3),
        "s_per_year": round((done - built) / sim_years, 3),
        "us_per_resident_week": round((done - built) / (weeks * residents) * 1e6, 3),
        "peak_rss_mb": round(peak / 2**20, 1),
        "model_bytes_per_resident": round((peak - baseline) / residents),
    }


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ()):
        return 0
    import pandas as pd

    from .engine import store
    from .engine.config import load_config, model_params
    from .engine.resources import check_memory

    args = own_settings(argv, BenchmarkSettings)
    for n in args.residents:  # every size checked before any runs
        _, config = load_config([f"residents={n}", f"years={args.years}", f"burn_in_years={args.burn_in_years}",
                                 f"scenario={args.scenario}"])
        check_memory(model_params(config))
    store.check_results_root()
    rows = []
    print(f"{'residents':>10} {'build s':>8} {'run s':>8} {'s/year':>8} {'us/res-wk':>10} {'peak MB':>8} "
          f"{'B/resident':>10}")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for n in args.residents:
        code = ("import json; from experiments.benchmark import measure; "
                f"print(json.dumps(measure({n}, {args.years}, {args.burn_in_years}, {args.scenario!r})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            print(f"error: the run of {n:,} residents failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{n:>10,} {row['build_s']:>8.2f} {row['run_s']:>8.2f} {row['s_per_year']:>8.3f} "
              f"{row['us_per_resident_week']:>10.3f} {row['peak_rss_mb']:>8.0f} {row['model_bytes_per_resident']:>10,}")
    path = store.output_dir("benchmark") / "benchmark.csv"
    store.write_text(path, pd.DataFrame(rows).to_csv(index=False))
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        ratio = large["us_per_resident_week"] / small["us_per_resident_week"]
        print(f"cost per resident-week at {large['residents']:,} is {ratio:.2f}x that at {small['residents']:,} "
              f"(1.0 = perfectly linear)")
    print(f"written: {relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
