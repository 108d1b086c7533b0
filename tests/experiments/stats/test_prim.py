"""Scenario discovery (experiments/stats/prim.py, experiments.discovery): the EMA workbench's PRIM finds known
boxes, and the discovery command always reports something checkable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.stats.prim import cases, find_boxes


def test_prim_recovers_a_known_box():
    """Cases of interest exactly where a > 0.6 and b < 0.4 (c irrelevant): the box is found, c is left free."""
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.4)).to_numpy()
    (box,) = find_boxes(x, y, peel_alpha=0.05, mass_min=0.05, n_boxes=1)
    assert box.density > 0.95 and box.coverage > 0.85
    np.testing.assert_allclose(box.limits.loc["a", "low"], 0.6, atol=0.03)
    np.testing.assert_allclose(box.limits.loc["b", "high"], 0.4, atol=0.03)
    assert box.limits.loc["c", "low"] < 0.05 and box.limits.loc["c", "high"] > 0.95  # not restricted
    inside = ((x["a"] >= box.limits.loc["a", "low"]) & (x["a"] <= box.limits.loc["a", "high"])
              & (x["b"] >= box.limits.loc["b", "low"]) & (x["b"] <= box.limits.loc["b", "high"])
              & (x["c"] >= box.limits.loc["c", "low"]) & (x["c"] <= box.limits.loc["c", "high"]))
    assert box.mass == pytest.approx(inside.mean(), abs=1e-12)
    assert box.coverage == pytest.approx(y[inside].sum() / y.sum(), abs=1e-12)
    assert {"coverage", "density", "mass", "res_dim"} <= set(box.trajectory.columns)


def test_prim_finds_two_boxes_in_turn():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.random((3000, 2)), columns=["a", "b"])
    y = ((x["a"] < 0.2) | (x["b"] > 0.85)).to_numpy()
    boxes = find_boxes(x, y, peel_alpha=0.05, mass_min=0.05, n_boxes=2)
    assert len(boxes) == 2
    assert all(b.mass >= 0.05 for b in boxes)
    assert sum(b.coverage for b in boxes) > 0.8
    assert all(b.density > 0.9 for b in boxes)


def test_no_case_of_interest_no_box():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    assert find_boxes(x, np.zeros(50, dtype=bool)) == []


def test_cases_mark_interest_by_wellbeing_margin_or_cost():
    """A point is of interest when the alternative's wellbeing gain is at most the margin or it costs more."""
    table = pd.DataFrame({
        "status": "ok", "point": [0, 0, 1, 1, 2, 2], "scenario": ["silo", "ws"] * 3, "k": [1.0, 1.0, 2.0, 2.0, 3, 3],
        "mean_wellbeing": [0.80, 0.81, 0.80, 0.80, 0.80, 0.85],
        "cost_per_wellbeing_point": [1.0, 0.9, 1.0, 0.9, 1.0, 1.1],
    })
    frame = cases(table, ["k"], "silo", "ws", wellbeing_margin=0.005)
    assert frame["fails_on_wellbeing"].tolist() == [False, True, False]
    assert frame["costs_more_per_point"].tolist() == [False, False, True]
    assert frame["interest"].tolist() == [False, True, True]


def test_discovery_smoke_reports_boxes_consistent_with_its_cases(results):
    """The command on a tiny sweep: cases.csv is consistent, and a box exists exactly when a case of interest
    does. With a margin no alternative can beat (1.0 wellbeing), every point is of interest and the single box
    holds them all - a branch that always checks something."""
    from experiments import discovery

    assert discovery.main(["discovery=smoke"]) == 0
    out = results / "discovery" / "smoke"
    frame = pd.read_csv(out / "cases.csv")
    assert len(frame) == 12
    assert (frame["interest"] == (frame["fails_on_wellbeing"] | frame["costs_more_per_point"])).all()
    boxes = pd.read_csv(out / "boxes.csv")
    assert (len(boxes) > 0) == bool(frame["interest"].any())
    assert (out / "boxes.png").stat().st_size > 0

    assert discovery.main(["discovery=smoke", "wellbeing_margin=1.0"]) == 0
    frame = pd.read_csv(out / "cases.csv")
    assert frame["interest"].all()
    boxes = pd.read_csv(out / "boxes.csv")
    assert set(boxes["box"]) == {1}
    assert boxes["coverage"].iloc[0] == pytest.approx(1.0) and boxes["density"].iloc[0] == pytest.approx(1.0)
    assert not boxes["restricted"].any()
