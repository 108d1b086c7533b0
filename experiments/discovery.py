"""Scenario discovery: where in the uncertainty space does whole-system working fail to pay off? (PRIM)

    .venv/bin/python -m experiments.discovery discovery=whole_system_fails
    .venv/bin/python -m experiments.discovery discovery=whole_system_fails wellbeing_margin=0.005

A discovery file (conf/discovery/<name>.yaml) names a sweep of uncertainties x {baseline, alternative}
(conf/sweep/<sweep>.yaml; it is run first, resuming, through the sweep machinery). At each design point the
replicate seeds are averaged and the point is a *case of interest* when the alternative fails to beat the
baseline on wellbeing by more than ``wellbeing_margin`` or costs more per wellbeing point. PRIM (Friedman &
Fisher 1999) then finds boxes in the uncertainties where such cases concentrate. Each box is reported with its
coverage (share of all cases of interest inside it), density (share of the points inside it that are cases of
interest) and mass (share of all points inside it).

PRIM engine: the EMA workbench (``pip install -e .[discovery]``) when ``engine: auto`` finds it installed, else
the compact implementation below (same algorithm: peeling only, no pasting). Writes
results/discovery/<name>/: boxes.csv, trajectory.csv, cases.csv, boxes.png.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import store
from .cli import fail, help_requested, relative
from .config import ConfigError
from .sweep import column_name, compose_file, load_sweep_config, plan, run_sweep, split_argv

ENGINES = ("auto", "builtin", "ema_workbench")


@dataclass
class DiscoveryConfig:
    name: str = "???"
    title: str = ""
    sweep: str = "uncertainty_lhs"  # conf/sweep/<sweep>.yaml, run (resuming) before the analysis
    sweep_overrides: list[str] = field(default_factory=list)  # e.g. [executor=dask, workers=2]
    baseline: str = "silo"
    alternative: str = "whole_system"
    wellbeing_margin: float = 0.0  # the alternative must beat the baseline's mean_wellbeing by more than this
    peel_alpha: float = 0.05  # share of the box's points removed by one peel
    mass_min: float = 0.05  # peeling stops before a box holds less than this share of all points
    n_boxes: int = 2  # boxes found in turn, each after removing the points of the previous ones
    engine: str = "auto"  # auto | builtin | ema_workbench


# --- PRIM ---------------------------------------------------------------------------------------------------

@dataclass
class Box:
    limits: pd.DataFrame  # index: parameter; columns: low, high
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame  # one row per peel: coverage, density, mass


def prim_peel(x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, mass_min: float = 0.05,
              total_interest: float | None = None, n_total: int | None = None) -> Box:
    """Friedman & Fisher's (1999) PRIM peeling for a binary outcome.

    Start from the box holding every point. At each step, try removing the ``peel_alpha`` share of the box's
    points with the lowest, or the highest, values of each parameter; keep the peel whose remaining box has
    the highest density (mean of ``y``), provided it still holds at least ``mass_min`` of all points. Stop when
    no peel is allowed. The chosen box is the densest on the peeling trajectory (the earliest, i.e. the one
    with the most coverage, among ties). Coverage and mass are relative to ``total_interest`` and ``n_total``
    (the whole data set when boxes are found in turn on what earlier boxes left).
    """
    values = x.to_numpy(dtype=float)
    y = np.asarray(y, dtype=float)
    n_total = n_total or len(y)
    total_interest = total_interest if total_interest is not None else y.sum()
    low, high = values.min(axis=0), values.max(axis=0)
    inside = np.ones(len(y), dtype=bool)
    steps = [(low.copy(), high.copy(), inside.copy())]
    while True:
        best = None
        box_values = values[inside]
        for j in range(values.shape[1]):
            lo_cut, hi_cut = np.quantile(box_values[:, j], [peel_alpha, 1 - peel_alpha])
            for side, keep in (("low", values[:, j] >= lo_cut), ("high", values[:, j] <= hi_cut)):
                if side == "low" and lo_cut <= low[j]:
                    keep = values[:, j] > low[j]  # ties at the edge: peel the edge value itself
                if side == "high" and hi_cut >= high[j]:
                    keep = values[:, j] < high[j]
                candidate = inside & keep
                count = candidate.sum()
                if count == inside.sum() or count < mass_min * n_total or count == 0:
                    continue
                density = y[candidate].mean()
                if best is None or density > best[0]:
                    best = (density, j, side, candidate)
        if best is None:
            break
        _, j, side, inside = best
        if side == "low":
            low[j] = values[inside, j].min()
        else:
            high[j] = values[inside, j].max()
        steps.append((low.copy(), high.copy(), inside.copy()))
    rows = [{"coverage": y[m].sum() / total_interest if total_interest else np.nan, "density": y[m].mean(),
             "mass": m.sum() / n_total} for _, _, m in steps]
    trajectory = pd.DataFrame(rows)
    chosen = int(np.argmax(trajectory["density"].to_numpy()))  # argmax: the earliest of ties
    lo, hi, _ = steps[chosen]
    limits = pd.DataFrame({"low": lo, "high": hi}, index=x.columns)
    return Box(limits, *trajectory.loc[chosen, ["coverage", "density", "mass"]], trajectory)


def _ema_box(x: pd.DataFrame, y: np.ndarray, peel_alpha: float, mass_min: float, total: float, n: int) -> Box:
    with warnings.catch_warnings():
        # the workbench warns at import that optional parallel back-ends (ipyparallel) are missing
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        found = prim.Prim(x.reset_index(drop=True), np.asarray(y, dtype=bool), peel_alpha=peel_alpha,
                          mass_min=mass_min * n / len(y)).find_box()
    limits = found.box_lim.T.rename(columns={0: "low", 1: "high"})
    inside = np.all((x.to_numpy() >= limits["low"].to_numpy()) & (x.to_numpy() <= limits["high"].to_numpy()),
                    axis=1)
    traj = found.peeling_trajectory[["coverage", "density", "mass"]].copy()
    return Box(limits, float(y[inside].sum() / total), float(y[inside].mean()), float(inside.sum() / n), traj)


def ema_available() -> bool:
    from importlib.util import find_spec

    return find_spec("ema_workbench") is not None


def find_boxes(x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, mass_min: float = 0.05,
               n_boxes: int = 2, engine: str = "builtin") -> list[Box]:
    """Boxes found in turn (covering): each search runs on the points no earlier box holds."""
    y = np.asarray(y, dtype=float)
    total, n = y.sum(), len(y)
    remaining = np.ones(n, dtype=bool)
    boxes = []
    for _ in range(n_boxes):
        if y[remaining].sum() == 0 or remaining.sum() < 2 * max(1, mass_min * n):
            break
        xs, ys = x[remaining], y[remaining]
        if engine == "ema_workbench":
            box = _ema_box(xs, ys, peel_alpha, mass_min, total, n)
        else:
            box = prim_peel(xs, ys, peel_alpha, mass_min, total, n)
        boxes.append(box)
        inside = np.all((x.to_numpy() >= box.limits["low"].to_numpy())
                        & (x.to_numpy() <= box.limits["high"].to_numpy()), axis=1)
        remaining &= ~inside
    return boxes


# --- from a sweep to cases ----------------------------------------------------------------------------------

def cases(table: pd.DataFrame, parameters: list[str], d: DiscoveryConfig) -> pd.DataFrame:
    """One row per design point: the uncertainties, both scenarios' seed-mean outcomes, and `interest`."""
    ok = table[table["status"] == "ok"]
    outcomes = ["mean_wellbeing", "cost_per_wellbeing_point"]
    means = ok.groupby(["point", "scenario"])[[*parameters, *outcomes]].mean()
    base = means.xs(d.baseline, level="scenario")
    alt = means.xs(d.alternative, level="scenario")
    frame = base[parameters].copy()
    for outcome in outcomes:
        frame[f"{outcome}_{d.baseline}"] = base[outcome]
        frame[f"{outcome}_{d.alternative}"] = alt[outcome]
    frame = frame.dropna()
    gain = frame[f"mean_wellbeing_{d.alternative}"] - frame[f"mean_wellbeing_{d.baseline}"]
    dearer = frame[f"cost_per_wellbeing_point_{d.alternative}"] > frame[f"cost_per_wellbeing_point_{d.baseline}"]
    frame["wellbeing_gain"] = gain
    frame["fails_on_wellbeing"] = gain <= d.wellbeing_margin
    frame["costs_more_per_point"] = dearer
    frame["interest"] = frame["fails_on_wellbeing"] | frame["costs_more_per_point"]
    return frame.reset_index()


