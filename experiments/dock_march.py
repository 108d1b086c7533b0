"""Dock the learning submodel against March (1991): the project's own functions in March's original setting.

    .venv/bin/python -m experiments.dock_march               # 2,000 runs per cell (about two minutes)
    .venv/bin/python -m experiments.dock_march runs=200      # quicker look

Setting: m = 30 dimensions, n = 50 individuals, reality +-1 with probability 0.5, beliefs uniform on
{-1, 0, +1}, a neutral code, gradual socialisation (Christensen 2015), runs to equilibrium with no turnover or
turbulence. Writes <results>/docking/march1991.csv (rows p1 = 0.1 ... 0.9; for p2 = 0.1, 0.5, 0.9 the mean
equilibrium knowledge of the code and its standard error) and prints it; then March's two further findings:
moderate turnover (p3) raises knowledge when socialisation is fast, and under turbulence (p4) knowledge decays
unless turnover brings in new beliefs (march1991_turnover.csv, march1991_turbulence.csv, march1991.png).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.params import nonneg
from sim.rules.learning import run_march

from .engine.cli import entry_point, help_requested, own_settings, relative


@dataclass
class DockingSettings:
    runs: int = nonneg(2000, 1_000_000)  # runs per cell (at least 2)
    seed: int = nonneg(1991, 2**63 - 1)

P1 = [round(0.1 * i, 1) for i in range(1, 10)]
P2 = [0.1, 0.5, 0.9]


def cell_rng(base_seed: int, *key: float) -> np.random.Generator:
    """One independent stream per cell, so cells can be run in any order or alone."""
    words = [round(k * 1000) for k in key]
    return np.random.default_rng(np.random.SeedSequence([base_seed, *words]))


def equilibrium_table(runs: int, base_seed: int) -> pd.DataFrame:
    rows = []
    for p1 in P1:
        row = {"p1": p1}
        for p2 in P2:
            result = run_march(runs, p1, p2, cell_rng(base_seed, p1, p2))
            k = result.knowledge
            row[f"knowledge_p2_{p2}"] = k.mean()
            row[f"se_p2_{p2}"] = k.std(ddof=1) / np.sqrt(k.size)
            row[f"periods_p2_{p2}"] = result.periods.mean()
        row["runs"] = runs
        rows.append(row)
    return pd.DataFrame(rows)


def horizon_table(runs: int, base_seed: int, p1: float, p2: float, p3_values: list[float], p4: float,
                  periods: int, average_from: int) -> pd.DataFrame:
    rows = []
    for p3 in p3_values:
        result = run_march(runs, p1, p2, cell_rng(base_seed, p1, p2, p3, p4, 7), p3=p3, p4=p4, periods=periods,
                           average_from=average_from)
        k = result.knowledge
        rows.append({"p1": p1, "p2": p2, "p3": p3, "p4": p4, "knowledge": k.mean(),
                     "se": k.std(ddof=1) / np.sqrt(k.size), "runs": runs,
                     "periods": f"{average_from + 1}-{periods}"})
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, turnover: pd.DataFrame, turbulence: pd.DataFrame, path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for p2 in P2:
        axes[0].errorbar(table["p1"], table[f"knowledge_p2_{p2}"], yerr=1.96 * table[f"se_p2_{p2}"],
                         marker="o", capsize=2, label=f"p2 = {p2}")
    axes[0].set(xlabel="socialisation rate p1", ylabel="equilibrium knowledge of the code",
                title="March (1991) Figure 1 setting")
    axes[0].legend()
    for p1, sub in turnover.groupby("p1"):
        axes[1].errorbar(sub["p3"], sub["knowledge"], yerr=1.96 * sub["se"], marker="o", capsize=2,
                         label=f"p1 = {p1}")
    axes[1].set(xlabel="turnover p3", ylabel="mean code knowledge", title="Turnover (no turbulence)")
    axes[1].legend()
    for p4, sub in turbulence.groupby("p4"):
        axes[2].errorbar(sub["p3"], sub["knowledge"], yerr=1.96 * sub["se"], marker="o", capsize=2,
                         label=f"p4 = {p4}")
    axes[2].set(xlabel="turnover p3", ylabel="mean code knowledge", title="Turbulence with and without turnover")
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ()):
        return 0
    from .engine import store
    from .engine.config import ConfigError

    args = own_settings(argv, DockingSettings)
    if args.runs < 2:
        raise ConfigError(f"runs: must be at least 2, got {args.runs}")
    store.check_results_root()
    folder = store.output_dir("docking")
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = equilibrium_table(args.runs, args.seed)
    store.write_text(folder / "march1991.csv", table.to_csv(index=False))
    print(f"Equilibrium knowledge of the code (mean +- standard error over {args.runs} runs per cell); "
          f"m=30, n=50, no turnover or turbulence")
    print(f"{'p1':>5} " + " ".join(f"{'p2=' + str(p2):>16}" for p2 in P2))
    for _, row in table.iterrows():
        cells = " ".join(f"{row[f'knowledge_p2_{p2}']:>8.3f} +- {row[f'se_p2_{p2}']:.3f}" for p2 in P2)
        print(f"{row['p1']:>5.1f} {cells}")

    horizon_runs = max(args.runs // 4, 2)
    turnover = pd.concat([
        horizon_table(horizon_runs, args.seed, p1, 0.5, [0.0, 0.02, 0.05, 0.1, 0.2], 0.0, 300, 200)
        for p1 in (0.1, 0.5, 0.9)
    ], ignore_index=True)
    turbulence = pd.concat([
        horizon_table(horizon_runs, args.seed, 0.5, 0.5, [0.0, 0.02, 0.05, 0.1], p4, 300, 200)
        for p4 in (0.0, 0.02)
    ], ignore_index=True)
    store.write_text(folder / "march1991_turnover.csv", turnover.to_csv(index=False))
    store.write_text(folder / "march1991_turbulence.csv", turbulence.to_csv(index=False))
    print(f"\nTurnover p3 (p2=0.5, no turbulence): mean code knowledge over periods 201-300, {horizon_runs} runs")
    print(turnover.pivot(index="p3", columns="p1", values="knowledge").round(3).to_string())
    print("\nTurbulence p4 with turnover p3 (p1=p2=0.5): mean code knowledge over periods 201-300")
    print(turbulence.pivot(index="p3", columns="p4", values="knowledge").round(3).to_string())
    figure(table, turnover, turbulence, folder / "march1991.png")
    print(f"\nWritten: {relative(folder)}/march1991.csv, march1991_turnover.csv, march1991_turbulence.csv, "
          f"march1991.png ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
