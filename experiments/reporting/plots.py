"""Figures for a run folder and for a comparison (matplotlib's object-oriented API, Agg, PNG; never pyplot, so
nothing is shared between threads and start-up stays short)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.indicators import monthly
from sim.outcomes import OUTCOMES
from sim.rules.failure import FAILURE_KINDS

COLOURS = {"silo": "#c0392b", "whole_system": "#2471a3", "prototype": "#239b56", "whole_place": "#b9770e",
           "behaviours_without_infrastructure": "#7d3c98"}  # display colours; any other scenario uses PALETTE
PALETTE = ["#c0392b", "#2471a3", "#239b56", "#b9770e", "#7d3c98", "#5d6d7e"]


def _figure(figsize, **kwargs) -> Figure:
    return Figure(figsize=figsize, layout="constrained", **kwargs)


def _shade_burn_in(ax) -> None:
    left, _ = ax.get_xlim()
    if left < 0:
        ax.axvspan(left, 0, color="0.92", zorder=0, label="burn-in")
        ax.set_xlim(left=left)


def run_figures(result, params, folder: Path) -> list[str]:
    """overview.png for one run: six indicators over time, contacts by kind, and neighbourhoods.

    One figure with a fixed layout (no layout engine): drawing is most of a small run's time.
    """
    m = monthly(result.timeseries)
    per_1000_year = 1000.0 * 13 / params.residents
    colour = COLOURS.get(params.scenario.name, PALETTE[0])
    fig = Figure(figsize=(17, 8))
    fig.subplots_adjust(left=0.05, right=0.97, top=0.91, bottom=0.08, wspace=0.32, hspace=0.42)
    grid = fig.add_gridspec(2, 4)
    panels = [
        ("mean_wellbeing", "Mean wellbeing (0-1)", 1.0),
        ("unmet_need", "Unmet need per resident", 1.0),
        ("crises", "Crises per 1,000 residents per year", per_1000_year),
        ("failure_demand_share", "Failure demand, share of contacts", 1.0),
        ("mean_resident_trust", "Residents' mean trust (0-1)", 1.0),
        ("collaboration_density", "Collaboration density (share of provider pairs)", 1.0),
    ]
    cells = [grid[0, 0], grid[0, 1], grid[0, 2], grid[1, 0], grid[1, 1], grid[1, 2]]
    for cell, (column, title, scale) in zip(cells, panels, strict=True):
        ax = fig.add_subplot(cell)
        ax.plot(m["t_years"], m[column] * scale, color=colour)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("years since burn-in ended")
        _shade_burn_in(ax)
        ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[0, 3])
    kinds = [f"failure_{k}" for k in FAILURE_KINDS]
    ax.stackplot(m["t_years"], m["contacts_value"], *(m[k] for k in kinds),
                 labels=["value demand", *(k.replace("failure_", "failure: ").replace("_", " ") for k in kinds)],
                 colors=["#85c1e9", "#922b21", "#cb4335", "#e67e22", "#f1c40f", "#7f8c8d"])
    ax.set_title("Contacts per month, value and failure demand", fontsize=10)
    ax.set_xlabel("years since burn-in ended")
    ax.legend(loc="upper left", fontsize=7, ncol=1)
    _shade_burn_in(ax)

    nb = result.neighbourhoods
    last = nb[nb["month"] > nb["month"].max() - 13].groupby("neighbourhood").mean(numeric_only=True)
    ax = fig.add_subplot(grid[1, 3])
    points = ax.scatter(last["deprivation"], last["mean_wellbeing"], c=last["mean_resident_trust"],
                        s=12 + 60 * last["residents"] / last["residents"].max(), cmap="viridis")
    fig.colorbar(points, ax=ax, label="mean trust")
    ax.set_xlabel("deprivation (0 least, 1 most)")
    ax.set_ylabel("mean wellbeing, final year")
    ax.set_title("Neighbourhoods: wellbeing against deprivation", fontsize=10)
    ax.grid(alpha=0.3)
    fig.suptitle(f"{params.scenario.name} - {params.place.name} - {params.residents:,} residents - seed {params.seed}")
    fig.savefig(folder / "overview.png", dpi=100)
    return ["overview.png"]


TIME_PANELS = [
    ("mean_wellbeing", "Mean wellbeing (0-1)", "mean"),
    ("failure_demand_share", "Failure demand, share of contacts", "mean"),
    ("crises_per_1000_year", "Crises per 1,000 residents per year", "mean"),
    ("mean_resident_trust", "Residents' mean trust (0-1)", "mean"),
    ("collaboration_density", "Collaboration density", "mean"),
    ("emergency_share_of_spend", "Emergency (crisis) share of spend", "mean"),
    ("waiting", "Residents on waiting lists", "mean"),
    ("wellbeing_gap", "Wellbeing gap, least - most deprived quintile", "mean"),
    ("practice_knowledge", "Providers' practice knowledge (0.5 = chance)", "mean"),
]


def compare_figures(monthly_runs: pd.DataFrame, scenarios: list[str], confidence: float, folder: Path,
                    title: str) -> list[str]:
    """Main indicators over time, mean and confidence band per scenario; one grid and one file per indicator."""
    written = []
    fig = _figure((16, 11))
    axes = fig.subplots(3, 3)
    for ax, (column, label, _) in zip(axes.flat, TIME_PANELS, strict=True):
        _band_panel(ax, monthly_runs, scenarios, column, label, confidence)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{title}: mean and {confidence:.0%} confidence band over seeds")
    fig.savefig(folder / "indicators_over_time.png", dpi=110)
    written.append("indicators_over_time.png")
    for column, label, _ in [*TIME_PANELS[:6], TIME_PANELS[-1]]:
        fig = _figure((7, 4))
        ax = fig.subplots()
        _band_panel(ax, monthly_runs, scenarios, column, label, confidence)
        ax.legend(fontsize=8)
        fig.savefig(folder / f"{column}.png", dpi=110)
        written.append(f"{column}.png")
    return written


SHARES = {"adoption", "infrastructure_reformed", "failure_demand_share", "collaboration_density",
          "emergency_share_of_spend"}  # bands of a share are clipped to [0, 1]


def _band_panel(ax, monthly_runs, scenarios, column, label, confidence, baseline: str | None = None) -> None:
    """Mean and band over seeds per scenario; with ``baseline``, of the paired difference from it."""

    def table(scenario: str) -> pd.DataFrame:
        sub = monthly_runs[monthly_runs["scenario"] == scenario]
        return sub.pivot(index="seed", columns="t_years", values=column)

    base = table(baseline) if baseline is not None else 0.0
    for i, scenario in enumerate(scenarios):
        if scenario == baseline:
            continue
        values = table(scenario) - base
        from ..stats.comparison import mean_and_band  # scipy.stats: imported only for comparisons

        mean, low, high = mean_and_band(values.to_numpy(dtype=float), confidence)
        if column in SHARES and baseline is None:
            low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        colour = COLOURS.get(scenario, PALETTE[i % len(PALETTE)])
        ax.plot(values.columns, mean, color=colour, label=scenario)
        ax.fill_between(values.columns, low, high, color=colour, alpha=0.25, linewidth=0)
    if baseline is not None:
        ax.axhline(0.0, color="k", linewidth=0.8)
    ax.set_title(label, fontsize=10)
    ax.set_xlabel("years since burn-in ended")
    ax.grid(alpha=0.3)
    _shade_burn_in(ax)


def outcome_figure(summary: pd.DataFrame, outcomes: list[str], scenarios: list[str], folder: Path) -> str:
    """Headline outcomes: mean and confidence interval per scenario, one small panel per outcome."""
    cols = 4
    rows = int(np.ceil(len(outcomes) / cols))
    fig = _figure((16, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        sub = summary[summary["outcome"] == outcome].set_index("scenario").loc[scenarios]
        y = np.arange(len(scenarios))
        ax.errorbar(sub["mean"], y, xerr=[sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]],
                    fmt="o", color="k", ecolor="0.4", capsize=3)
        for yi, scenario in zip(y, scenarios, strict=True):
            ax.plot(sub.loc[scenario, "mean"], yi, "o", color=COLOURS.get(scenario, PALETTE[yi % len(PALETTE)]))
        ax.set_yticks(y, scenarios, fontsize=8)
        ax.set_ylim(-0.7, len(scenarios) - 0.3)
        ax.set_title(OUTCOMES[outcome].title if outcome in OUTCOMES else outcome, fontsize=8, wrap=True)
        ax.grid(alpha=0.3, axis="x")
    for ax in list(axes.flat)[len(outcomes):]:
        ax.axis("off")
    fig.savefig(folder / "outcomes.png", dpi=110)
    return "outcomes.png"


def behaviours_radar(runs: pd.DataFrame, scenarios: list[str], folder: Path) -> str:
    """The nine system behaviours (0-10), mean over seeds, one polygon per scenario."""
    from sim.behaviours import BEHAVIOURS

    keys = list(BEHAVIOURS)
    angles = np.linspace(0, 2 * np.pi, len(keys), endpoint=False)
    fig = _figure((7.5, 7.5))
    ax = fig.add_subplot(projection="polar")
    for i, scenario in enumerate(scenarios):
        values = runs.loc[runs["scenario"] == scenario, [f"behaviour_{k}" for k in keys]].mean().to_numpy()
        colour = COLOURS.get(scenario, PALETTE[i % len(PALETTE)])
        ax.plot(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color=colour, label=scenario)
        ax.fill(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color=colour, alpha=0.15)
    ax.set_xticks(angles, [k.replace("_", "\n") for k in keys], fontsize=8)
    ax.set_ylim(0, 10)
    ax.set_title("Nine system behaviours (Lankelly Chase), scored 0-10 from the model's state")
    ax.legend(loc="lower right", bbox_to_anchor=(1.1, -0.05))
    fig.savefig(folder / "system_behaviours.png", dpi=110)
    return "system_behaviours.png"


ROUTE_PANELS = [
    ("adoption", "Providers working the new way (share)"),
    ("infrastructure_reformed", "Infrastructure reformed (share of 4 parts)"),
    ("practice_knowledge", "Providers' practice knowledge (0.5 = chance)"),
    ("mean_tie_strength", "Mean tie strength between providers"),
]


def route_figure(monthly_runs: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float,
                 folder: Path) -> str:
    """How each route unfolds: adoption, infrastructure, learning and ties, and wellbeing against the baseline."""
    fig = _figure((16, 8))
    axes = fig.subplots(2, 3)
    for ax, (column, label) in zip(axes.flat, ROUTE_PANELS, strict=False):
        _band_panel(ax, monthly_runs, scenarios, column, label, confidence)
    for ax, (column, label) in zip(axes.flat[4:], [("mean_wellbeing", "Mean wellbeing"),
                                                     ("waiting", "Residents on waiting lists")], strict=True):
        _band_panel(ax, monthly_runs, scenarios, column, f"{label}: difference from {baseline}", confidence,
                    baseline=baseline)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"Routes into whole-system working: mean and {confidence:.0%} confidence band over seeds")
    fig.savefig(folder / "routes.png", dpi=110)
    return "routes.png"
