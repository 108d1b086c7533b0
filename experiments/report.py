"""report.md for a scenario comparison: what was compared, the headline table, the figures, the limits."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .plots import behaviours_radar, compare_figures, outcome_figure, route_figure

# outcome -> (plain label, which direction is better, format)
OUTCOME_INFO = {
    "mean_wellbeing": ("Mean wellbeing (0-1)", "higher", "{:.4f}"),
    "wellbeing_gap_deprived": ("Wellbeing gap, least minus most deprived fifth of neighbourhoods", "lower", "{:.4f}"),
    "unmet_need": ("Unmet need per resident (need above 0.3 not being addressed)", "lower", "{:.4f}"),
    "multiple_disadvantage_share": ("Share of residents with 3+ high needs at once", "lower", "{:.4f}"),
    "crises_per_1000_per_year": ("Crises per 1,000 residents per year", "lower", "{:.1f}"),
    "failure_demand_share": ("Failure demand, share of all contacts", "lower", "{:.3f}"),
    "refusal_rate": ("Refusals, share of contacts assessed by services", "lower", "{:.3f}"),
    "mean_wait_weeks": ("Mean wait before support starts (weeks)", "lower", "{:.1f}"),
    "lost_referral_share": ("Referrals lost (signposts never acted on), share of referrals", "lower", "{:.3f}"),
    "total_cost": ("Total spend per year (GBP)", "lower", "{:,.0f}"),
    "prevention_share_of_spend": ("Share of spend on support rather than crisis response", "higher", "{:.3f}"),
    "cost_per_wellbeing_point": ("Cost per resident-year per wellbeing point (GBP)", "lower", "{:.3f}"),
    "mean_resident_trust": ("Residents' mean trust in providers (0-1)", "higher", "{:.4f}"),
    "collaboration_density": ("Share of provider pairs with a working relationship", "higher", "{:.3f}"),
    "mean_tie_strength": ("Mean tie strength between providers (0-1)", "higher", "{:.3f}"),
    "community_orgs_open": ("Community organisations open at the end", "higher", "{:.1f}"),
    "practice_knowledge": ("Providers' practice knowledge of what helps (0.5 = chance)", "higher", "{:.3f}"),
}

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
    if value is None or not np.isfinite(value):
        return "n/a"
    return OUTCOME_INFO.get(outcome, (outcome, None, "{:.4g}"))[2].format(value)


def reading(outcome: str, diff: float, low: float, high: float) -> str:
    """Plain words for a paired difference and its confidence interval."""
    if not all(np.isfinite([diff, low, high])):
        return "not estimable"
    if low <= 0 <= high:
        return "no clear difference"
    better = OUTCOME_INFO.get(outcome, ("", None, ""))[1]
    if better is None:
        return "higher" if diff > 0 else "lower"
    improves = (diff > 0) == (better == "higher")
    return "better" if improves else "worse"


def evaluated_months(months: pd.DataFrame) -> pd.DataFrame:
    """Months after the burn-in, with their evaluated year (1 = the first year after the burn-in)."""
    return months[months["t_years"] > 0].assign(year=lambda f: np.ceil(f["t_years"]).astype(int))


def yearly_differences(months: pd.DataFrame, scenario: str, baseline: str, column: str) -> pd.DataFrame:
    """Per evaluated year: mean of ``column`` in scenario minus baseline, paired by replicate."""
    ev = evaluated_months(months)
    per = ev.groupby(["scenario", "replicate", "year"])[column].mean().unstack("scenario")
    diff = (per[scenario] - per[baseline]).groupby("year")
    return pd.DataFrame({"mean": diff.mean(), "low": diff.quantile(0.1), "high": diff.quantile(0.9)})


def overtaking(months: pd.DataFrame, scenario: str, baseline: str, column: str, better: str) -> dict:
    """When ``scenario`` overtakes ``baseline`` on ``column`` for good, and how deep it dips first.

    ``overtake``: the first evaluated year from which the mean paired difference is better every year to the
    end (None if never). ``dip``: the worst yearly difference before that (None if it never falls behind).
    """
    yearly = yearly_differences(months, scenario, baseline, column)["mean"]
    gains = yearly if better == "higher" else -yearly
    overtake = next((int(y) for y in gains.index if (gains.loc[y:] > 0).all()), None)
    before = gains if overtake is None else gains.loc[: overtake - 1]
    behind = before[before < 0]
    dip = None if behind.empty else (int(behind.idxmin()), float(yearly.loc[behind.idxmin()]))
    return {"overtake": overtake, "dip": dip}


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
             "end; *dip* is the worst year before that, if the route falls behind first.", "",
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
            wb = overtaking(months, scenario, baseline, "mean_wellbeing", "higher")
            cells.append("never" if wb["overtake"] is None else f"year {wb['overtake']}")
            cells.append("none" if wb["dip"] is None else f"{wb['dip'][1]:+.5f} in year {wb['dip'][0]}")
            for column in ("crises", "waiting"):
                ahead = overtaking(months, scenario, baseline, column, "lower")["overtake"]
                cells.append("never" if ahead is None else f"year {ahead}")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    lines += ["", f"![Routes over time]({figure})", "",
              "Reading the dip: gains in wellbeing start as soon as a provider works the new way, because bespoke "
              "support helps the people it reaches at once; the costs of the change show first in *waiting* (no "
              "one is refused, so demand queues, and staff give time to relationships) and in the years before "
              "ties and learning pay back. Where a route never falls behind on wellbeing, its dip is in the "
              "waiting column.", ""]
    return lines


def write_report(folder: Path, config, runs: pd.DataFrame, summary: pd.DataFrame, differences: pd.DataFrame,
                 months: pd.DataFrame, versions: dict, wall: float, workers: int) -> None:
    settings = config.compare
    scenarios = list(settings.scenarios)
    figures = compare_figures(months, scenarios, settings.confidence, folder, settings.title)
    outcome_png = outcome_figure(summary, [o for o in OUTCOME_INFO if o in set(summary["outcome"])], scenarios,
                                 folder)
    from .config import load_config

    lever_rows = {}
    for scenario in scenarios:
        _, cfg = load_config([f"scenario={scenario}"])
        row = asdict(cfg.scenario)
        row.update({f"reform.{part}": year for part, year in row.pop("reform").items()})
        lever_rows[scenario] = row
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
        lines.append(f"- **{scenario}**: {lever_rows[scenario]['description']}")
    lever_names = [k for k in lever_rows[scenarios[0]] if k not in ("name", "description")]
    lines += ["", "Levers (the only differences between scenarios):", "",
              "| lever | " + " | ".join(scenarios) + " |", "|---|" + "---|" * len(scenarios)]
    for name in lever_names:
        values = [str(lever_rows[s][name]) for s in scenarios]
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
    for outcome in OUTCOME_INFO:
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
        lines.append(f"| {OUTCOME_INFO[outcome][0]} | " + " | ".join(cells) + " |")
    lines.append("")

    for scenario in others:
        better = [o for o in OUTCOME_INFO if (o, scenario) in diffs.index
                  and reading(o, *diffs.loc[(o, scenario)][["difference", "ci_low", "ci_high"]]) == "better"]
        worse = [o for o in OUTCOME_INFO if (o, scenario) in diffs.index
                 and reading(o, *diffs.loc[(o, scenario)][["difference", "ci_low", "ci_high"]]) == "worse"]
        lines += [f"**In short ({scenario} against {settings.baseline}).** Better on: "
                  + (", ".join(OUTCOME_INFO[o][0].lower() for o in better) or "nothing clearly") + ". Worse on: "
                  + (", ".join(OUTCOME_INFO[o][0].lower() for o in worse) or "nothing clearly") + ".", ""]
        yearly = yearly_differences(months, scenario, settings.baseline, "mean_wellbeing")
        if len(yearly):
            steps = ", ".join(f"year {int(y)}: {r['mean']:+.4f}" for y, r in yearly.iterrows())
            lines += [f"Wellbeing difference year by year ({scenario} - {settings.baseline}, mean over seeds): "
                      f"{steps}. Benefits of relationship-based working build as trust and ties grow; an "
                      f"evaluation that stops early sees only the first years.", ""]

    lines += route_section(months, scenarios, settings.baseline, settings.confidence, folder)

    from sim.behaviours import BEHAVIOURS

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
    lines += ["## What the model leaves out", ""] + [f"- {item}" for item in LEAVES_OUT] + [""]
    lines += ["Definitions of every outcome and mechanism: `docs/ODD.md`.", "",
              "## Reproduce", "", "```", "make compare   # or: .venv/bin/python -m experiments.compare "
              "[overrides]", "```", "",
              f"Base seed {settings.base_seed}; replicate seeds: {', '.join(str(s) for s in sorted(set(runs['seed'])))}. "
              f"Resolved configuration: `config.yaml`; per-run outcomes: `runs.parquet`; monthly indicators: "
              f"`timeseries.parquet`; tables: `summary.csv`, `differences.csv`.", "",
              f"{len(runs)} runs in {wall:.0f} s on {workers} worker(s). Versions: "
              + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    (folder / "report.md").write_text("\n".join(lines))
