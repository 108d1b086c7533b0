"""Scenario discovery: where in the uncertainty space does whole-system working fail to pay off? (PRIM)

    .venv/bin/python -m experiments.discovery discovery=whole_system_fails
    .venv/bin/python -m experiments.discovery discovery=whole_system_fails wellbeing_margin=0.005

A discovery file (conf/discovery/<name>.yaml) names a sweep of uncertainties x {baseline, alternative}
(conf/sweep/<sweep>.yaml; it is run first, resuming, on the engine). At each design point the replicate seeds are
averaged and the point is a *case of interest* when the alternative fails to beat the baseline on wellbeing by
more than ``wellbeing_margin`` or costs more per wellbeing point. PRIM, as the EMA workbench implements it, then
finds boxes in the uncertainties where such cases concentrate, each reported with its coverage (share of all
cases of interest inside it), density (share of the points inside it that are cases of interest) and mass
(share of all points inside it). Writes results/discovery/<name>/: boxes.csv, trajectory.csv, cases.csv,
boxes.png.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine.cli import entry_point, help_requested, relative
from .engine.config import ConfigError


@dataclass
class DiscoveryConfig:
    name: str = "???"
    title: str = ""
    sweep: str = "uncertainty_lhs"  # conf/sweep/<sweep>.yaml, run (resuming) before the analysis
    sweep_overrides: list[str] = field(default_factory=list)  # e.g. [engine.executor=dask, engine.workers=2]
    baseline: str = "silo"
    alternative: str = "whole_system"
    wellbeing_margin: float = 0.0  # the alternative must beat the baseline's mean_wellbeing by more than this
    peel_alpha: float = 0.05  # share of the box's points removed by one peel
    mass_min: float = 0.05  # peeling stops before a box holds less than this share of all points
    n_boxes: int = 2  # boxes found in turn, each after removing the points of the previous ones


def check(d: DiscoveryConfig) -> None:
    import math

    from sim.params import ParamError, check_name

    try:
        check_name("name", d.name)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    if not math.isfinite(d.wellbeing_margin) or abs(d.wellbeing_margin) > 1:
        raise ConfigError(f"wellbeing_margin: must be a finite number in [-1, 1], got {d.wellbeing_margin}")
    if not 0 < d.peel_alpha < 0.5:
        raise ConfigError(f"peel_alpha: must be in (0, 0.5), got {d.peel_alpha}")
    if not 0 < d.mass_min < 1:
        raise ConfigError(f"mass_min: must be in (0, 1), got {d.mass_min}")
    if not 1 <= d.n_boxes <= 20:
        raise ConfigError(f"n_boxes: must be in [1, 20], got {d.n_boxes}")


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ("discovery",)):
        return 0
    import pandas as pd

    from .engine import store
    from .engine.sweeps import column_name, load_settings, load_sweep_config, plan_sweep
    from .reporting.analysis_plots import prim_boxes
    from .stats.prim import cases, find_boxes
    from .sweep import run_named_sweep

    d, extra = load_settings(argv, "discovery", DiscoveryConfig)
    if extra:
        raise ConfigError(f"{extra[0].split('=')[0]}: unknown key (sweep settings go in sweep_overrides)")
    check(d)
    sweep = load_sweep_config([f"sweep={d.sweep}", *d.sweep_overrides])
    for scenario in (d.baseline, d.alternative):
        if scenario not in sweep.scenarios:
            raise ConfigError(f"baseline/alternative: {scenario!r} is not among sweep {d.sweep}'s scenarios")
    plan = plan_sweep(sweep)
    store.check_results_root()
    out = store.output_dir("discovery", d.name)
    _, folder = run_named_sweep(sweep, [f"sweep={d.sweep}", *d.sweep_overrides], plan)
    table = pd.read_parquet(folder / "table.parquet")
    parameters = [column_name(p.key) for p in sweep.parameters]
    frame = cases(table, parameters, d.baseline, d.alternative, d.wellbeing_margin)
    boxes = find_boxes(frame[parameters], frame["interest"].to_numpy(), d.peel_alpha, d.mass_min, d.n_boxes)
    full = frame[parameters].agg(["min", "max"]).T
    rows, trajectories = [], []
    for i, box in enumerate(boxes, start=1):
        for parameter, lim in box.limits.iterrows():
            restricted = lim["low"] > full.loc[parameter, "min"] or lim["high"] < full.loc[parameter, "max"]
            rows.append({"box": i, "parameter": parameter, "low": lim["low"], "high": lim["high"],
                         "restricted": bool(restricted), "coverage": box.coverage, "density": box.density,
                         "mass": box.mass})
        trajectories.append(box.trajectory.assign(box=i))
    columns = ["box", "parameter", "low", "high", "restricted", "coverage", "density", "mass"]
    out.mkdir(parents=True, exist_ok=True)
    store.write_text(out / "cases.csv", frame.to_csv(index=False))
    store.write_text(out / "boxes.csv", pd.DataFrame(rows, columns=columns).to_csv(index=False))
    trajectory = (pd.concat(trajectories, ignore_index=True) if trajectories
                  else pd.DataFrame(columns=["coverage", "density", "mass", "res_dim", "box"]))
    store.write_text(out / "trajectory.csv", trajectory.to_csv(index=False))
    prim_boxes(frame, boxes, out / "boxes.png", d.title or d.name)
    share = frame["interest"].mean() if len(frame) else float("nan")
    print(f"{int(frame['interest'].sum())} of {len(frame)} points ({share:.0%}) are cases where {d.alternative} "
          f"fails to pay off; PRIM (EMA workbench) found {len(boxes)} box(es):")
    for i, box in enumerate(boxes, start=1):
        limits = box.limits[[r["restricted"] for r in rows if r["box"] == i]]
        text = "; ".join(f"{p} in [{lim['low']:.3g}, {lim['high']:.3g}]" for p, lim in limits.iterrows()) or "all"
        print(f"  box {i}: coverage {box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}: {text}")
    print(f"Boxes: {relative(out)}/ (boxes.csv, trajectory.csv, cases.csv, boxes.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
