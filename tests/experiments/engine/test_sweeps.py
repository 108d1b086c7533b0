"""Sweeps on the engine: planned and validated before anything runs, identical whatever the executor, resumable
after SIGKILL, never mixing two model configurations under one name, every record reproducible.

Every test points the results root at its own temporary folder (``PLACESIM_RESULTS``).
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
import yaml
from omegaconf import OmegaConf

from experiments.engine import store
from experiments.engine.config import ROOT, ConfigError, config_hash, load_config, model_params, model_yaml
from experiments.engine.plan import apply_point
from experiments.engine.runner import config_yaml, run_record
from experiments.engine.sweeps import design_of, load_sweep_config, plan_sweep, sweep_folder
from experiments.sweep import main, run_named_sweep

SMOKE = ["sweep=smoke", "progress=off"]


def sweep_table(argv: list[str]) -> pd.DataFrame:
    """Run a sweep in-process and return its table without the timing columns."""
    settings = load_sweep_config(argv)
    _, folder = run_named_sweep(settings, argv, quiet=True)
    return pd.read_parquet(folder / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))


def test_per_run_config_is_what_load_config_composes():
    """A point applied to the scenario's composed config equals composing its overrides from scratch."""
    settings = load_sweep_config(SMOKE)
    base, _ = load_config([*settings.overrides, "scenario=whole_system"])
    for point, seed in (({"uncertainty.need_coupling": 0.08}, 7), ({"uncertainty.need_coupling": 0.0}, 123)):
        fast = apply_point(base, point, seed)
        slow, _ = load_config([*settings.overrides, "scenario=whole_system",
                               f"uncertainty.need_coupling={point['uncertainty.need_coupling']}", f"seed={seed}"])
        assert OmegaConf.to_container(fast, resolve=True) == OmegaConf.to_container(slow, resolve=True)
        assert config_hash(fast) == config_hash(slow)
    plan = plan_sweep(settings)
    assert len(plan.specs) == 8 and len({s.run_hash for s in plan.specs}) == 8
    for spec in plan.specs:  # every record's overrides reproduce it with experiments.run
        cfg, params = load_config(spec.overrides)
        assert model_params(params) == spec.params and config_hash(cfg) == spec.run_hash
        assert config_yaml(spec.config) == model_yaml(cfg)


def test_sampled_designs_take_their_ranges_from_the_ranges_file():
    """A factor without low/high gets conf/ranges.yaml's range; a file may narrow it; every point lies inside."""
    from experiments.engine.ranges import plausible

    settings = load_sweep_config(["sweep=uncertainty_lhs", "samples=16"])
    design = design_of(settings)
    for factor in design.factors:
        r = plausible(factor.key)
        assert (factor.low, factor.high) == (r.low, r.high)
    points = pd.DataFrame(design.points())
    for factor in design.factors:
        assert points[factor.key].between(factor.low, factor.high).all()
    narrowed = load_sweep_config(["sweep=uncertainty_lhs", "samples=4",
                                  "parameters=[{key:uncertainty.need_coupling,low:0.01,high:0.02}]"])
    (factor,) = design_of(narrowed).factors
    assert (factor.low, factor.high) == (0.01, 0.02)


