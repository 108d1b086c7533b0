"""experiments.calibrate end to end on the smoke calibration, the worlds it keeps, and its refusals; the robust
comparison (experiments.compare ensemble=...) on the shipped smoke ensemble."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import calibrate, compare
from experiments.engine.config import load_config, model_params
from experiments.engine.runner import simulate
from experiments.robust import parse_worlds

SMOKE = ["calibration=smoke", "progress=off"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke calibration, run once for this module in its own results root."""
    root = tmp_path_factory.mktemp("calibration-results")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLACESIM_RESULTS", str(root))
        assert calibrate.main(SMOKE) == 0
    return root / "calibration" / "smoke"


def test_smoke_calibration_writes_its_ensemble_waves_and_report(smoke):
    ensemble = pd.read_parquet(smoke / "ensemble.parquet")
    assert 1 <= len(ensemble) <= 8 and ensemble["inside_all"].all()
    for key in ("uncertainty.p_wrong_door", "uncertainty.shock_rate", "relations.seek_rate",
                "relations.emergency_cost"):
        assert key in ensemble.columns
    waves = pd.read_parquet(smoke / "waves.parquet")
    assert set(waves["wave"]) <= {1, 2} and len(waves) >= 16
    space = pd.read_csv(smoke / "space.csv")
    assert {"wave", "ruled_out_share", "emulator_share_of_variance"} <= set(space.columns)
    diagnostics = pd.read_csv(smoke / "diagnostics.csv")
    assert set(diagnostics["pattern"]) == {"failure_demand", "resident_trust", "prevention_crowded_out"}
    assert {"r2", "coverage", "seed_sd", "inflation", "used", "misclassified"} <= set(diagnostics.columns)
    constraints = pd.read_csv(smoke / "constraints.csv")
    assert "all patterns" in set(constraints["pattern"])
    drivers = pd.read_csv(smoke / "drivers.csv")
    assert set(drivers["outcome"]) == {"mean_wellbeing", "crises_per_1000_per_year"}
    assert {"S1", "S1_conf", "ST", "ST_conf", "flag"} <= set(drivers.columns)
    assert "hard_edges" in ensemble.columns and "hard_edges:inside" in ensemble.columns  # a check: reported ...
    candidates = pd.read_parquet(smoke / "candidates.parquet")
    required = ["failure_demand", "resident_trust", "prevention_crowded_out"]
    assert (candidates["inside_all"] == candidates[[f"{p}:inside" for p in required]].all(axis=1)).all()  # ... only
    assert len(candidates) == 12  # two batches: the first cannot hold the 8 worlds wanted
    seeds = candidates["seeds"].map(len)
    assert set(seeds) <= {1, 2} and not candidates.loc[seeds == 1, "inside_all"].any()  # screened: one seed, no fit
    report = (smoke / "report.md").read_text()
    assert "plausible worlds kept" in report and "Which pattern constrains which parameter" in report
    assert "| hard_edges | check |" in report and "Which patterns can be met together" in report
    assert set(pd.read_csv(smoke / "patterns_joint.csv")["pattern"]) == {*required, "hard_edges"}
    assert (smoke / "pairs.png").stat().st_size > 0


def test_every_kept_world_resimulated_lies_inside_every_band(smoke):
    _, config = load_config(["calibration=smoke"])
    ensemble = pd.read_parquet(smoke / "ensemble.parquet")
    for world in ensemble.itertuples():
        assert world.overrides[-1] == f"seed={world.seed}" and world.seeds[0] == world.seed
        for pattern in (p for p in config.calibration.patterns if p.required):
            values = []
            for seed in world.seeds:  # a world's outcome: the mean over its acceptance seeds
                overrides = [*world.overrides[:-1], f"seed={seed}", f"scenario={pattern.scenario}",
                             f"uncertainty={pattern.uncertainty}"]
                _, run_config = load_config(overrides)
                values.append(simulate(model_params(run_config), resident_agents=False).summary[pattern.outcome])
            value = sum(values) / len(values)
            assert pattern.low <= value <= pattern.high, (world.world, pattern.name, value)
            assert value == pytest.approx(getattr(world, pattern.name), rel=1e-12)  # the same runs, reproduced


def test_robust_comparison_on_a_tiny_ensemble(results):
    argv = ["ensemble=smoke", "ensemble.seeds_per_world=2", "years=2", "residents=300", "progress=off",
            "engine.workers=1"]
    assert compare.main(argv) == 0
    (folder,) = (results / "compare").iterdir()
    differences = pd.read_csv(folder / "differences.csv")
    for column in ("worlds", "seeds_per_world", "worlds_better", "worlds_worse", "worlds_unresolved",
                   "share_worlds_better", "share_low", "share_high", "share_worlds_worse", "share_worse_low",
                   "share_worse_high", "worst_world", "worst_world_difference", "worst_world_verdict", "low", "high"):
        assert column in differences.columns
    crises = differences.set_index("outcome").loc["crises_per_1000_per_year"]
    table = pd.read_parquet(folder / "table.parquet")
    n_worlds = table["point"].nunique()
    assert crises["worlds"] == n_worlds == 6 and crises["seeds_per_world"] == 2
    # paired: the same two seeds in every world and both scenarios
    assert table.groupby(["point", "replicate"])["seed"].nunique().eq(1).all()
    assert table.groupby("point")["seed"].nunique().eq(2).all()
    per_seed = table.pivot_table(index=["point", "replicate"], columns="scenario", values="crises_per_1000_per_year")
    paired = (per_seed["whole_system"] - per_seed["silo"]).groupby("point")
    diff, half = paired.mean(), stats.t.ppf(0.975, 1) * paired.std(ddof=1) / np.sqrt(2)
    better, worse = int((diff + half < 0).sum()), int((diff - half > 0).sum())
    assert (crises["worlds_better"], crises["worlds_worse"], crises["worlds_unresolved"]) == \
        (better, worse, n_worlds - better - worse)
    assert crises["share_worlds_better"] == pytest.approx(better / n_worlds)
    assert crises["worst_world_difference"] == pytest.approx(diff.max())
    by_world = pd.read_csv(folder / "differences_by_world.csv")
    mine = by_world[by_world["outcome"] == "crises_per_1000_per_year"].set_index("world").sort_index()
    assert len(by_world) == n_worlds * differences["outcome"].nunique()
    assert np.allclose(mine["ci_low"], diff - half) and np.allclose(mine["ci_high"], diff + half)
    assert set(by_world["verdict"]) <= {"better", "worse", "not resolved"}
    assert (by_world["verdict"] == "better").any()  # refusals: whole-system working refuses no one
    summary = pd.read_csv(folder / "summary.csv")
    assert {"mean", "low", "high", "worlds"} <= set(summary.columns)
    report = (folder / "report.md").read_text()
    assert report.index("How many worlds are resolved") < report.index("## The answer") < \
        report.index("## All reported outcomes")
    assert f"clearly worse in {worse}, not resolved in {n_worlds - better - worse}" in report
    assert "plausible worlds" in report and "When it pays back" in report and "per year" in report
    assert "![journeys](journeys.png)" in report and (folder / "journeys.png").stat().st_size > 0
    html = (folder / "report.html").read_text()
    assert "data:image/png;base64," in html and not re.search(r"(src|href)=\"https?://", html)


