"""Figures for sweeps, sensitivity analysis and scenario discovery (matplotlib's object-oriented API, PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outcomes import OUTCOMES


def _label(outcome: str) -> str:
    return OUTCOMES[outcome].title if outcome in OUTCOMES else outcome


def outcome_against_parameter(table: pd.DataFrame, outcome: str, parameter: str, path: Path, title: str = "") -> None:
    """Mean and 10th-90th percentile band of an outcome against a parameter, one line per scenario
    (``table`` from :func:`experiments.stats.sweeps.bands`)."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for scenario, sub in table.groupby("scenario", sort=False):
        line, = ax.plot(sub["x"], sub["mean"], marker=".", label=scenario)
        ax.fill_between(sub["x"], sub["low"], sub["high"], color=line.get_color(), alpha=0.2)
    ax.set_xlabel(parameter)
    ax.set_ylabel(_label(outcome), fontsize=8)
    ax.set_title(title or f"{outcome} against {parameter} (band: 10th-90th percentile)", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)


def sensitivity_bars(frame: pd.DataFrame, value: str, conf: str, title: str, path: Path) -> None:
    """One panel per outcome; bars per parameter, one colour per scenario, whiskers = confidence interval."""
    outcomes = list(dict.fromkeys(frame["outcome"]))
    scenarios = list(dict.fromkeys(frame["scenario"]))
    fig = Figure(figsize=(4 * len(outcomes), 3.5), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)
    width = 0.8 / max(1, len(scenarios))
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = frame[frame["outcome"] == outcome]
        names = list(dict.fromkeys(sub["parameter"]))
        for j, scenario in enumerate(scenarios):
            part = sub[sub["scenario"] == scenario].set_index("parameter").reindex(names)
            ax.barh(np.arange(len(names)) + j * width, part[value], width, xerr=part[conf], label=scenario,
                    capsize=2)
        ax.set_yticks(np.arange(len(names)) + width * (len(scenarios) - 1) / 2)
        ax.set_yticklabels([n.split(".")[-1] for n in names], fontsize=8)
        ax.set_title(_label(outcome), fontsize=9)
        ax.set_xlabel(value)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=120)


def prim_boxes(frame: pd.DataFrame, boxes: list, path: Path, title: str) -> None:
    """Peeling trajectories (coverage against density) and the first box over the two parameters it restricts
    most, with the cases of interest in red."""
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax0, ax1 = fig.subplots(1, 2)
    for i, box in enumerate(boxes):
        ax0.plot(box.trajectory["coverage"], box.trajectory["density"], ".-", label=f"box {i + 1}")
        ax0.plot([box.coverage], [box.density], "o", mfc="none", ms=10, color="k")
    ax0.set_xlabel("coverage")
    ax0.set_ylabel("density")
    ax0.set_title("Peeling and pasting trajectories (circle: the box reported)", fontsize=9)
    if boxes:
        ax0.legend(fontsize=8)
    params = list(boxes[0].limits.index) if boxes else []
    if len(params) >= 2:
        full = frame[params].agg(["min", "max"]).T
        cut = 1 - (boxes[0].limits["high"] - boxes[0].limits["low"]) / (full["max"] - full["min"])
        px, py = cut.sort_values(ascending=False).index[:2]
        colours = np.where(frame["interest"], "tab:red", "tab:blue")
        ax1.scatter(frame[px], frame[py], c=colours, s=12)
        for i, box in enumerate(boxes):
            lim = box.limits
            ax1.add_patch(Rectangle((lim.loc[px, "low"], lim.loc[py, "low"]), lim.loc[px, "high"] - lim.loc[px, "low"],
                                    lim.loc[py, "high"] - lim.loc[py, "low"], fill=False, lw=1.5,
                                    ls="-" if i == 0 else "--"))
        ax1.set_xlabel(px)
        ax1.set_ylabel(py)
        ax1.set_title("Red: a case of interest; boxes in black", fontsize=9)
    else:
        ax1.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=120)
