"""Reading a sweep back: its table, and an outcome against a parameter summarised per scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd


def bands(frame: pd.DataFrame, outcome: str, parameter: str, bins: int = 10) -> pd.DataFrame:
    """Per scenario and parameter bin: mean, 10th and 90th percentile of the seed-mean outcome, and the count.

    Replicate seeds are averaged per point first; points are then grouped into ``bins`` equal-width bins of the
    parameter (or by value, if it has no more distinct values than bins).
    """
    points = frame.groupby(["scenario", "point"])[[parameter, outcome]].mean().reset_index()
    distinct = np.sort(points[parameter].unique())
    if len(distinct) <= bins:
        points["x"] = points[parameter]
    else:
        edges = np.linspace(distinct[0], distinct[-1], bins + 1)
        index = np.clip(np.digitize(points[parameter], edges) - 1, 0, bins - 1)
        points["x"] = (edges[index] + edges[index + 1]) / 2
    grouped = points.groupby(["scenario", "x"])[outcome]
    return pd.DataFrame({"mean": grouped.mean(), "low": grouped.quantile(0.1), "high": grouped.quantile(0.9),
                         "n": grouped.size()}).reset_index()