def test_robust_comparison_with_one_seed_per_world_resolves_no_world(results):
    argv = ["ensemble=smoke", "years=1", "residents=300", "progress=off", "engine.workers=1"]
    assert compare.main(argv) == 0
    (folder,) = (results / "compare").iterdir()
    differences = pd.read_csv(folder / "differences.csv")
    assert (differences["worlds_unresolved"] == differences["worlds"]).all()
    defined = differences[differences["worlds"] > 0]  # an outcome defined in no world (nobody waited) has no share
    assert (defined["share_worlds_better"] == 0).all() and (defined["share_worlds_worse"] == 0).all()
    assert pd.read_csv(folder / "differences_by_world.csv")["ci_low"].isna().all()
    report = (folder / "report.md").read_text()
    assert "How many worlds are resolved: none." in report and "(one seed each)" in report


@pytest.mark.parametrize(("argv", "key"), [
    (["calibration=smoke", "calibration.patterns=[{name: a, outcome: happiness, low: 0, high: 1}]"],
     "calibration.patterns[0].outcome"),
    (["calibration=smoke", "calibration.patterns=[{name: a, outcome: mean_wellbeing, low: 1, high: 0}]"],
     "calibration.patterns[0]"),
    (["calibration=smoke", "calibration.patterns=[{name: a, outcome: mean_wellbeing, low: 0, high: 1, "
      "uncertainty: nowhere}]"], "calibration.patterns[0].uncertainty"),
    (["calibration=smoke", "calibration.parameters=[uncertainty.nope]"], "uncertainty.nope"),
    (["calibration=smoke", "calibration.parameters=[uncertainty.budget_change_per_year]"],
     "calibration.parameters"),
    (["calibration=smoke", "uncertainty.shock_rate=0.01"], "uncertainty.shock_rate"),
    (["calibration=smoke", "calibration.name=../x"], "calibration.name"),
    (["calibration=nowhere"], "calibration"),
    (["calibration=smoke", "calibration.wave_size=3"], "calibration.wave_size"),
    (["calibration=smoke", "calibration.validation_folds=1"], "calibration.validation_folds"),
    (["calibration=smoke", "calibration.candidate_ranking=best"], "calibration.candidate_ranking"),
    (["calibration=smoke", "calibration.acceptance_batch=0"], "calibration.acceptance_batch"),
    (["calibration=smoke", "calibration.acceptance_screen=-1"], "calibration.acceptance_screen"),
    (["calibration=smoke", "calibration.acceptance_screen=nan"], "calibration.acceptance_screen"),
    (["calibration=smoke", "calibration.patterns=[{name: a, outcome: mean_wellbeing, low: 0, high: 1, "
      "discrepancy: nan}]"], "calibration.patterns[0].discrepancy"),
])
def test_bad_calibration_settings_are_one_line_before_any_run(results, capsys, argv, key):
    assert calibrate.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {key}:"), err
    assert not results.exists()


@pytest.mark.parametrize(("argv", "key"), [
    (["ensemble=smoke", "uncertainty.shock_rate=0.01"], "uncertainty.shock_rate"),
    (["ensemble=smoke", "place=gateshead"], "place"),
    (["ensemble=smoke", "ensemble.worlds=[{id: 0, overrides: ['uncertainty.shock_rate=fast']}]"],
     "ensemble.worlds[0].overrides"),
    (["ensemble=smoke", "ensemble.worlds=[{id: 0, overrides: ['seed=3']}]"], "ensemble.worlds[0].overrides"),
    (["ensemble=nowhere"], "ensemble"),
])
def test_bad_ensemble_comparisons_are_one_line_before_any_run(results, capsys, argv, key):
    assert compare.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {key}:"), err
    assert not results.exists()
def test_the_shipped_default_ensemble_is_valid_configuration():
    _, config = load_config(["ensemble=default"])
    worlds = parse_worlds(config.ensemble)
    assert len(worlds) >= 10
    assert config.ensemble.fixed and all("=" in item for item in config.ensemble.fixed)
    values = pd.DataFrame(worlds)
    assert (values.nunique() > 1).all()  # worlds differ in every calibrated uncertainty
    assert np.isfinite(values.to_numpy(dtype=float)).all()

