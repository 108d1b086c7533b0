"""report.md for a comparison: what was compared, the headline table, routes, behaviours, figures, the limits.

Outcome labels, units, better directions and formats come from the registry (:mod:`sim.outcomes`); the
statistics from :mod:`experiments.stats.comparison`.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from sim.behaviours import BEHAVIOURS
from sim.outcomes import HIGHER, LOWER, OUTCOMES, REPORTED

from ..stats.comparison import dip, evaluated_months, overtaking, reading, yearly_differences
from .journeys import write_journeys
from .plots import behaviours_radar, compare_figures, outcome_figure, route_figure

LEAVES_OUT = [
    "Money is a single budget line per provider for the modelled casework; housing stock, benefits, health "
    "treatment and the wider economy are outside the model.",
    "Residents do not move in or out, age or die; the population is fixed for the whole run.",
    "Providers are whole organisations that work either the usual way or the new way; a mix of practice within "
    "one provider, and the people who lead change, are not modelled. Infrastructure is reformed by the "
    "scenario's timetable, not by a commissioner who decides to reform.",
    "Community organisations are one per neighbourhood cluster; they close but new ones do not open.",
    "Trust is per resident and provider type; staff, managers and politicians are not modelled as people.",
    "Numbers are calibrated to plausible bands (MODEL.md section 7), not fitted to any place's data: read "
    "differences between scenarios and their directions, not absolute levels.",
]


def fmt(outcome: str, value: float) -> str:
    info = OUTCOMES.get(outcome)
    if info is None:
        return "n/a" if value is None or not np.isfinite(value) else f"{value:.4g}"
    return info.format(value)


def lever_rows(scenario_params: dict) -> dict[str, dict]:
    """Each scenario's route levers as simulated (the user's overrides included), ``reform`` flattened."""
    rows = {}
    for scenario, params in scenario_params.items():
        row = asdict(params.scenario)
        row.update({f"reform.{part}": year for part, year in row.pop("reform").items()})
        rows[scenario] = row
    return rows


def route_section(months: pd.DataFrame, scenarios: list[str], baseline: str, confidence: float,
                  folder: Path) -> list[str]:
    """Adoption, learning and time to overtake the baseline, per route."""
    figure = route_figure(months, scenarios, baseline, confidence, folder)
    ev = evaluated_months(months)
    per = ev.groupby(["scenario", "replicate", "year"])[["adoption", "practice_knowledge"]].mean()
    last = int(ev["year"].max())
    marks = sorted({1, min(3, last), min(5, last), last})
    lines = ["## Routes: spread of practice, learning and time to overtake", "",
             "Every scenario is the same place until the burn-in ends; then each route starts. Adoption is the "
             "share of open providers working the new way (mean over the year and seeds); a route *takes hold* in "
             "a seed when at least half the providers work the new way in the last year. *Overtakes* is the first "
             f"evaluated year from which the mean paired difference from {baseline} is better every year to the "
             f"end. *Dip* is month by month: the worst month in which the route is clearly behind {baseline} (the "
             f"{confidence:.0%} interval of the paired difference lies below 0), when it falls (years since the "
             "route started) and how many months are clearly behind; the cost of change (ODD 7.16) is what can "
             "make one.", "",
             "| route | " + " | ".join(f"adoption, year {y}" for y in marks)
             + " | took hold (seeds) | practice knowledge, last year | wellbeing: overtakes | wellbeing: dip "
               "| crises: overtakes | waiting: overtakes |",
             "|---|" + "---|" * (len(marks) + 6)]
    for scenario in scenarios:
        adoption = per.loc[scenario, "adoption"].unstack("year")
        cells = [f"{adoption[y].mean():.2f}" for y in marks]
        held = int((adoption[last] >= 0.5).sum())
        cells.append(f"{held} of {len(adoption)}")
        cells.append(f"{per.loc[scenario, 'practice_knowledge'].unstack('year')[last].mean():.3f}")
        if scenario == baseline:
            cells += ["-"] * 4
        else:
            wb = overtaking(months, scenario, baseline, "mean_wellbeing", HIGHER)
            cells.append("never" if wb["overtake"] is None else f"year {wb['overtake']}")
            fall = dip(months, scenario, baseline, "mean_wellbeing", HIGHER, confidence)
            cells.append("none clear" if fall is None else
                         f"{fall['depth']:+.4f} at {fall['at_years']:.1f} y; {fall['months_behind']} month(s) behind")
            for column in ("crises", "waiting"):
                ahead = overtaking(months, scenario, baseline, column, LOWER)["overtake"]
                cells.append("never" if ahead is None else f"year {ahead}")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    lines += ["", f"![Routes over time]({figure})", "",
              "Reading the dip: a provider that changes its way of working gives staff time to training and "
              "redesign, delivers whole-person support below its full effect until the new way is learned, and a "
              "re-let contract takes a while to mobilise (ODD 7.16); meanwhile bespoke support helps the people it "
              "reaches at once. Whether wellbeing falls behind first, and for how long, depends on which is "
              "larger; the sizes of these costs are uncertainties (`conf/ranges.yaml`): vary them.", ""]
    return lines


def write_report(folder: Path, config, scenario_params: dict, runs: pd.DataFrame, summary: pd.DataFrame,
                 differences: pd.DataFrame, months: pd.DataFrame, versions: dict, wall: float, where: str,
                 command_line: list[str], table_path: str = "table.parquet") -> None:
    """Write report.md and its figures into ``folder``. ``scenario_params`` holds each scenario's parameters as
    simulated; ``command_line`` the arguments that made the comparison and ``table_path`` its table (for
    the Reproduce section)."""
    settings = config.compare
    scenarios = list(settings.scenarios)
    figures = compare_figures(months, scenarios, settings.confidence, folder, settings.title)
    outcome_png = outcome_figure(summary, [o for o in REPORTED if o in set(summary["outcome"])], scenarios, folder)
    levers = lever_rows(scenario_params)
    ci = f"{settings.confidence:.0%}"
    lines = [f"# {settings.title}", ""]
    lines += [
        f"This report compares **{', '.join(scenarios)}** on the **{config.place.name}** place: "
        f"{config.residents:,} simulated residents, {config.burn_in_years} burn-in year(s) then "
        f"{config.years} evaluated years, {settings.n_seeds} replicate seeds per scenario. Every scenario ran "
        f"with the same seeds, so differences are paired. Intervals are {ci} confidence intervals over seeds "
        f"(t distribution): they describe the model's own randomness, not uncertainty about the world - for that, "
        f"vary the uncertainties (see below).",
        "",
        "## What was compared",
        "",
    ]
    for scenario in scenarios:
        lines.append(f"- **{scenario}**: {levers[scenario]['description']}")
    lever_names = [k for k in levers[scenarios[0]] if k not in ("name", "description")]
    lines += ["", "Levers (the only differences between scenarios):", "",
              "| lever | " + " | ".join(scenarios) + " |", "|---|" + "---|" * len(scenarios)]
    for name in lever_names:
        values = [str(levers[s][name]) for s in scenarios]
        mark = "" if len(set(values)) == 1 else " **"
        lines.append(f"| {name}{mark} | " + " | ".join(values) + " |")
    lines += ["", "Each scenario is a route between two ways of frontline working (`conf/practice/`: "
              "the usual way and the new way) and two states of infrastructure (`conf/infrastructure/`: before "
              "and after reform); both are the same for every scenario and listed in `config.yaml`. "
              "Years are evaluated years (0 = the end of the burn-in); `null` = never.", ""]
    lines += ["", "Uncertainties (the same for every scenario): " + ", ".join(
        f"`{k}={v}`" for k, v in asdict(config.uncertainty).items()) + ".", ""]

    lines += ["## Headline results", "",
              f"Mean over seeds with {ci} confidence interval; the last columns give the paired difference from "
              f"**{settings.baseline}** and whether it is better, worse or not clearly different.", ""]
    others = [s for s in scenarios if s != settings.baseline]
    header = "| outcome | " + " | ".join(scenarios) + "".join(f" | {s} - {settings.baseline} | reading" for s in others)
    lines += [header + " |", "|---|" + "---|" * (len(scenarios) + 2 * len(others))]
    table = summary.set_index(["outcome", "scenario"])
    diffs = differences.set_index(["outcome", "scenario"]) if len(differences) else None
    for outcome in REPORTED:
        if outcome not in table.index.get_level_values(0):
            continue
        cells = []
        for scenario in scenarios:
            row = table.loc[(outcome, scenario)]
            cells.append(f"{fmt(outcome, row['mean'])} [{fmt(outcome, row['ci_low'])}, {fmt(outcome, row['ci_high'])}]")
        for scenario in others:
            d = diffs.loc[(outcome, scenario)]
            cells.append(f"{fmt(outcome, d['difference'])} [{fmt(outcome, d['ci_low'])}, {fmt(outcome, d['ci_high'])}]")
            cells.append(reading(outcome, d["difference"], d["ci_low"], d["ci_high"]))
        lines.append(f"| {OUTCOMES[outcome].title} | " + " | ".join(cells) + " |")
    lines.append("")

    for scenario in others:
        better = [o for o in REPORTED if (o, scenario) in diffs.index
                  and reading(o, *diffs.loc[(o, scenario)][["difference", "ci_low", "ci_high"]]) == "better"]
        worse = [o for o in REPORTED if (o, scenario) in diffs.index
                 and reading(o, *diffs.loc[(o, scenario)][["difference", "ci_low", "ci_high"]]) == "worse"]
        lines += [f"**In short ({scenario} against {settings.baseline}).** Better on: "
                  + ("; ".join(OUTCOMES[o].label.lower() for o in better) or "nothing clearly") + ". Worse on: "
                  + ("; ".join(OUTCOMES[o].label.lower() for o in worse) or "nothing clearly") + ".", ""]
        yearly = yearly_differences(months, scenario, settings.baseline, "mean_wellbeing")
        if len(yearly):
            steps = ", ".join(f"year {int(y)}: {r['mean']:+.4f}" for y, r in yearly.iterrows())
            lines += [f"Wellbeing difference year by year ({scenario} - {settings.baseline}, mean over seeds): "
                      f"{steps}. Benefits of relationship-based working build as trust and ties grow; an "
                      f"evaluation that stops early sees only the first years.", ""]

    lines += route_section(months, scenarios, settings.baseline, settings.confidence, folder)

    radar = behaviours_radar(runs, scenarios, folder)
    lines += ["## System behaviours", "",
              "Lankelly Chase's nine behaviours, each scored 0-10 from what emerged in the model (trust, ties, "
              "learning, referrals, who decides) and averaged over the evaluated years and seeds. They are the "
              "model's proxies, defined in docs/ODD.md (7.14), not measurements of the behaviours.", "",
              "| behaviour | " + " | ".join(scenarios) + " |", "|---|" + "---|" * len(scenarios)]
    for key, wording in BEHAVIOURS.items():
        cells = [f"{runs.loc[runs['scenario'] == s, f'behaviour_{key}'].mean():.1f}" for s in scenarios]
        lines.append(f"| {wording} | " + " | ".join(cells) + " |")
    lines += ["", f"![System behaviours]({radar})", ""]
    lines += ["## Figures", "", f"![Headline outcomes by scenario]({outcome_png})", "",
              f"![Main indicators over time]({figures[0]})", "",
              "Indicators are monthly (four-week) values; the grey band on the left is the burn-in, excluded from "
              "the headline table. Shaded bands are the confidence band over seeds.", ""]
    lines += write_journeys(folder, scenario_params)
    lines += ["## What the model leaves out", ""] + [f"- {item}" for item in LEAVES_OUT] + [""]
    command = shlex.join(["python", "-m", "experiments.compare", *command_line])
    lines += ["Definitions of every outcome and mechanism: `docs/ODD.md`.", "",
              "## Reproduce", "",
              "This comparison, again (finished runs are reused):", "", "```", f".venv/bin/{command}", "```", "",
              "Any one run: its `overrides` column in `table.parquet` re-runs it with `experiments.run`, e.g.", "",
              "```", f".venv/bin/python -c \"import pandas as pd; print(pd.read_parquet('{table_path}')"
              ".overrides[0])\" | xargs .venv/bin/python -m experiments.run", "```", "",
              f"Base seed {settings.base_seed}; replicate seeds: "
              f"{', '.join(str(s) for s in sorted(set(runs['seed'])))}. "
              f"Resolved configuration: `config.yaml`; per-run outcomes: `table.parquet`; monthly indicators: "
              f"`timeseries.parquet`; tables: `summary.csv`, `differences.csv`.", "",
              f"{len(runs)} runs; this command's share took {wall:.0f} s on {where}. Versions: "
              + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    (folder / "report.md").write_text("\n".join(lines))
