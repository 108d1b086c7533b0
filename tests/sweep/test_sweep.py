"""Sweeps: validated before anything runs, identical whatever the executor, resumable after SIGKILL.

Every test points the results root at its own temporary folder (``PLACESIM_RESULTS``), so nothing lands in
results/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

from experiments import store
from experiments.config import ROOT, config_hash, load_config, model_params, resolved_yaml
from experiments.executors import RunSpec, config_yaml, run_spec
from experiments.sweep import apply_point, load_sweep_config, main, plan, run_sweep

SMOKE = ["sweep=smoke", "progress=off"]


@pytest.fixture
def results(tmp_path, monkeypatch):
    root = tmp_path / "results"
    monkeypatch.setenv("PLACESIM_RESULTS", str(root))
    return root


def sweep_table(argv: list[str]) -> pd.DataFrame:
    """Run a sweep in-process and return its compacted table without the timing columns."""
    _, settings = load_sweep_config(argv)
    run_sweep(settings, plan(settings), quiet=True)
    return pd.read_parquet(store.sweep_dir(settings.name) / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))


def test_per_run_config_is_what_load_config_composes():
    _, settings = load_sweep_config(SMOKE)
    base, _ = load_config([*settings.overrides, "scenario=whole_system"])
    for point, seed in (({"uncertainty.need_coupling": 0.08}, 7), ({"uncertainty.need_coupling": 0.0}, 123)):
        fast = apply_point(base, point, seed)
        slow, _ = load_config([*settings.overrides, "scenario=whole_system",
                                         f"uncertainty.need_coupling={point['uncertainty.need_coupling']}",
                                         f"seed={seed}"])
        assert OmegaConf.to_container(fast, resolve=True) == OmegaConf.to_container(slow, resolve=True)
        assert config_hash(fast) == config_hash(slow)
    specs = plan(settings)
    assert len(specs) == 8 and len({s.run_hash for s in specs}) == 8
    for spec in (specs[0], specs[-1]):
        cfg, params = load_config([*settings.overrides, f"scenario={spec.labels['scenario']}",
                                   f"uncertainty.need_coupling={spec.labels['need_coupling']}",
                                   f"seed={spec.labels['seed']}"])
        assert model_params(params) == spec.params and config_hash(cfg) == spec.run_hash
        assert config_yaml(spec.config) == resolved_yaml(cfg)


@pytest.mark.parametrize(("argv", "message"), [
    (["uncertanty.need_coupling=0"], "uncertanty: unknown key"),
    (["residents=-5"], "residents"),
    (["parameters=[{key:'uncertainty.need_coupln',values:[0]}]"], "uncertainty.need_coupln: unknown key"),
    (["parameters=[{key:'uncertainty.p_wrong_door',values:[0.2,1.5]}]"], "uncertainty.p_wrong_door"),
    (["design=halton"], "design"),
    (["executor=ray"], "executor"),
])
def test_bad_input_exits_2_with_one_line_before_anything_runs(results, capsys, argv, message):
    assert main([*SMOKE, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not results.exists()


def test_unknown_sweep_names_the_options(results, capsys):
    assert main(["sweep=nope"]) == 2
    assert "smoke" in capsys.readouterr().err


def test_resume_skips_finished_runs_and_says_how_many_remain(results, capsys):
    reference = sweep_table([*SMOKE, "workers=1"])
    records = sorted(store.runs_dir("smoke").glob("*.parquet"))
    for path in records[:3]:
        path.unlink()
    _, settings = load_sweep_config([*SMOKE, "workers=1"])
    counts = run_sweep(settings, plan(settings))
    assert counts["skipped"] == 5 and counts["ok"] == 3
    assert "(5 finished, 3 to run)" in capsys.readouterr().out
    again = pd.read_parquet(store.sweep_dir("smoke") / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))
    pd.testing.assert_frame_equal(again, reference)


def test_failed_run_writes_an_error_record_and_is_retried(tmp_path, monkeypatch):
    import experiments.runner

    def broken(*args, **kwargs):
        raise RuntimeError("model blew up")

    monkeypatch.setattr(experiments.runner, "simulate", broken)
    _, settings = load_sweep_config(SMOKE)
    spec = plan(settings)[0]
    assert run_spec(spec, str(tmp_path), "test") == (spec.run_hash, "error")
    record = pd.read_parquet(tmp_path / f"{spec.run_hash}.parquet")
    assert record.loc[0, "status"] == "error" and "model blew up" in record.loc[0, "error"]
    assert store.finished(tmp_path) == set()


def test_results_identical_whatever_the_executor_and_worker_count(results, tmp_path, monkeypatch):
    tables = {}
    for label, extra in {
        "local-1": ["workers=1"],
        "local-2": ["workers=2"],
        "dask-2": ["executor=dask", "workers=2"],
        "submitit-debug": ["executor=submitit", "submitit.cluster=debug", "submitit.chunk_size=3",
                           f"submitit.folder={tmp_path / 'submitit'}"],
    }.items():
        monkeypatch.setenv("PLACESIM_RESULTS", str(tmp_path / label))
        tables[label] = sweep_table([*SMOKE, *extra])
    reference = tables.pop("local-1")
    assert len(reference) == 8 and (reference["status"] == "ok").all()
    for label, table in tables.items():
        pd.testing.assert_frame_equal(table, reference, obj=label)


def test_sigkill_mid_sweep_loses_nothing_and_resumes_to_the_same_table(tmp_path, monkeypatch):
    argv = [*SMOKE, "n_seeds=4", "workers=2"]  # 16 runs
    monkeypatch.setenv("PLACESIM_RESULTS", str(tmp_path / "reference"))
    reference = sweep_table([*SMOKE, "n_seeds=4", "workers=1"])

    killed = tmp_path / "killed"
    env = {**os.environ, "PLACESIM_RESULTS": str(killed)}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.sweep", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = killed / "sweeps" / "smoke" / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its pool workers, mid-sweep
    proc.wait()
    survivors = sorted(runs.glob("*.parquet"))
    assert 4 <= len(survivors) < 16, "kill the sweep mid-way"
    for path in survivors:  # complete or absent: every record reads and has its row
        assert pq.read_table(path).num_rows == 1
    before = {p.name: p.read_bytes() for p in survivors}

    monkeypatch.setenv("PLACESIM_RESULTS", str(killed))
    _, settings = load_sweep_config(argv)
    counts = run_sweep(settings, plan(settings), quiet=True)
    assert counts["skipped"] == len(survivors) and counts["ok"] == 16 - len(survivors)
    assert all((runs / name).read_bytes() == data for name, data in before.items())  # no finished run redone
    assert not list(runs.glob(f"{store.TEMP_PREFIX}*"))
    table = pd.read_parquet(killed / "sweeps" / "smoke" / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))
    pd.testing.assert_frame_equal(table, reference)


def test_table_reads_in_duckdb(results):
    duckdb = pytest.importorskip("duckdb")
    sweep_table([*SMOKE, "workers=1"])
    path = store.sweep_dir("smoke") / "table.parquet"
    rows = duckdb.sql(f"select scenario, count(*) n, avg(mean_wellbeing) w from '{path}' "
                      "where status = 'ok' group by scenario order by scenario").fetchall()
    assert [r[:2] for r in rows] == [("silo", 4), ("whole_system", 4)]
    assert all(0 < r[2] <= 1 for r in rows)


def test_every_sweep_file_composes_and_plans():
    for path in sorted((ROOT / "conf" / "sweep").glob("*.yaml")):
        _, settings = load_sweep_config([f"sweep={path.stem}", "samples=3"])  # every key, fewer points
        specs = plan(settings)
        assert specs and all(isinstance(s, RunSpec) for s in specs), path.stem


def test_analysis_loads_and_plots(results):
    from experiments import analysis

    sweep_table([*SMOKE, "workers=1"])
    frame = analysis.load_sweep("smoke")
    assert len(frame) == 8 and {"need_coupling", "seed", "scenario", "mean_wellbeing"} <= set(frame.columns)
    assert analysis.main(["sweep=smoke", "outcome=mean_wellbeing", "parameter=uncertainty.need_coupling"]) == 0
    assert (store.sweep_dir("smoke") / "mean_wellbeing_vs_need_coupling.png").stat().st_size > 0


def test_every_sensitivity_and_discovery_file_composes():
    from omegaconf import OmegaConf as OC

    from experiments.discovery import DiscoveryConfig
    from experiments.sensitivity import SensitivityConfig, method_sweep
    from experiments.sweep import compose_file

    for path in sorted((ROOT / "conf" / "sensitivity").glob("*.yaml")):
        _, s = load_sweep_config([f"sensitivity={path.stem}", "morris_trajectories=2", "sobol_samples=2"],
                                 group="sensitivity", schema=SensitivityConfig)
        for method in s.methods:
            assert plan(method_sweep(s, method)), (path.stem, method)
    for path in sorted((ROOT / "conf" / "discovery").glob("*.yaml")):
        d = OC.to_object(compose_file("discovery", path.stem, [], DiscoveryConfig, "discovery_schema"))
        _, sweep = load_sweep_config([f"sweep={d.sweep}", *d.sweep_overrides])
        assert {d.baseline, d.alternative} <= set(sweep.scenarios), path.stem
