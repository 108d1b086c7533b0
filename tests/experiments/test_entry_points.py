"""The entry points run as a user runs them (a subprocess in the project folder), on tiny worlds, into a private
results root: what they write, how a record re-runs, and how they fail (one line, exit 2, nothing written, nothing
left half-written, no worker left running)."""

from __future__ import annotations

import importlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.engine.config import ROOT
from sim.outcomes import OUTCOMES

ENTRY_POINTS = {  # every command, with a small valid argument list
    "experiments.run": ["residents=600", "years=1"],
    "experiments.compare": ["compare.n_seeds=1", "residents=600", "years=1"],
    "experiments.decompose": ["decompose.n_seeds=2", "residents=300", "years=1",
                              "decompose.factors=[no_wrong_door,funding]"],
    "experiments.sweep": ["sweep=smoke"],
    "experiments.sensitivity": ["sensitivity=smoke"],
    "experiments.discovery": ["discovery=smoke"],
    "experiments.analysis": ["sweep=smoke", "outcome=mean_wellbeing", "parameter=need_coupling"],
    "experiments.benchmark": ["residents=[1000]", "years=1"],
    "experiments.dock_march": ["runs=2"],
}


def cli(module: str, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def tree(folder: Path) -> set[str]:
    """Every path under ``folder`` (relative), hidden ones included."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


# --- what a run writes ----------------------------------------------------------------------------------------
def test_run_writes_a_complete_run_folder_under_the_results_root(results):
    done = cli("experiments.run", "scenario=whole_system", "seed=3", "residents=1500", "years=1", "figures=true")
    assert done.returncode == 0, done.stderr
    folders = list((results / "runs").iterdir())
    assert len(folders) == 1
    folder = folders[0]
    assert folder.name.startswith("whole_system-synthetic-seed3-")
    for name in ("config.yaml", "timeseries.parquet", "neighbourhoods.parquet", "summary.json", "overview.png"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    expected = {k for k in OUTCOMES if not k.startswith("behaviour_")} | {"seed", "versions", "overrides"}
    assert expected <= set(summary)
    assert set(summary["system_behaviours"]) == {k.removeprefix("behaviour_") for k in OUTCOMES
                                                 if k.startswith("behaviour_")}
    assert summary["seed"] == 3 and summary["scenario"] == "whole_system"
    assert shlex.split(summary["overrides"]) == ["scenario=whole_system", "seed=3", "residents=1500", "years=1"]
    assert len(pd.read_parquet(folder / "timeseries.parquet")) == 2 * 52  # one burn-in + one evaluated year
    assert tree(results) == {"runs", f"runs/{folder.name}", *(f"runs/{folder.name}/{p}" for p in tree(folder))}


def test_a_run_without_figures_writes_only_data(results):
    done = cli("experiments.run", "residents=600", "years=1")
    assert done.returncode == 0, done.stderr
    (folder,) = (results / "runs").iterdir()
    assert not list(folder.glob("*.png"))
    assert "figures" not in json.loads((folder / "summary.json").read_text())["overrides"]


def test_a_sweep_record_re_runs_exactly_from_its_overrides(results):
    """The README's one-liner: a table row's `overrides` passed to experiments.run reproduce it exactly."""
    assert cli("experiments.sweep", "sweep=smoke", "progress=off").returncode == 0
    table = pd.read_parquet(results / "sweeps" / "smoke" / "table.parquet")
    row = table.iloc[5]
    done = cli("experiments.run", *shlex.split(row["overrides"]))
    assert done.returncode == 0, done.stderr
    (folder,) = (results / "runs").iterdir()
    assert folder.name.endswith(row["run_hash"])
    summary = json.loads((folder / "summary.json").read_text())
    for key in ("mean_wellbeing", "failure_demand_share", "total_cost", "crises_per_1000_per_year"):
        assert summary[key] == row[key], key


# --- how they fail ---------------------------------------------------------------------------------------------
def main_of(module: str):
    return importlib.import_module(module).main


def test_a_user_error_from_the_command_line_is_one_line_exit_2_and_no_traceback(results):
    """As a user sees it, in a real process: exit status 2, one line on stderr, nothing written."""
    done = cli("experiments.run", "residnts=5")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: residnts: unknown key (did you mean 'residents'?)"]
    assert "Traceback" not in done.stdout + done.stderr
    assert not results.exists() or tree(results) == set()


@pytest.mark.parametrize("module", sorted(ENTRY_POINTS))
def test_an_unknown_key_is_one_line_exit_2_and_writes_nothing(results, capsys, module):
    args = [a for a in ENTRY_POINTS[module] if not a.startswith("residents")]
    assert main_of(module)([*args, "residnts=5"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "residnts" in lines[0], lines
    assert not results.exists() or tree(results) == set()


@pytest.mark.parametrize("module", sorted(ENTRY_POINTS))
def test_results_being_a_file_is_one_line_before_any_work(tmp_path, monkeypatch, capsys, module):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PLACESIM_RESULTS", str(blocker))
    started = time.monotonic()
    assert main_of(module)(ENTRY_POINTS[module]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "is a file, not a folder" in lines[0], lines
    assert blocker.read_text() == "not a folder"
    assert time.monotonic() - started < 20  # refused up front, not after the work


@pytest.mark.parametrize(("module", "args", "key"), [
    ("experiments.run", ["scenario.name=/tmp/escape"], "scenario.name"),
    ("experiments.compare", ["compare.name=x/../../../tmp/escape"], "compare.name"),
    ("experiments.sweep", ["sweep=smoke", "name=../../escape"], "name"),
    ("experiments.sweep", ["sweep=smoke", "+foo=1"], "+foo"),
    ("experiments.sweep", ["sweep=smoke", "overrides=['+newkey=1']"], "+newkey"),
    ("experiments.sweep", ["sweep=smoke", "engine.workers=-1"], "engine.workers"),
    ("experiments.sweep", ["sweep=smoke", "engine.submitit.cluster=slurm", "engine.executor=submitit"],
     "engine.submitit.cluster"),
    ("experiments.analysis", ["sweep=../x", "outcome=a", "parameter=b"], "sweep"),
    ("experiments.run", ["--residents=2000"], "--residents"),
    ("experiments.run", ["place="], "place"),
    ("experiments.compare", ["compare.scenarios=[silo,silo]"], "compare.scenarios"),
    ("experiments.compare", ["scenario=whole_system"], "scenario"),
    ("experiments.run", ["residents=10000000000"], "residents"),
    ("experiments.run", ["relations.staff_per_provider=100000000"], "relations.staff_per_provider"),
    ("experiments.run", ["years=1000000000"], "years"),
    ("experiments.run", ["uncertainty.budget_per_resident=inf"], "uncertainty.budget_per_resident"),
    # the flows and persistence of ODD 7.18-7.19 and crisis spells of 7.3
    ("experiments.run", ["uncertainty.leave_rate=1.5"], "uncertainty.leave_rate"),
    ("experiments.run", ["uncertainty.entrenched_share=-0.1"], "uncertainty.entrenched_share"),
    ("experiments.run", ["uncertainty.entrenchment_recovery_rate=nan"], "uncertainty.entrenchment_recovery_rate"),
    ("experiments.run", ["uncertainty.relational_healing_rate=2"], "uncertainty.relational_healing_rate"),
    ("experiments.run", ["relations.chronic_level=1.5"], "relations.chronic_level"),
    ("experiments.run", ["relations.p_chronic_domain=-1"], "relations.p_chronic_domain"),
    ("experiments.run", ["relations.entrenched_domains=[housing,nowhere]"], "relations.entrenched_domains"),
    ("experiments.run", ["relations.spell_domains=[nowhere]"], "relations.spell_domains"),
    ("experiments.run", ["relations.spell_week_cost=-5"], "relations.spell_week_cost"),
    ("experiments.run", ["relations.newcomer_weeks=-1"], "relations.newcomer_weeks"),
    ("experiments.run", ["relations.p_wrong_door_newcomer=inf"], "relations.p_wrong_door_newcomer"),
    ("experiments.run", ["relations.pressure_relationship_cut=7"], "relations.pressure_relationship_cut"),
    ("experiments.run", ["relations.leave_need_gradient=inf"], "relations.leave_need_gradient"),
    ("experiments.run", ["uncertainty.demand_change_per_year=2"], "uncertainty.demand_change_per_year"),
    ("experiments.run", ["uncertainty.demand_change_per_year=-0.9"], "uncertainty.demand_change_per_year"),
    ("experiments.run", ["relations.demand_change_domains=[nowhere]"], "relations.demand_change_domains"),
    ("experiments.benchmark", ["residents=[0]"], "residents[0]"),
    ("experiments.dock_march", ["runs=-3"], "runs"),
    ("experiments.explore", ["port=99999"], "port"),
])
def test_hostile_input_is_one_line_and_writes_nothing(results, tmp_path, capsys, module, args, key):
    outside = tmp_path / "escape"
    assert main_of(module)(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}"), lines
    assert not results.exists() or tree(results) == set()
    assert not outside.exists() and not Path("/tmp/escape").exists()


def test_submitit_without_a_cluster_says_it_runs_locally():
    from experiments.engine.config import EngineSettings
    from experiments.engine.executors import check_engine

    settings = EngineSettings(executor="submitit")
    where = check_engine(settings)
    assert ("locally" in where) == (not any((Path(p) / "sbatch").exists() for p in os.environ["PATH"].split(":")))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporaries_left_by_a_killed_command_are_removed_on_the_next_run(results):
    """A kill -9 half-way leaves dot-named temporaries; the next command in the same folder removes them (only
    those of processes that no longer run)."""
    import socket

    host, dead, alive = socket.gethostname(), _dead_pid(), os.getpid()
    stale = [results / "runs" / f".x.tmp-{host}-{dead}-abc", results / "sweeps" / "smoke" / f".t.tmp-{host}-{dead}-d",
             results / "sweeps" / "smoke" / "runs" / f".r.parquet.tmp-{host}-{dead}-e.part"]
    live = results / "runs" / f".y.tmp-{host}-{alive}-abc"
    for path in [*stale, live]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if not path.name.endswith(".part") else path.write_text("half")
    assert cli("experiments.run", "residents=600", "years=1").returncode == 0
    assert cli("experiments.sweep", "sweep=smoke", "progress=off").returncode == 0
    assert not any(p.exists() for p in stale)
    assert live.exists()  # a process still running keeps its temporary


def test_ctrl_c_is_one_line_and_the_same_command_resumes(results):
    """SIGINT to the process group (as a terminal sends it) mid-sweep: one line, exit 130, no traceback from the
    driver or its workers; finished records are kept."""
    proc = subprocess.Popen([sys.executable, "-m", "experiments.sweep", "sweep=smoke", "n_seeds=6", "progress=off",
                             "engine.workers=2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    runs = results / "sweeps" / "smoke" / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*.parquet"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == ["interrupted: runs that finished are kept; the same command resumes from them"]
    kept = len(list(runs.glob("*.parquet")))
    assert kept >= 2
    done = cli("experiments.sweep", "sweep=smoke", "n_seeds=6", "progress=off")
    assert done.returncode == 0 and f"({kept} finished" in done.stdout, done.stdout


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killing_only_the_comparison_driver_leaves_no_worker_running(results):
    proc = subprocess.Popen([sys.executable, "-m", "experiments.compare", "compare.n_seeds=4", "residents=3000",
                             "years=3", "progress=off", "engine.workers=2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = {p for p in _children_of(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()}
        time.sleep(0.1)
    assert workers, "the comparison started no workers"
    proc.kill()  # SIGKILL the driver only
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_running(p) for p in workers):
        time.sleep(0.2)
    assert not any(_running(p) for p in workers)


@pytest.mark.slow
def test_compare_writes_its_table_report_and_figures_and_resumes(results):
    done = cli("experiments.compare", "compare.n_seeds=2", "residents=800", "years=1", "burn_in_years=1",
               "progress=off")
    assert done.returncode == 0, done.stderr
    (folder,) = (results / "compare").iterdir()
    assert folder.name.startswith("scenario_comparison-")
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == ["scenario", "outcome", "mean", "ci_low", "ci_high", "n_seeds"]
    assert set(summary["scenario"]) == {"silo", "whole_system"}
    table = pd.read_parquet(folder / "table.parquet")
    assert len(table) == 4 and sorted(table["scenario"].value_counts().to_dict().items()) == [("silo", 2),
                                                                                            ("whole_system", 2)]
    seeds = table.groupby("scenario")["seed"].apply(frozenset)
    assert seeds["silo"] == seeds["whole_system"] and len(seeds["silo"]) == 2  # common random numbers
    report = (folder / "report.md").read_text()
    assert "silo" in report and "whole_system" in report and "table.parquet" in report
    assert list(folder.glob("*.png"))
    again = cli("experiments.compare", "compare.n_seeds=2", "residents=800", "years=1", "burn_in_years=1",
                "progress=off")
    assert "(4 finished, 0 to run)" in again.stdout
    assert not [p for p in tree(results) if "/." in f"/{p}" and ".tmp-" in p]
