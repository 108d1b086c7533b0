"""Speed and memory of one simulation, on one core, at several population sizes.

    .venv/bin/python -m experiments.benchmark                        # 10,000, 50,000, 200,000 residents
    .venv/bin/python -m experiments.benchmark --residents 200000 --years 10 --burn-in-years 1

Each size runs in a fresh process (so peak memory is its own) with every weekly phase and the weekly
observation included, and with a Mesa Resident handle per resident. Prints seconds per simulated year,
microseconds per resident-week and peak memory per resident; writes results/benchmark/benchmark.csv.
Floors from the core issue: 200,000 residents x 11 years under 60 s; under 2 KB per resident; linear cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import pandas as pd

from .config import RESULTS_DIR, quiet_libraries


def measure(residents: int, years: int, burn_in_years: int, scenario: str) -> dict:
    """In this process: build and run one model; return timings and peak resident set size."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    quiet_libraries()
    from sim import PlaceModel

    from .config import load_config, model_params

    _, config = load_config([f"residents={residents}", f"years={years}", f"burn_in_years={burn_in_years}",
                             f"scenario={scenario}"])
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model = PlaceModel(model_params(config))
    built = time.perf_counter()
    model.run()
    model.summary()
    done = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "model_bytes_per_resident": round((peak_kb - baseline_kb) * 1024 / residents),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, nargs="*", default=[10_000, 50_000, 200_000])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--burn-in-years", type=int, default=1)
    parser.add_argument("--scenario", default="whole_system", help="the heavier of the two by default")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.residents[0], args.years, args.burn_in_years, args.scenario)))
        return 0
    rows = []
    print(f"{'residents':>10} {'build s':>8} {'run s':>8} {'s/year':>8} {'us/res-wk':>10} {'peak MB':>8} "
          f"{'B/resident':>10}")
    for n in args.residents:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run(
            [sys.executable, "-m", "experiments.benchmark", "--one", "--residents", str(n), "--years",
             str(args.years), "--burn-in-years", str(args.burn_in_years), "--scenario", args.scenario],
            capture_output=True, text=True, env=env, check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{n:>10,} {row['build_s']:>8.2f} {row['run_s']:>8.2f} {row['s_per_year']:>8.3f} "
              f"{row['us_per_resident_week']:>10.3f} {row['peak_rss_mb']:>8.0f} {row['model_bytes_per_resident']:>10,}")
    frame = pd.DataFrame(rows)
    folder = RESULTS_DIR / "benchmark"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "benchmark.csv", index=False)
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        ratio = large["us_per_resident_week"] / small["us_per_resident_week"]
        print(f"cost per resident-week at {large['residents']:,} is {ratio:.2f}x that at {small['residents']:,} "
              f"(1.0 = perfectly linear)")
    print(f"written: {folder / 'benchmark.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
