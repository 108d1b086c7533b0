"""report.md and report.html for a comparison across plausible worlds: the answer first, then when it fails,
what it means in the place's own units, when it pays back, and how to reproduce it."""

from __future__ import annotations

import base64
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.outcomes import HEADLINE, HIGHER, LOWER, OUTCOMES, REPORTED

from ..stats.ensemble import BETTER, UNRESOLVED, WORSE, world_verdicts
from .journeys import write_journeys

COMPARISON_OUTCOMES = [o for o in HEADLINE if OUTCOMES[o].better in (HIGHER, LOWER)]
PER_CAPITA = 100_000  # a synthetic place's results are given per this many residents
MARKS = {BETTER: {"marker": "o", "color": "#2471a3", "label": "clearly better"},
         WORSE: {"marker": "s", "color": "#c0392b", "label": "clearly worse"},
         UNRESOLVED: {"marker": "o", "color": "0.55", "label": "not resolved"}}


def percent(share: float) -> str:
    """A confidence level in the report's style: 0.95 -> "95 %"."""
    return f"{share * 100:.0f} %"


def fmt(outcome: str, value: float) -> str:
    return OUTCOMES[outcome].format(value) if outcome in OUTCOMES else f"{value:.4g}"


def signed(outcome: str, value: float) -> str:
    text = fmt(outcome, value)
    return text if text.startswith(("-", "n/a")) else "+" + text


def answer_line(row: pd.Series, scenario: str, baseline: str, confidence: float = 0.95) -> str:
    """One outcome's answer: how many worlds are clearly better, clearly worse and not resolved, the share that
    is clearly better with its interval, the average and spread of the difference, and the worst world."""
    info = OUTCOMES[row["outcome"]]
    if not np.isfinite(row["share_worlds_better"]):
        return f"- {info.label}: not estimable in these worlds."
    direction = "higher" if info.better == HIGHER else "lower"
    unit = "" if info.unit == "0-1" else f" {info.unit}"
    n = int(row["worlds"])
    spread = (f"the difference averages {signed(row['outcome'], row['difference'])}{unit}, from "
              f"{signed(row['outcome'], row['low'])} to {signed(row['outcome'], row['high'])} across worlds; in the "
              f"worst world (world {int(row['worst_world'])}) it is "
              f"{signed(row['outcome'], row['worst_world_difference'])} ({said(row['worst_world_verdict'])}).")
    if row["seeds_per_world"] < 2:
        return f"- **{info.label}**: not resolved in any of the {n} plausible worlds (one seed each); {spread}"
    return (f"- **{info.label}**: {scenario} is clearly better ({direction}) than {baseline} in "
            f"**{int(row['worlds_better'])} of {n}** plausible worlds ({row['share_worlds_better']:.0%}, "
            f"{percent(confidence)} interval {row['share_low']:.0%}-{row['share_high']:.0%}), clearly worse in "
            f"{int(row['worlds_worse'])}, not resolved in {int(row['worlds_unresolved'])} (the difference in those "
            f"is within seed noise); {spread}")


def said(verdict: str) -> str:
    """A world's verdict in a sentence."""
    return {BETTER: "clearly better", WORSE: "clearly worse"}.get(verdict, "not resolved")


def resolved_lines(differences: pd.DataFrame, others: list[str], baseline: str, seeds: int,
                   confidence: float) -> list[str]:
    """Near the top of the report: how many worlds each headline outcome resolves."""
    rule = (f"A world counts as better or worse only where the {percent(confidence)} interval of its paired "
            "difference over its seeds lies wholly on one side of zero; otherwise it is not resolved (its "
            "difference is within seed noise).")
    if seeds < 2:
        return ["**How many worlds are resolved: none.** " + rule + " These worlds ran with one seed each, which "
                "gives no measure of seed noise, so no world is resolved and the answer below gives only the "
                "differences: compare again with more seeds per world (ensemble.seeds_per_world=3 or more) for an "
                "answer world by world.", ""]
    lines = [f"**How many worlds are resolved** ({seeds} seeds per world). " + rule, ""]
    for scenario in others:
        d = differences[differences["scenario"] == scenario].set_index("outcome")
        counts = "; ".join(f"{OUTCOMES[o].label.lower()} {int(d.loc[o, 'worlds_better'] + d.loc[o, 'worlds_worse'])}"
                           for o in COMPARISON_OUTCOMES if o in d.index and np.isfinite(d.loc[o, "worlds_better"]))
        n = int(d["worlds"].max()) if len(d) else 0
        lines.append(f"- {scenario} against {baseline}, worlds resolved of {n}: {counts}.")
    return [*lines, ""]


