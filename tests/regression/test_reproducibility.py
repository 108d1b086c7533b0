"""One seed, one result: the same configuration and seed give byte-identical outputs, in this process, in
another process, and whatever the number of comparison workers; different seeds give different results."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from experiments.engine.config import ROOT, EngineSettings, config_hash, load_config, model_params, model_yaml
from experiments.engine.plan import plan_runs
from experiments.engine.runner import simulate, write_run
from experiments.engine.seeds import replicate_seeds
from experiments.engine.study import read_series, run_study

OVERRIDES = ["scenario=whole_system", "residents=1200", "years=1", "burn_in_years=1", "seed=11"]
COMPARED_FILES = ("summary.json", "timeseries.parquet", "neighbourhoods.parquet", "config.yaml")


def _write(overrides: list[str], folder):
    cfg, config = load_config(overrides)
    params = model_params(config)
    run_id = f"repro-{config_hash(cfg)}"
    return write_run(simulate(params, resident_agents=False), params, " ".join(overrides), model_yaml(cfg), folder,
                     run_id)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    return _write(OVERRIDES, tmp_path_factory.mktemp("first") / "run")


def assert_same_summary(a: dict, b: dict) -> None:
    """Exact equality of every outcome; NaN (an undefined ratio) equals NaN."""
    assert a.keys() == b.keys()
    for key, x in a.items():
        y = b[key]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), key
        else:
            assert x == y, f"{key}: {x!r} != {y!r}"


def test_same_seed_same_bytes_in_one_process(first_run, tmp_path):
    second = _write(OVERRIDES, tmp_path / "run")
    for name in COMPARED_FILES:
        assert (first_run / name).read_bytes() == (second / name).read_bytes(), name


def test_same_seed_same_bytes_in_another_process(first_run, tmp_path):
    """A fresh interpreter (new hash seeds, new imports) writes the same files byte for byte."""
    folder = tmp_path / "run"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT / "tests" / "regression")!r})
        from test_reproducibility import OVERRIDES, _write
        from experiments.engine.config import quiet_libraries
        quiet_libraries()
        _write(OVERRIDES, Path({str(folder)!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in COMPARED_FILES:
        assert (first_run / name).read_bytes() == (folder / name).read_bytes(), name


def test_different_seeds_give_different_timeseries(compose):
    a = simulate(compose(*OVERRIDES), resident_agents=False).timeseries
    b = simulate(compose(*OVERRIDES[:-1], "seed=12"), resident_agents=False).timeseries
    assert a.shape == b.shape
    assert not a.equals(b)
    assert a["mean_wellbeing"].to_numpy().tolist() != b["mean_wellbeing"].to_numpy().tolist()


def test_replicate_seeds_are_deterministic_distinct_and_stable_under_extension():
    seeds = replicate_seeds(20261122, 10)
    assert seeds == replicate_seeds(20261122, 10)
    assert len(set(seeds)) == 10
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)
    assert replicate_seeds(20261122, 4) == seeds[:4]  # adding replicates never changes the earlier ones
    assert set(replicate_seeds(1, 10)).isdisjoint(seeds)


def test_comparison_results_do_not_depend_on_worker_count(tmp_path):
    """Two workers on the engine give exactly the records and monthly series one process gives."""
    plan = plan_runs(["residents=800", "years=1", "burn_in_years=1"], ["silo", "whole_system"], [{}],
                     replicate_seeds(20261122, 2))
    assert [(r["scenario"], r["replicate"]) for r in plan.index] == [("silo", 0), ("silo", 1),
                                                                    ("whole_system", 0), ("whole_system", 1)]
    assert plan.index[0]["seed"] == plan.index[2]["seed"] != plan.index[1]["seed"]  # common random numbers
    tables, series = {}, {}
    for workers in (1, 2):
        folder = tmp_path / f"workers{workers}"
        run_study(folder, plan, EngineSettings(workers=workers), "off", series=True, say=lambda *a: None)
        tables[workers] = pd.read_parquet(folder / "table.parquet").drop(columns=["wall_seconds"])
        series[workers] = read_series(folder, plan.hashes)
    pd.testing.assert_frame_equal(tables[1], tables[2])
    for run_hash in plan.hashes:
        pd.testing.assert_frame_equal(series[1][run_hash], series[2][run_hash])
