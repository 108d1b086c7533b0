"""The student tutorial (docs/tutorial.py) runs from top to bottom and draws its figure."""

from __future__ import annotations

import runpy
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_tutorial_runs_and_writes_its_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PLACESIM_TUTORIAL_OUT", str(tmp_path))
    runpy.run_path(str(DOCS / "tutorial.py"), run_name="__main__")
    figure = tmp_path / "scenarios.png"
    assert figure.is_file() and figure.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "failure_demand_share" in printed and "whole_system" in printed
