"""experiments.decompose end to end on a tiny world with three factors, and its refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments import decompose

TINY = ["residents=300", "years=1", "decompose.n_seeds=2", "progress=off", "engine.workers=1",
        "decompose.factors=[no_wrong_door,triage_by_need,funding]"]


def test_a_small_decomposition_writes_effects_design_waterfalls_and_report(results, capsys):
    assert decompose.main(TINY) == 0
    (folder,) = (results / "decomposition").iterdir()
    effects = pd.read_csv(folder / "effects.csv")
    assert list(effects.columns) == ["term", "outcome", "effect", "ci_low", "ci_high"]
    terms = set(effects["term"])
    assert {"no_wrong_door", "triage_by_need", "funding", "no_wrong_door:funding"} <= terms
    assert len(terms) == 1 + 3 + 3
    design = pd.read_csv(folder / "design.csv")
    assert len(design) == 8 and set(design.columns) == {"point", "no_wrong_door", "triage_by_need", "funding"}
    table = pd.read_parquet(folder / "table.parquet")
    assert len(table) == 8 * 2 + 2 and (table["status"] == "ok").all()
    funding_off = table[(table["point"] >= 0) & (design.set_index("point").loc[table["point"].clip(0), "funding"]
                                                 .to_numpy() == 0)]
    assert funding_off["overrides"].str.contains("scenario.reform.funding=null").all()
    report = (folder / "report.md").read_text()
    assert "share from interactions" in report and "waterfall_mean_wellbeing.png" in report
    assert (folder / "waterfall_mean_wellbeing.png").stat().st_size > 0
    assert "a design point here" in report and "is not a check here" in report  # 2^3: the full factorial
    assert decompose.main(TINY) == 0  # again: every run reused
    assert "(18 finished, 0 to run)" in capsys.readouterr().out
    assert decompose.main([*TINY, "decompose.outcomes=[mean_wellbeing]"]) == 0  # the same runs, one outcome
    assert [p.name for p in folder.glob("waterfall_*.png")] == ["waterfall_mean_wellbeing.png"]


@pytest.mark.parametrize(("argv", "key"), [
    (["decompose.factors=[nope,funding]"], "decompose.factors"),
    (["decompose.factors=[funding]"], "decompose.factors"),
    (["decompose.factors=[funding,funding]"], "decompose.factors"),
    (["decompose.scenario=silo", "decompose.factors=[funding,no_wrong_door]"], "decompose.factors"),
    (["decompose.outcomes=[happiness]"], "decompose.outcomes"),
    (["decompose.scenario=nowhere"], "decompose.scenario"),
    (["scenario=silo"], "scenario"),
    (["decompose.n_seeds=0"], "decompose.n_seeds"),
    (["decompose.name=../x"], "decompose.name"),
    (["decompose.outcomes=[mean_wellbeing,mean_wellbeing]"], "decompose.outcomes"),
    (["decompose.scenario=silo", "decompose.factors=[no_wrong_door,triage_by_need]"], "decompose.scenario"),
    (["decompose.factors=[no_wrong_door,funding]", "decompose.n_seeds=1"], "decompose.n_seeds"),
    (["practice.usual.waiting_order=need"], "decompose.factors"),
    (["seed=3"], "seed"),
])
def test_bad_settings_are_one_line_before_any_run(results, capsys, argv, key):
    assert decompose.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {key}:"), err
    assert not results.exists()
