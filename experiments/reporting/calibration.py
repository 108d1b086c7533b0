"""The calibration's tables, figures and report.md (experiments.calibrate)."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outcomes import OUTCOMES

from ..stats.history_matching import constraints, joint_patterns


def wave_tables(match, values_of) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every run of every wave (``values_of(unit_row)``: the model values it ran with); the space per wave; each
    emulator's check on held-out runs."""
    runs, space, checks = [], [], []
    previous = 1.0
    for record in match.records:
        frame = pd.DataFrame([values_of(row) for row in record.design])
        frame.insert(0, "wave", record.number)
        runs.append(pd.concat([frame, record.outputs.reset_index(drop=True)], axis=1))
        space.append({"wave": record.number, "runs": len(record.design), "non_implausible_share": record.nroy_share,
                      "ruled_out_share": 1.0 - record.nroy_share,
                      "ruled_out_of_what_was_left": 1.0 - record.nroy_share / previous if previous else np.nan,
                      "emulator_share_of_variance": record.emulator_share})
        previous = record.nroy_share
        for target, d in record.diagnostics.items():
            checks.append({"wave": record.number, "pattern": target, **d,
                           "seed_sd": float(np.sqrt(record.seed_var[target]))})
    return pd.concat(runs, ignore_index=True), pd.DataFrame(space), pd.DataFrame(checks)


def pairs_figure(path: Path, match, accepted: pd.DataFrame | None, ranked: list[str]) -> None:
    """Pairs of the most constrained parameters: the non-implausible space (grey) and the worlds kept (dark)."""
    names = ranked[:6]
    k = len(names)
    idx = [match.space.names.index(n) for n in names]
    nroy = match.space.from_unit(match.nroy)[:, idx] if len(match.nroy) else np.empty((0, k))
    fig = Figure(figsize=(2.1 * k + 1, 2.1 * k + 1), layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    for r in range(k):
        for c in range(k):
            ax = axes[r][c]
            lo_c, hi_c = match.space.low[idx[c]], match.space.high[idx[c]]
            if r == c:
                ax.hist(nroy[:, c], bins=20, range=(lo_c, hi_c), color="0.7")
                if accepted is not None and len(accepted):
                    ax2 = ax.twinx()
                    ax2.hist(accepted[names[c]], bins=20, range=(lo_c, hi_c), color="#2b6cb0", alpha=0.7)
                    ax2.set_yticks([])
                ax.set_yticks([])
            else:
                ax.scatter(nroy[:, c], nroy[:, r], s=2, color="0.75", rasterized=True)
                if accepted is not None and len(accepted):
                    ax.scatter(accepted[names[c]], accepted[names[r]], s=10, color="#2b6cb0")
                ax.set_ylim(match.space.low[idx[r]], match.space.high[idx[r]])
            ax.set_xlim(lo_c, hi_c)
            if r == k - 1:
                ax.set_xlabel(names[c].split(".")[-1], fontsize=8)
            else:
                ax.set_xticklabels([])
            if c == 0 and r != c:
                ax.set_ylabel(names[r].split(".")[-1], fontsize=8)
            elif r != c:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7)
    fig.suptitle("Plausible space (grey: not ruled out by the emulators; blue: worlds kept), over each "
                 "parameter's full range", fontsize=9)
    fig.savefig(path, dpi=110)