def plot_boxes(frame: pd.DataFrame, boxes: list[Box], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    for i, box in enumerate(boxes):
        ax0.plot(box.trajectory["coverage"], box.trajectory["density"], ".-", label=f"box {i + 1}")
        ax0.plot([box.coverage], [box.density], "o", mfc="none", ms=10, color="k")
    ax0.set_xlabel("coverage")
    ax0.set_ylabel("density")
    ax0.set_title("Peeling trajectories (circle: chosen box)", fontsize=9)
    if boxes:
        ax0.legend(fontsize=8)
    # the two parameters the first box restricts most (share of their range cut away)
    params = [c for c in boxes[0].limits.index] if boxes else []
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
        ax1.set_title("Red: whole system fails to pay off; boxes in black", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__, ("discovery",)):
        return 0
    from omegaconf import OmegaConf

    try:
        name, own, extra = split_argv(argv, "discovery", DiscoveryConfig)
        if extra:
            raise ConfigError(f"{extra[0].split('=')[0]}: unknown key (sweep settings go in sweep_overrides)")
        d = OmegaConf.to_object(compose_file("discovery", name, own, DiscoveryConfig, "discovery_schema"))
        if d.engine not in ENGINES:
            raise ConfigError(f"engine: {d.engine!r} is not one of {', '.join(ENGINES)}")
        engine = d.engine
        if engine == "auto":
            engine = "ema_workbench" if ema_available() else "builtin"
        elif engine == "ema_workbench" and not ema_available():
            raise ConfigError("engine: ema_workbench is not installed (pip install -e .[discovery])")
        sweep_cfg, sweep = load_sweep_config([f"sweep={d.sweep}", *d.sweep_overrides])
        for scenario in (d.baseline, d.alternative):
            if scenario not in sweep.scenarios:
                raise ConfigError(f"baseline/alternative: {scenario!r} is not among sweep {d.sweep}'s scenarios")
        specs = plan(sweep)
    except ConfigError as exc:
        return fail(exc)
    run_sweep(sweep, specs, sweep_cfg)
    table = pd.read_parquet(store.sweep_dir(sweep.name) / "table.parquet")
    parameters = [column_name(p.key) for p in sweep.parameters]
    frame = cases(table, parameters, d)
    boxes = find_boxes(frame[parameters], frame["interest"].to_numpy(), d.peel_alpha, d.mass_min, d.n_boxes,
                       engine)
    out = store.results_root() / "discovery" / d.name
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "cases.csv", index=False)
    full = frame[parameters].agg(["min", "max"]).T
    rows, traj = [], []
    for i, box in enumerate(boxes, start=1):
        for parameter, lim in box.limits.iterrows():
            restricted = lim["low"] > full.loc[parameter, "min"] or lim["high"] < full.loc[parameter, "max"]
            rows.append({"box": i, "parameter": parameter, "low": lim["low"], "high": lim["high"],
                         "restricted": bool(restricted), "coverage": box.coverage, "density": box.density,
                         "mass": box.mass})
        traj.append(box.trajectory.assign(box=i))
    pd.DataFrame(rows).to_csv(out / "boxes.csv", index=False)
    (pd.concat(traj, ignore_index=True) if traj else pd.DataFrame()).to_csv(out / "trajectory.csv", index=False)
    plot_boxes(frame, boxes, out / "boxes.png", d.title or d.name)
    share = frame["interest"].mean() if len(frame) else float("nan")
    print(f"{int(frame['interest'].sum())} of {len(frame)} points ({share:.0%}) are cases where {d.alternative} "
          f"fails to pay off; PRIM ({engine}) found {len(boxes)} box(es):")
    for i, box in enumerate(boxes, start=1):
        limits = box.limits[[r["restricted"] for r in rows if r["box"] == i]]
        text = "; ".join(f"{p} in [{lim['low']:.3g}, {lim['high']:.3g}]" for p, lim in limits.iterrows()) or "all"
        print(f"  box {i}: coverage {box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}: {text}")
    print(f"Boxes: {relative(out)}/ (boxes.csv, trajectory.csv, cases.csv, boxes.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