def losing_conditions(parameters: pd.DataFrame, verdicts: pd.DataFrame, outcome: str) -> list[str]:
    """When the scenario is clearly worse on ``outcome``: PRIM over the worlds' parameters (EMA workbench), the
    clearly worse worlds against all the others (better or not resolved); with too few for a box, the parameters
    on which they differ most from the rest. ``verdicts``: one scenario's rows of
    :func:`experiments.stats.ensemble.world_verdicts`."""
    from ..engine.ranges import plausible
    from ..stats.prim import find_boxes

    mine = verdicts[verdicts["outcome"] == outcome].set_index("world")
    found = mine["difference"].reindex(parameters.index).notna()
    verdict = mine["verdict"].reindex(parameters.index)
    lose = ((verdict == WORSE) & found).to_numpy()
    parameters = parameters[found.to_numpy()]
    lose = lose[found.to_numpy()]
    unresolved = int((verdict[found] == UNRESOLVED).sum())
    n, total = int(lose.sum()), len(parameters)
    label = OUTCOMES[outcome].label
    if n == 0:
        return [f"- {label}: it is clearly worse in none of the {total} worlds ({unresolved} not resolved)."]
    head = (f"- {label}: it is clearly worse in {n} of {total} worlds ({unresolved} not resolved, counted with the "
            "others)")
    unit = pd.DataFrame({k: (parameters[k] - plausible(k).low) / (plausible(k).high - plausible(k).low)
                         for k in parameters.columns})
    if n >= 3 and n <= total - 3:
        boxes = find_boxes(parameters, lose, mass_min=0.1, n_boxes=1)
        if boxes:
            box = boxes[0]
            full = pd.DataFrame({"low": parameters.min(), "high": parameters.max()})
            width = (full["high"] - full["low"]).replace(0, np.nan)
            # a box edge counts only where it cuts off a fifth or more of the worlds' range (PRIM's first peels
            # trim slivers that 30 worlds cannot tell from chance)
            narrowed = [(k, r.low, r.high) for k, r in box.limits.iterrows()
                        if (r.high - r.low) / width[k] <= 0.8]
            if narrowed:
                where = "; ".join(f"{k.split('.')[-1]} in [{lo:.3g}, {hi:.3g}]" for k, lo, hi in narrowed)
                return [f"{head}. PRIM: they concentrate where {where} (coverage {box.coverage:.0%} of the clearly "
                        f"worse worlds, density {box.density:.0%} of the worlds in the box are clearly worse). With "
                        f"{total} worlds this is a lead to test with a sweep, not a finding."]
    gap = (unit[lose].median() - unit[~lose].median()).abs().sort_values(ascending=False).head(3)
    higher = unit[lose].median() > unit[~lose].median()
    leads = ", ".join(f"{k.split('.')[-1]} ({'higher' if higher[k] else 'lower'})" for k in gap.index)
    why = ("too few for a PRIM box" if n < 3 or n > total - 3 else
           "PRIM finds no box that cuts a fifth off any parameter's range")
    return [f"{head}; {why}. Those worlds differ most from the rest in {leads} (median, as a share of each range)."]