@pytest.mark.parametrize(("argv", "message"), [
    (["uncertanty.need_coupling=0"], "uncertanty: unknown key"),
    (["residents=-5"], "residents"),
    (["parameters=[{key:'uncertainty.need_coupln',values:[0]}]"], "uncertainty.need_coupln: unknown key"),
    (["parameters=[{key:'uncertainty.p_wrong_door',values:[0.2,1.5]}]"], "uncertainty.p_wrong_door"),
    (["parameters=[{key:'relations.tie_threshold'}]", "design=lhs"], "no plausible range"),
    (["design=halton"], "design"),
    (["engine.executor=ray"], "engine.executor"),
    (["n_seeds=0"], "n_seeds"),
    (["scenarios=[silo,silo]"], "scenarios"),
    (["name=a/b"], "name"),
    (["overrides=['+foo=1']"], "+foo"),
    (["overrides=[scenario=silo]"], "scenario"),
])
def test_bad_input_exits_2_with_one_line_before_anything_runs(results, capsys, argv, message):
    assert main([*SMOKE, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not results.exists()


def test_a_sampled_factor_inside_its_range_is_accepted():
    """The control for the range checks above: a factor with a plausible range plans."""
    settings = load_sweep_config([*SMOKE, "parameters=[{key:'uncertainty.shock_rate'}]", "design=lhs", "samples=2"])
    assert len(plan_sweep(settings).specs) == 2 * 2 * 2


def test_unknown_sweep_names_the_options(results, capsys):
    assert main(["sweep=nope"]) == 2
    assert "smoke" in capsys.readouterr().err


def test_resume_skips_finished_runs_and_says_how_many_remain(results, capsys):
    reference = sweep_table([*SMOKE, "engine.workers=1"])
    records = sorted((sweep_folder("smoke") / "runs").glob("*.parquet"))
    for path in records[:3]:
        path.unlink()
    settings = load_sweep_config([*SMOKE, "engine.workers=1"])
    outcome, folder = run_named_sweep(settings, SMOKE)
    assert outcome.skipped == 5 and outcome.ok == 3
    assert "(5 finished, 3 to run)" in capsys.readouterr().out
    again = pd.read_parquet(folder / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))
    pd.testing.assert_frame_equal(again, reference)


def test_another_model_configuration_under_the_same_name_is_refused(results, capsys):
    """Re-running a sweep with another model override never mixes the two in one table: it is refused, and the
    same overrides again are accepted (and skip every finished run)."""
    sweep_table(SMOKE)
    assert main([*SMOKE, "residents=1200"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: name:") and "other model settings" in err
    recorded = yaml.safe_load((sweep_folder("smoke") / "sweep.yaml").read_text())
    assert recorded["model_overrides"] == ["residents=1000", "years=1", "burn_in_years=1"]
    assert main([*SMOKE, "n_seeds=3"]) == 0  # more seeds: the same configuration, extended
    table = pd.read_parquet(sweep_folder("smoke") / "table.parquet")
    assert len(table) == 12 and table["run_hash"].is_unique
    assert "(8 finished, 4 to run)" in capsys.readouterr().out


def test_sweep_yaml_records_the_command_line(results):
    argv = [*SMOKE, "engine.workers=1", "n_seeds=1"]
    assert main(argv) == 0
    recorded = yaml.safe_load((sweep_folder("smoke") / "sweep.yaml").read_text())
    assert recorded["command_line"] == argv
    assert recorded["settings"]["n_seeds"] == 1 and recorded["settings"]["engine"]["workers"] == 1


def test_failed_run_writes_an_error_record_and_is_retried(tmp_path, monkeypatch):
    import experiments.engine.runner as runner

    def broken(*args, **kwargs):
        raise RuntimeError("model blew up")

    monkeypatch.setattr(runner, "simulate", broken)
    spec = plan_sweep(load_sweep_config(SMOKE)).specs[0]
    assert run_record(spec, str(tmp_path), "test") == (spec.run_hash, "error")
    record = pd.read_parquet(tmp_path / "runs" / f"{spec.run_hash}.parquet")
    assert record.loc[0, "status"] == "error" and "model blew up" in record.loc[0, "error"]
    assert store.finished(tmp_path / "runs") == set()


def test_results_identical_whatever_the_executor_and_worker_count(results, tmp_path, monkeypatch):
    tables = {}
    for label, extra in {
        "local-1": ["engine.workers=1"],
        "local-2": ["engine.workers=2"],
        "dask-2": ["engine.executor=dask", "engine.workers=2"],
        "submitit-debug": ["engine.executor=submitit", "engine.submitit.cluster=debug",
                           "engine.submitit.chunk_size=3"],
    }.items():
        monkeypatch.setenv("PLACESIM_RESULTS", str(tmp_path / label))
        tables[label] = sweep_table([*SMOKE, *extra])
        if label == "submitit-debug":  # job logs land under the results root, like everything else
            assert (tmp_path / label / "submitit").is_dir()
    reference = tables.pop("local-1")
    assert len(reference) == 8 and (reference["status"] == "ok").all()
    for label, table in tables.items():
        pd.testing.assert_frame_equal(table, reference, obj=label)


@pytest.mark.parametrize("executor", [["engine.workers=2"], ["engine.executor=dask", "engine.workers=2"]],
                         ids=["local", "dask"])
def test_sigkill_mid_sweep_loses_nothing_and_resumes_to_the_same_table(tmp_path, monkeypatch, executor):
    """Records are written as runs finish, by the workers: killing everything mid-sweep keeps every finished
    record complete, and the same command resumes without redoing them."""
    argv = [*SMOKE, "n_seeds=4", *executor]  # 16 runs
    monkeypatch.setenv("PLACESIM_RESULTS", str(tmp_path / "reference"))
    reference = sweep_table([*SMOKE, "n_seeds=4", "engine.workers=1"])

    killed = tmp_path / "killed"
    env = {**os.environ, "PLACESIM_RESULTS": str(killed)}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.sweep", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = killed / "sweeps" / "smoke" / "runs"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-sweep
    proc.wait()
    survivors = sorted(runs.glob("*.parquet"))
    assert 4 <= len(survivors) < 16, "kill the sweep mid-way"
    for path in survivors:  # complete or absent: every record reads and has its row
        assert pq.read_table(path).num_rows == 1
    before = {p.name: p.read_bytes() for p in survivors}

    monkeypatch.setenv("PLACESIM_RESULTS", str(killed))
    settings = load_sweep_config(argv)
    outcome, folder = run_named_sweep(settings, argv, quiet=True)
    assert outcome.skipped == len(survivors) and outcome.ok == 16 - len(survivors)
    assert all((runs / name).read_bytes() == data for name, data in before.items())  # no finished run redone
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]
    table = pd.read_parquet(folder / "table.parquet").drop(columns=list(store.TIMING_COLUMNS))
    pd.testing.assert_frame_equal(table, reference)


def test_table_reads_in_duckdb(results):
    duckdb = pytest.importorskip("duckdb")
    sweep_table([*SMOKE, "engine.workers=1"])
    path = sweep_folder("smoke") / "table.parquet"
    rows = duckdb.sql(f"select scenario, count(*) n, avg(mean_wellbeing) w from '{path}' "
                      "where status = 'ok' group by scenario order by scenario").fetchall()
    assert [r[:2] for r in rows] == [("silo", 4), ("whole_system", 4)]
    assert all(0 < r[2] <= 1 for r in rows)


def test_every_sweep_file_composes_and_plans():
    for path in sorted((ROOT / "conf" / "sweep").glob("*.yaml")):
        settings = load_sweep_config([f"sweep={path.stem}", "samples=3"])  # every key, fewer points
        assert plan_sweep(settings).specs, path.stem


def test_analysis_loads_and_plots(results):
    from experiments import analysis

    sweep_table([*SMOKE, "engine.workers=1"])
    assert analysis.main(["sweep=smoke", "outcome=mean_wellbeing", "parameter=uncertainty.need_coupling"]) == 0
    assert (sweep_folder("smoke") / "mean_wellbeing_vs_need_coupling.png").stat().st_size > 0
    assert analysis.main(["sweep=smoke", "outcome=config", "parameter=need_coupling"]) == 2


def test_every_sensitivity_and_discovery_file_composes():
    from experiments.discovery import DiscoveryConfig, check
    from experiments.engine.sweeps import load_settings
    from experiments.sensitivity import SensitivityConfig, method_sweep

    for path in sorted((ROOT / "conf" / "sensitivity").glob("*.yaml")):
        s, _ = load_settings([f"sensitivity={path.stem}", "morris_trajectories=2", "sobol_samples=2"],
                             "sensitivity", SensitivityConfig)
        for method in s.methods:
            assert plan_sweep(method_sweep(s, method)).specs, (path.stem, method)
    for path in sorted((ROOT / "conf" / "discovery").glob("*.yaml")):
        d, _ = load_settings([f"discovery={path.stem}"], "discovery", DiscoveryConfig)
        check(d)
        sweep = load_sweep_config([f"sweep={d.sweep}", *d.sweep_overrides])
        assert {d.baseline, d.alternative} <= set(sweep.scenarios), path.stem


def test_a_config_error_in_a_plan_names_the_key():
    with pytest.raises(ConfigError, match=r"^uncertainty\.p_wrong_door:"):
        plan_sweep(load_sweep_config([*SMOKE, "parameters=[{key:'uncertainty.p_wrong_door',values:[2]}]"]))