def drivers_figure(path: Path, indices: pd.DataFrame) -> None:
    outcomes = list(dict.fromkeys(indices["outcome"]))
    fig = Figure(figsize=(4.2 * len(outcomes), 4.6), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        t = indices[indices["outcome"] == outcome].sort_values("ST", ascending=True).tail(8)
        y = np.arange(len(t))
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], color="#2b6cb0", label="total (ST)")
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], color="#90cdf4", label="first order (S1)")
        ax.set_yticks(y, [p.split(".")[-1] for p in t["parameter"]], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the difference's variance")
        ax.set_title(OUTCOMES[outcome].label if outcome in OUTCOMES else outcome, fontsize=9, wrap=True)
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle("What drives the difference between the scenarios across the plausible space (Sobol, on "
                 "emulators)", fontsize=10)
    fig.savefig(path, dpi=110)


def _table(frame: pd.DataFrame, columns: list[str], fmt: dict[str, str] | None = None) -> list[str]:
    fmt = fmt or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        cells = []
        for col, value in zip(columns, row, strict=True):
            if isinstance(value, float):
                cells.append("n/a" if not np.isfinite(value) else format(value, fmt.get(col, ".3g")))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(folder: Path, settings, argv, fixed, match, candidates, accepted, drivers, wall: float,
                 where: str, values_of, simulated: pd.DataFrame) -> None:
    folder = Path(folder)
    runs, space, checks = wave_tables(match, values_of)
    runs.to_parquet(folder / "waves.parquet", index=False)
    space.to_csv(folder / "space.csv", index=False)
    checks.to_csv(folder / "diagnostics.csv", index=False)
    constrained = constraints(match, seed=settings.base_seed % 2**32)
    constrained.to_csv(folder / "constraints.csv", index=False)
    overall = constrained[constrained["pattern"] == "all patterns"].iloc[0]
    ranked = sorted(match.space.names, key=lambda n: -np.nan_to_num(overall[n], nan=-1))
    if candidates is not None:
        candidates.to_parquet(folder / "candidates.parquet", index=False)
    if accepted is not None:
        accepted.to_parquet(folder / "ensemble.parquet", index=False)
    pairs_figure(folder / "pairs.png", match, accepted, ranked)
    if drivers is not None and not drivers["indices"].empty:
        drivers["indices"].to_csv(folder / "drivers.csv", index=False)
        drivers["emulators"].to_csv(folder / "drivers_emulators.csv", index=False)
        drivers_figure(folder / "drivers.png", drivers["indices"])

    command = shlex.join([".venv/bin/python", "-m", "experiments.calibrate", *argv])
    n_fit = int(candidates["inside_all"].sum()) if candidates is not None else 0
    lines = [f"# {settings.title}", "",
             f"History matching of {len(match.space.names)} uncertainties to {len(match.targets)} observed patterns "
             f"({', '.join(fixed) or 'the default place'}), in {len(match.records)} waves; {wall:.0f} s. "
             f"Re-run (resumes, reuses finished runs): `{command}`", ""]
    if accepted is not None and len(accepted):
        seeds = candidates["seeds"].map(len)
        screened = (f"; {int((seeds < seeds.max()).sum())} of them stopped after one seed, out of reach of a band"
                    if (seeds < seeds.max()).any() else "")
        lines += [f"**{len(accepted)} plausible worlds kept** ({n_fit} of {len(candidates)} simulated points of the "
                  f"non-implausible space land in every band on the mean of their seeds{screened}). The "
                  f"non-implausible space is "
                  f"{match.records[-1].nroy_share:.2%} of the box of plausible ranges: "
                  f"{1 - match.records[-1].nroy_share:.1%} is ruled out.", ""]
    else:
        lines += ["**No plausible world**: " + (match.stopped_because if not len(match.nroy) else
                  f"none of the {len(candidates)} simulated non-implausible points lands in every band") + ".", ""]
    lines += ["## Patterns", "",
              "Required patterns rule points out and every kept world meets them; checks are simulated and reported "
              "for every world but rule nothing out (why each is a check is in the calibration file).", "",
              "| pattern | role | outcome | observed under | band | source | kept worlds: range | kept worlds in "
              "band | simulated points in band |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in settings.patterns:
        info = OUTCOMES[p.outcome]
        span = kept = share = "n/a"
        if accepted is not None and len(accepted):
            span = f"{info.format(accepted[p.name].min())} to {info.format(accepted[p.name].max())}"
            kept = f"{int(accepted[f'{p.name}:inside'].sum())} of {len(accepted)}"
        if p.name in simulated.columns and simulated[p.name].notna().any():
            values = simulated[p.name].dropna()
            share = f"{values.between(p.low, p.high).mean():.0%} of {len(values)}"
        lines.append(f"| {p.name} | {'required' if p.required else 'check'} | `{p.outcome}` | {p.scenario}, "
                     f"uncertainty={p.uncertainty} | [{p.low:g}, {p.high:g}] | {p.source} | {span} | {kept} | "
                     f"{share} |")
    lines += ["", "## Waves", "", f"Stopped: {match.stopped_because}.", ""]
    worst = checks.groupby("wave")["r2"].min().rename("worst_heldout_r2")
    lines += _table(space.join(worst, on="wave"), ["wave", "runs", "ruled_out_share", "ruled_out_of_what_was_left",
                                                   "emulator_share_of_variance", "worst_heldout_r2"],
                    {"ruled_out_share": ".1%", "ruled_out_of_what_was_left": ".1%",
                     "emulator_share_of_variance": ".2f", "worst_heldout_r2": ".2f"})
    lines += ["", "Emulators (last wave; validated on held-out runs, each fold's emulator refitted without them: r2 "
              "is the share of the runs' variation an emulator predicts, coverage the share within three standard "
              "deviations, ~0.99 if honest; inflation the factor its variance needed to pass, 1 if none; used "
              "false: dropped, it ruled nothing out that wave; seed sd is the spread between seeds at one point, "
              "pooled):", ""]
    last = checks[checks["wave"] == checks["wave"].max()]
    lines += _table(last, ["pattern", "n", "r2", "rmse", "coverage", "inflation", "used", "seed_sd"],
                    {"r2": ".2f", "coverage": ".2f", "inflation": ".2f"})
    if len(simulated):
        from ..stats.history_matching import Target

        targets = [Target(p.name, p.name, p.low, p.high) for p in settings.patterns]
        joint, notes = joint_patterns(simulated, targets)
        joint.rename_axis("pattern").reset_index().to_csv(folder / "patterns_joint.csv", index=False)
        lines += ["", "## Which patterns can be met together (the simulations)", "",
                  f"Over all {len(simulated)} simulated points (every wave and the acceptance runs; "
                  "patterns_joint.csv has the share of points meeting each pair):", ""]
        lines += [f"- {n}" for n in notes]
    if match.conflicts:
        lines += ["", "## Patterns in conflict", "", "No point of the space meets every pattern by the emulators. "
                  "Each pattern, where all the others are met:", ""] + [f"- {c}" for c in match.conflicts]
        lines += ["", "Bands are not widened to make them fit: a pattern in conflict says the model, or the "
                  "mapping of the figure onto an outcome, is wrong there."]
    lines += ["", "## Which pattern constrains which parameter", "",
              "Share of the space each pattern rules out on its own, and the parameters it narrows most (narrowing = "
              "1 - interquartile range left / a uniform's; constraints.csv has every pair):", ""]
    for _, row in constrained.iterrows():
        top = row[list(match.space.names)].astype(float).dropna().sort_values(ascending=False).head(3)
        named = ", ".join(f"{k.split('.')[-1]} {v:.2f}" for k, v in top.items() if v > 0.05) or "none clearly"
        lines.append(f"- **{row['pattern']}**: rules out {row['ruled_out']:.1%}; narrows {named}")
    lines += ["", "![pairs](pairs.png)", ""]
    if drivers is not None and not drivers["indices"].empty:
        lines += ["## What drives the difference", "",
                  f"Sobol indices of {settings.drivers.scenario} minus {settings.drivers.baseline} (paired seeds) at "
                  f"{len(candidates)} points of the non-implausible space, computed on emulators over the box it "
                  "spans (inputs independent and uniform there: the indices describe that box). Flags say when "
                  "an index cannot be trusted.", ""]
        lines += _table(drivers["emulators"], ["outcome", "n", "mean_difference", "sd_difference", "r2", "coverage",
                                               "S1_sum"], {"r2": ".2f", "coverage": ".2f", "S1_sum": ".2f"})
        lines += [""]
        top = (drivers["indices"].sort_values(["outcome", "ST"], ascending=[True, False])
               .groupby("outcome").head(4))
        lines += _table(top, ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf", "flag"],
                        {c: ".2f" for c in ("S1", "S1_conf", "ST", "ST_conf")})
        lines += ["", "![drivers](drivers.png)", ""]
    lines += ["## Files", "",
              f"In `{where}/`: ensemble.parquet (one row per world kept: parameters, outcomes, seed, `overrides` "
              "that re-run its silo run with experiments.run), candidates.parquet (every simulated non-implausible "
              "point), waves.parquet, space.csv, diagnostics.csv, constraints.csv, drivers.csv, pairs.png, "
              "drivers.png, config.yaml.", ""]
    (folder / "report.md").write_text("\n".join(lines))
