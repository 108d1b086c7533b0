"""The two entry points, run as a user runs them (a subprocess in the project folder), on tiny worlds.

Each test removes the folder its run created (found from the path the command prints); a folder that already
existed before the test (same configuration run by someone earlier) is left in place.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.config import ROOT

SUMMARY_KEYS = {
    "mean_wellbeing", "wellbeing_gap_deprived", "unmet_need", "multiple_disadvantage_share",
    "crises_per_1000_per_year", "failure_demand_share", "refusal_rate", "mean_wait_weeks",
    "lost_referral_share", "total_cost", "prevention_share_of_spend", "cost_per_wellbeing_point",
    "mean_resident_trust",
    "collaboration_density", "mean_tie_strength", "community_orgs_open", "seed", "versions",
}


def _run_cli(module: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", module, *args, "progress=off"], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def _printed_path(stdout: str, label: str) -> Path:
    match = re.search(rf"^.*{label}:? (\S+?)/?$", stdout, flags=re.MULTILINE)
    assert match, stdout
    path = Path(match.group(1))
    return path if path.is_absolute() else ROOT / path


@pytest.fixture
def cleanup():
    """Register folders to remove after the test, unless they existed before it started."""
    owned: list[Path] = []
    existed: set[Path] = set()

    def register(folder: Path, before: set[Path]) -> None:
        if folder in before:
            existed.add(folder)
        owned.append(folder)

    yield register
    for folder in owned:
        if folder not in existed:
            shutil.rmtree(folder, ignore_errors=True)


def _children(folder: Path) -> set[Path]:
    return set(folder.iterdir()) if folder.is_dir() else set()


def test_run_writes_a_complete_run_folder(cleanup):
    before = _children(ROOT / "results" / "runs")
    done = _run_cli("experiments.run", "scenario=whole_system", "seed=3", "residents=1500", "years=1")
    folder = _printed_path(done.stdout, "Results")
    cleanup(folder, before)
    assert folder.parent == ROOT / "results" / "runs"
    assert folder.name.startswith("whole_system-synthetic-seed3-")
    for name in ("config.yaml", "timeseries.parquet", "neighbourhoods.parquet", "summary.json"):
        assert (folder / name).is_file(), name
    assert list(folder.glob("*.png"))
    summary = json.loads((folder / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["seed"] == 3 and summary["scenario"] == "whole_system"
    assert 0.0 < summary["mean_wellbeing"] <= 1.0
    weekly = pd.read_parquet(folder / "timeseries.parquet")
    assert len(weekly) == 2 * 52  # one burn-in year + one evaluated year
    assert "residents: 1500" in (folder / "config.yaml").read_text()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]  # no temp left


@pytest.mark.slow
def test_compare_writes_summary_runs_report_and_figures(cleanup):
    before = _children(ROOT / "results" / "compare")
    done = _run_cli("experiments.compare", "compare.n_seeds=2", "residents=800", "years=1", "burn_in_years=1")
    folder = _printed_path(done.stdout, "Report").parent
    cleanup(folder, before)
    assert folder.parent == ROOT / "results" / "compare"
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == ["scenario", "outcome", "mean", "ci_low", "ci_high", "n_seeds"]
    assert set(summary["scenario"]) == {"silo", "whole_system"}
    runs = pd.read_parquet(folder / "runs.parquet")
    assert len(runs) == 4 and sorted(runs["scenario"].value_counts().to_dict().items()) == [("silo", 2),
                                                                                          ("whole_system", 2)]
    seeds = runs.groupby("scenario")["seed"].apply(frozenset)
    assert seeds["silo"] == seeds["whole_system"] and len(seeds["silo"]) == 2  # common random numbers
    report = (folder / "report.md").read_text()
    assert "silo" in report and "whole_system" in report
    assert list(folder.glob("*.png"))
