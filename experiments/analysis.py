"""Read a sweep back: its table as a DataFrame, and an outcome against a parameter with a band per scenario.

    .venv/bin/python -m experiments.analysis sweep=uncertainty_lhs outcome=mean_wellbeing parameter=need_coupling
    .venv/bin/python -m experiments.analysis sweep=smoke outcome=total_cost parameter=need_coupling bins=5

``parameter`` is a varied key's column (its last component, or the full dotted key). Replicate seeds are
averaged per point first; points are then grouped into ``bins`` equal-width bins of the parameter (or by value,
if it has no more distinct values than bins) and each scenario's line is the mean with a band from the 10th to
the 90th percentile. Writes results/sweeps/<name>/<outcome>_vs_<parameter>.png.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from . import store
from .cli import fail, help_requested, relative
from .config import ConfigError


def load_sweep(name: str, only_ok: bool = True) -> pd.DataFrame:
    """The compacted table of sweep ``name`` (one row per run); ``only_ok`` drops failed runs."""
    path = store.sweep_dir(name) / "table.parquet"
    if not path.exists():
        if store.runs_dir(name).exists():
            path = store.compact(name, ["point", "scenario", "replicate"])
        else:
            raise ConfigError(f"sweep: no results for {name!r} under {store.results_root() / 'sweeps'}")
    frame = pd.read_parquet(path)
    return frame[frame["status"] == "ok"].reset_index(drop=True) if only_ok else frame


def bands(frame: pd.DataFrame, outcome: str, parameter: str, bins: int = 10) -> pd.DataFrame:
    """Per scenario and parameter bin: mean, 10th and 90th percentile of the seed-mean outcome."""
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


def plot(frame: pd.DataFrame, outcome: str, parameter: str, path, bins: int = 10, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = bands(frame, outcome, parameter, bins)
    fig, ax = plt.subplots(figsize=(6, 4))
    for scenario, sub in table.groupby("scenario", sort=False):
        line, = ax.plot(sub["x"], sub["mean"], marker=".", label=scenario)
        ax.fill_between(sub["x"], sub["low"], sub["high"], color=line.get_color(), alpha=0.2)
    ax.set_xlabel(parameter)
    ax.set_ylabel(outcome)
    ax.set_title(title or f"{outcome} against {parameter} (band: 10th-90th percentile)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__, ("sweep",)):
        return 0
    try:
        args = {}
        for item in argv:
            if "=" not in item:
                raise ConfigError(f"{item}: expected key=value")
            key, value = item.split("=", 1)
            if key not in ("sweep", "outcome", "parameter", "bins"):
                raise ConfigError(f"{key}: unknown key (use sweep, outcome, parameter, bins)")
            args[key] = value
        for key in ("sweep", "outcome", "parameter"):
            if key not in args:
                raise ConfigError(f"{key}: missing")
        bins = int(args.get("bins", 10))
        frame = load_sweep(args["sweep"])
        parameter = args["parameter"].split(".")[-1]
        for key, column in (("outcome", args["outcome"]), ("parameter", parameter)):
            if column not in frame.columns:
                raise ConfigError(f"{key}: {column!r} is not a column of sweep {args['sweep']}")
    except ValueError as exc:
        return fail(exc)
    path = store.sweep_dir(args["sweep"]) / f"{args['outcome']}_vs_{parameter}.png"
    plot(frame, args["outcome"], parameter, path, bins)
    print(f"Plot: {relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
