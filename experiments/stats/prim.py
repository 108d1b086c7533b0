"""Scenario discovery: where in the uncertainty space is a case of interest (e.g. whole-system working failing
to pay off)? PRIM (Friedman & Fisher 1999) as the EMA workbench implements it (Kwakkel 2017).

Cases come from a sweep of uncertainties under a baseline and an alternative scenario: one case per design point,
replicate seeds averaged. Boxes are found in turn (covering): each search runs on the points no earlier box
holds. Each box is reported with its coverage (share of all cases of interest inside it), density (share of the
points inside it that are cases of interest) and mass (share of all points inside it), and its peeling and
pasting trajectory, so a reader can choose another trade-off between coverage and density.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Box:
    limits: pd.DataFrame  # index: parameter; columns: low, high
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame  # one row per step of peeling and pasting: coverage, density, mass, res_dim


def _prim_module():
    with warnings.catch_warnings():
        # the workbench warns at import that an optional parallel back-end (ipyparallel) is missing
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        from ema_workbench.analysis import prim
    return prim


def find_boxes(x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, mass_min: float = 0.05,
               n_boxes: int = 2) -> list[Box]:
    """Up to ``n_boxes`` PRIM boxes (EMA workbench defaults: peeling, then pasting, the box it ends on)."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return []
    with warnings.catch_warnings():
        # ema_workbench 3.0 calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates (PDEP-8): theirs to
        # change, and harmless to the boxes
        warnings.filterwarnings("ignore", message="The inplace keyword", module=r"ema_workbench\..*")
        prim = _prim_module().Prim(x.reset_index(drop=True).astype(float), y, peel_alpha=peel_alpha,
                                   mass_min=mass_min)
        boxes = []
        for _ in range(n_boxes):
            found = prim.find_box()
            if found is None:
                break
            limits = found.box_lim.T.rename(columns={0: "low", 1: "high"})[["low", "high"]].astype(float)
            trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
            boxes.append(Box(limits, float(found.coverage), float(found.density), float(found.mass), trajectory))
            if y[_outside_all(x, boxes)].sum() == 0:
                break
    return boxes


def _outside_all(x: pd.DataFrame, boxes: list[Box]) -> np.ndarray:
    values = x.to_numpy(dtype=float)
    outside = np.ones(len(x), dtype=bool)
    for box in boxes:
        inside = np.all((values >= box.limits["low"].to_numpy()) & (values <= box.limits["high"].to_numpy()), axis=1)
        outside &= ~inside
    return outside


def cases(table: pd.DataFrame, parameters: list[str], baseline: str, alternative: str,
          wellbeing_margin: float) -> pd.DataFrame:
    """One row per design point: the uncertainties, both scenarios' seed-mean outcomes, and ``interest``.

    A point is a case of interest when the alternative fails to beat the baseline's mean wellbeing by more than
    ``wellbeing_margin``, or costs more per wellbeing point.
    """
    ok = table[table["status"] == "ok"]
    outcomes = ["mean_wellbeing", "cost_per_wellbeing_point"]
    means = ok.groupby(["point", "scenario"])[[*parameters, *outcomes]].mean()
    base = means.xs(baseline, level="scenario")
    alt = means.xs(alternative, level="scenario")
    frame = base[parameters].copy()
    for outcome in outcomes:
        frame[f"{outcome}_{baseline}"] = base[outcome]
        frame[f"{outcome}_{alternative}"] = alt[outcome]
    frame = frame.dropna()
    gain = frame[f"mean_wellbeing_{alternative}"] - frame[f"mean_wellbeing_{baseline}"]
    dearer = frame[f"cost_per_wellbeing_point_{alternative}"] > frame[f"cost_per_wellbeing_point_{baseline}"]
    frame["wellbeing_gain"] = gain
    frame["fails_on_wellbeing"] = gain <= wellbeing_margin
    frame["costs_more_per_point"] = dearer
    frame["interest"] = frame["fails_on_wellbeing"] | frame["costs_more_per_point"]
    return frame.reset_index()
