"""The comparison report (experiments/reporting/report.py): what it says is what was simulated."""

from __future__ import annotations

import re

import pandas as pd

from experiments.engine.plan import plan_runs
from experiments.reporting.report import lever_rows


def test_lever_rows_are_the_levers_as_simulated():
    """A user's override of a route lever reaches the lever table (it used to be rebuilt from the files)."""
    plan = plan_runs(["residents=600", "years=1", "scenario.shared_vision=0.3"], ["silo", "whole_place"], [{}], [1])
    params = {spec.labels["scenario"]: spec.params for spec in plan.specs}
    rows = lever_rows(params)
    assert rows["silo"]["shared_vision"] == 0.3 and rows["whole_place"]["shared_vision"] == 0.3
    assert rows["whole_place"]["reform.staff_development"] == 1 and rows["silo"]["reform.funding"] is None


def test_a_small_comparison_reports_its_overrides_levers_and_how_to_reproduce_it(results, capsys):
    from experiments import compare

    argv = ["compare.n_seeds=2", "residents=600", "years=1", "scenario.shared_vision=0.3", "progress=off",
            "engine.workers=1"]
    assert compare.main(argv) == 0
    (folder,) = (results / "compare").iterdir()
    report = (folder / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| shared_vision"))
    assert re.sub(r"\s", "", row) == "|shared_vision|0.3|0.3|"
    assert f".venv/bin/python -m experiments.compare {' '.join(argv)}" in report
    one_liner = next(line for line in report.splitlines() if "xargs" in line)
    assert f"pd.read_parquet('{folder / 'table.parquet'}').overrides[0]" in one_liner
    table = pd.read_parquet(folder / "table.parquet")
    assert table["overrides"].str.contains("scenario.shared_vision=0.3").all()
    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["outcome"]) <= set(table.columns)
    for name in ("indicators_over_time.png", "outcomes.png", "routes.png", "system_behaviours.png"):
        assert (folder / name).stat().st_size > 0, name
    assert compare.main(argv) == 0  # the same command again reuses every run
    assert "(4 finished, 0 to run)" in capsys.readouterr().out