def differences_figure(folder: Path, verdicts: dict[str, pd.DataFrame], outcomes: list[str], baseline: str,
                       confidence: float = 0.95, seeds: int = 2) -> str:
    """Each world's paired difference from the baseline with its interval over seeds, per headline outcome: one
    point per world, sorted, filled where the world is resolved (better or worse) and hollow grey where not."""
    columns = min(4, len(outcomes))
    rows = -(-len(outcomes) // columns)
    fig = Figure(figsize=(3.6 * columns, 3.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    for ax, outcome in zip(axes, outcomes, strict=False):
        for i, table in enumerate(verdicts.values()):
            mine = table[table["outcome"] == outcome].dropna(subset=["difference"]).sort_values("difference")
            x = i + np.linspace(-0.4, 0.4, len(mine)) if len(mine) > 1 else np.full(len(mine), float(i))
            for verdict, mark in MARKS.items():
                chosen = (mine["verdict"] == verdict).to_numpy()
                if not chosen.any():
                    continue
                sub = mine[chosen]
                ax.vlines(x[chosen], sub["ci_low"], sub["ci_high"], color=mark["color"], lw=0.9, alpha=0.8)
                ax.scatter(x[chosen], sub["difference"], s=18, marker=mark["marker"], zorder=3,
                           facecolors="white" if verdict == UNRESOLVED else mark["color"], edgecolors=mark["color"])
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xticks(range(len(verdicts)), list(verdicts), fontsize=8)
        ax.set_xlim(-0.6, len(verdicts) - 0.4)
        info = OUTCOMES[outcome]
        ax.set_title(f"{info.label}\n({'higher' if info.better == HIGHER else 'lower'} is better)", fontsize=9)
        ax.set_ylabel(f"difference from {baseline} ({info.unit})", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3, axis="y")
    handles = [Line2D([], [], marker=m["marker"], color=m["color"], markerfacecolor="white" if v == UNRESOLVED
                      else m["color"], lw=0.9, label=m["label"]) for v, m in MARKS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle("Paired difference from the baseline in each plausible world, sorted, "
                 + (f"with its {percent(confidence)} interval over the world's {seeds} seeds" if seeds > 1 else
                    "from one seed each (no interval: no world is resolved)"), fontsize=10)
    fig.savefig(folder / "differences_by_world.png", dpi=110)
    return "differences_by_world.png"


def place_units(differences: pd.DataFrame, scenario: str, population: float | None, residents: int,
                place: str) -> list[str]:
    """Crises, people and money at the place's real population (per 100,000 residents for a synthetic place)."""
    scale_to = population or PER_CAPITA
    where = f"{place} (population {population:,.0f}, ONS 2015 estimates)" if population else \
        f"a place of {PER_CAPITA:,} residents like the synthetic one"
    d = differences[differences["scenario"] == scenario].set_index("outcome")
    lines = [f"In {where}; mean over plausible worlds, and the central 95 % of worlds:", "",
             "| quantity | per year | range over worlds |", "|---|---|---|"]
    if "crises_per_1000_per_year" in d.index:
        r = d.loc["crises_per_1000_per_year"]
        k = scale_to / 1000.0
        lines.append(f"| crises averted | {-r['difference'] * k:,.0f} | {-r['high'] * k:,.0f} to "
                     f"{-r['low'] * k:,.0f} |")
    if "total_cost" in d.index:
        r = d.loc["total_cost"]
        k = scale_to / residents
        lines.append(f"| change in spend on the modelled services (GBP) | {r['difference'] * k:+,.0f} | "
                     f"{r['low'] * k:+,.0f} to {r['high'] * k:+,.0f} |")
    if "emergency_spells_per_1000_per_year" in d.index:
        r = d.loc["emergency_spells_per_1000_per_year"]
        k = scale_to / 1000.0
        lines.append(f"| emergency spells (e.g. temporary accommodation) averted | {-r['difference'] * k:,.0f} | "
                     f"{-r['high'] * k:,.0f} to {-r['low'] * k:,.0f} |")
    if "in_emergency_spell_per_1000" in d.index:
        r = d.loc["in_emergency_spell_per_1000"]
        k = scale_to / 1000.0
        lines.append(f"| residents in an emergency spell on an average day | {r['difference'] * k:+,.0f} | "
                     f"{r['low'] * k:+,.0f} to {r['high'] * k:+,.0f} |")
    if "hard_edges_share" in d.index:
        r = d.loc["hard_edges_share"]
        lines.append(f"| residents in severe and multiple disadvantage (high need in 2+ of housing, mental health, "
                     f"safety; on an average day) | {r['difference'] * scale_to:+,.0f} | "
                     f"{r['low'] * scale_to:+,.0f} to {r['high'] * scale_to:+,.0f} |")
    if "multiple_disadvantage_share" in d.index:
        r = d.loc["multiple_disadvantage_share"]
        lines.append(f"| residents with 3+ high needs at once (average over the years) | "
                     f"{r['difference'] * scale_to:+,.0f} | {r['low'] * scale_to:+,.0f} to "
                     f"{r['high'] * scale_to:+,.0f} |")
    return [*lines, ""]


def payback_lines(table: pd.DataFrame, years: int) -> list[str]:
    n = len(table)
    throughout = int(table["cheaper_throughout"].sum())
    later = table[~table["cheaper_throughout"] & table["payback_year"].notna()]
    never = n - throughout - len(later)
    text = (f"Spend (support, community and emergency) summed from the start of the reform: cheaper than the "
            f"baseline at every year's end in {throughout} of {n} worlds; costs more first and pays back within "
            f"{years} years in {len(later)}")
    if len(later):
        text += (f" (median year {later['payback_year'].median():.0f}, range {later['payback_year'].min():.0f}-"
                 f"{later['payback_year'].max():.0f})")
    return [text + f"; has not paid back by year {years} in {never}.", ""]


def write_report(folder: Path, config, runs: pd.DataFrame, parameters: pd.DataFrame, summary: pd.DataFrame,
                 differences: pd.DataFrame, paybacks: dict, population: float | None, versions: dict, wall: float,
                 where: str, command_line: list[str], table_path: str, journeys: tuple | None = None,
                 verdicts: pd.DataFrame | None = None) -> None:
    folder = Path(folder)
    settings, ensemble = config.compare, config.ensemble
    baseline, confidence = settings.baseline, settings.confidence
    others = [s for s in settings.scenarios if s != baseline]
    n_worlds = len(parameters)
    if verdicts is None:
        verdicts = world_verdicts(runs, settings.scenarios, baseline, confidence, REPORTED)
    per_world = {s: verdicts[verdicts["scenario"] == s] for s in others}
    seeds = int(runs.groupby(["scenario", "world"])["replicate"].nunique().min())
    figure = differences_figure(folder, per_world, COMPARISON_OUTCOMES, baseline, confidence, seeds)
    lines = [f"# {settings.title}: across {n_worlds} plausible worlds", ""]
    lines += [f"Ensemble **{ensemble.name}**: {n_worlds} worlds, each a setting of the {len(parameters.columns)} "
              f"uncertainties consistent with every observed pattern of calibration `{ensemble.calibration}` "
              f"(made with `{ensemble.made_with}`). Every scenario ran in every world on the **{config.place.name}** "
              f"place ({config.residents:,} residents, {config.burn_in_years} burn-in year(s) then {config.years} "
              f"evaluated years) with the same {ensemble.seeds_per_world} seed(s) per world, so differences are "
              "paired. Ranges below are over worlds: they carry what is not known about the place, not only the "
              "model's randomness.", ""]
    lines += resolved_lines(differences, others, baseline, seeds, confidence)
    if ensemble.notes:
        everyone = f"met by {n_worlds} of {n_worlds} worlds"
        unmet = [n for n in ensemble.notes if "check" in n and not n.endswith(everyone)]
        lines += ["What the worlds are consistent with (each observed pattern, from the calibration):", ""]
        lines += [*(f"- {n}" for n in ensemble.notes), ""]
        if unmet:
            lines += [f"**Read with care:** {len(unmet)} observed pattern(s) are not met by every world (checks, not "
                      "required: the calibration found them in conflict with the others in this model; "
                      "docs/CALIBRATION.md says why). The answer below holds for worlds that do not reproduce them.",
                      ""]
    for scenario in others:
        d = differences[differences["scenario"] == scenario].set_index("outcome")
        lines += [f"## The answer: {scenario} against {baseline}", ""]
        lines += [answer_line(pd.concat([d.loc[o], pd.Series({"outcome": o})]), scenario, baseline, confidence)
                  for o in COMPARISON_OUTCOMES if o in d.index]
        if seeds < 2:
            lines += ["", "**When it loses**: not asked. With one seed per world no world is clearly worse, so there "
                      "are no losing worlds to tell apart from the others."]
        else:
            lines += ["", f"**When it loses**: the worlds where it is clearly worse, against all the others (better "
                      f"or not resolved), over the {n_worlds} worlds' parameters (PRIM, EMA workbench):", ""]
            for outcome in COMPARISON_OUTCOMES:
                lines += losing_conditions(parameters, per_world[scenario], outcome)
        lines += ["", f"![Differences by world]({figure})", "", f"### In {config.place.name}'s own units", ""]
        lines += place_units(differences, scenario, population, config.residents, config.place.name)
        lines += ["### When it pays back", "", *payback_lines(paybacks[scenario], config.years)]
    if journeys is not None:
        world, scenario_params = journeys
        lines += [f"One typical world, world {world} (its wellbeing difference is the nearest to the median over "
                  "worlds), followed resident by resident:", ""]
        lines += write_journeys(folder, scenario_params)
    lines += ["## All reported outcomes", "",
              "Mean over worlds, with the central 95 % of worlds in brackets (summary.csv); the difference from "
              f"{baseline}, how many worlds are clearly better, clearly worse and not resolved, and the worst world "
              "(differences.csv; each world's interval and verdict: differences_by_world.csv).", "",
              "| outcome | " + " | ".join(settings.scenarios)
              + "".join(f" | {s} - {baseline} | worlds better / worse / not resolved | worst world" for s in others)
              + " |",
              "|---|" + "---|" * (len(settings.scenarios) + 3 * len(others))]
    table = summary.set_index(["outcome", "scenario"])
    diffs = differences.set_index(["outcome", "scenario"])
    for outcome in REPORTED:
        cells = [f"{fmt(outcome, table.loc[(outcome, s), 'mean'])} [{fmt(outcome, table.loc[(outcome, s), 'low'])}, "
                 f"{fmt(outcome, table.loc[(outcome, s), 'high'])}]" for s in settings.scenarios]
        for s in others:
            r = diffs.loc[(outcome, s)]
            cells.append(f"{signed(outcome, r['difference'])} [{signed(outcome, r['low'])}, "
                         f"{signed(outcome, r['high'])}]")
            cells.append("n/a" if not np.isfinite(r["share_worlds_better"]) else
                         f"{int(r['worlds_better'])} / {int(r['worlds_worse'])} / {int(r['worlds_unresolved'])}")
            cells.append("n/a" if not np.isfinite(r["worst_world_difference"]) else
                         signed(outcome, r["worst_world_difference"]))
        lines.append(f"| {OUTCOMES[outcome].title} | " + " | ".join(cells) + " |")
    command = shlex.join([".venv/bin/python", "-m", "experiments.compare", *command_line])
    lines += ["", "## How to read this", "",
              "- A world is one setting of every uncertainty (conf/ranges.yaml) that history matching could not "
              "rule out and whose simulation landed in every observed band (docs/CALIBRATION.md). The worlds are "
              "spread over what is plausible, not weighted by how likely each is; the shares are shares of that "
              "spread, and their intervals (Wilson) say how well a finite ensemble pins them down.",
              f"- Each world ran with {seeds} seed(s). A world is clearly better (or worse) only where the "
              f"{percent(confidence)} interval of its difference over those seeds lies wholly on that side of zero; "
              "otherwise it is not resolved: the difference there is within seed noise, and may be small or none. "
              "A difference of exactly zero is never better or worse. The shares are of all worlds, unresolved "
              "ones included; more seeds (ensemble.seeds_per_world=...) resolve more worlds. In a world with no "
              f"true difference the interval still misses zero about {percent(1 - confidence)} of the time, so expect "
              "that share of a large ensemble's worlds to be resolved by chance.",
              "- The single-point comparison (`.venv/bin/python -m experiments.compare`) is still there: it shows "
              "one world in detail (routes, behaviours, months).", "",
              "## Reproduce", "", "```", command, "```", "",
              f"Every run: table.parquet (its `overrides` re-run it with experiments.run; e.g. `{table_path}`). "
              "Worlds' parameters: worlds.csv; each world's difference, interval and verdict: "
              "differences_by_world.csv. Monthly indicators: timeseries.parquet.", "",
              f"{len(runs)} runs; this command's share took {wall:.0f} s on {where}. Versions: "
              + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    text = "\n".join(lines)
    (folder / "report.md").write_text(text)
    (folder / "report.html").write_text(html_page(text, folder, f"{settings.title}: across plausible worlds"))


def html_page(markdown_text: str, folder: Path, title: str) -> str:
    """The report as one self-contained HTML page: figures embedded as data URIs, no external requests."""
    import markdown

    def embed(match: re.Match) -> str:
        alt, name = match.group(1), match.group(2)
        path = Path(folder) / name
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{alt}](data:image/png;base64,{data})"

    body = markdown.markdown(re.sub(r"!\[([^\]]*)\]\(([^)]+\.png)\)", embed, markdown_text),
                             extensions=["tables", "fenced_code"])
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
             "line-height:1.45;color:#222}table{border-collapse:collapse;font-size:.9rem}"
             "td,th{border:1px solid #ccc;padding:.25rem .5rem}img{max-width:100%}"
             "code,pre{background:#f4f4f4}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{style}</style></head><body>{body}</body></html>\n")
