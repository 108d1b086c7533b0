"""The decomposition's outputs: effects.csv, design.csv, a waterfall per outcome, report.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outcomes import HIGHER, OUTCOMES

from ..stats.comparison import confidence_interval
from ..stats.factorial import SILO, effects_table, fit, full_reform_interval, interaction_share, waterfall_steps
from .report import fmt


def waterfall(steps: list[tuple[str, float]], observed: float, silo_simulated: float, outcome: str,
              path: Path) -> None:
    """Silo, then each step up or down to the full reform; dots: the simulated full reform and silo."""
    info = OUTCOMES[outcome]
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    level = 0.0
    labels = []
    for i, (name, value) in enumerate(steps):
        if i == 0:
            ax.bar(i, value, color="#7f8c8d")
            level = value
        else:
            good = (value > 0) == (info.better == HIGHER)
            ax.bar(i, value, bottom=level, color="#2471a3" if good else "#c0392b")
            level += value
        labels.append(name.replace("_", " ").replace(":", " x\n"))
    ax.bar(len(steps), level, color="#239b56")
    labels.append("full reform\n(fitted)")
    ax.plot([len(steps)], [observed], "ko", label="full reform, simulated")
    ax.plot([0], [silo_simulated], "kx", label="silo scenario, simulated")
    running = np.cumsum([v for _, v in steps])
    marks = [v for v in (observed, silo_simulated) if np.isfinite(v)]
    low, high = min([running.min(), *marks]), max([running.max(), *marks])  # marks may be empty (NaN)
    pad = (high - low) * 0.15 or abs(high) * 0.01 or 1.0
    ax.set_ylim(low - pad, high + pad)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(info.title, fontsize=8)
    ax.set_title(f"{info.label}: silo to the full reform, part by part (blue: better, red: worse)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=110)


def write_decomposition(folder: Path, config, factors: list[str], design: np.ndarray, argv: list[str],
                        wall: float) -> None:
    """Effects, design, figures and report from the study's table; each file replaces its old version whole."""
    from ..engine import store
    from ..engine.cli import relative
    from ..engine.runner import versions

    settings = config.decompose
    table = pd.read_parquet(folder / "table.parquet")
    runs = table[table["point"] >= 0]
    silo = table[table["point"] < 0]
    means = runs.groupby("point")[settings.outcomes].mean().sort_index()
    levels = design[runs["point"].to_numpy(dtype=int)]  # one row per run: each point once per seed
    k = len(factors)
    design_frame = pd.DataFrame(design.astype(int), columns=factors).rename_axis("point").reset_index()
    effects, fits, left_out = [], {}, {}
    for outcome in settings.outcomes:
        y = runs[outcome].to_numpy(dtype=float)
        finite = np.isfinite(y)  # an undefined outcome (no admissions: no wait) leaves its run out of this fit
        left_out[outcome] = int((~finite).sum())
        fits[outcome] = fit(levels[finite], y[finite], factors)
        effects.append(effects_table(fits[outcome], outcome, settings.confidence))
    effects = pd.concat(effects, ignore_index=True)
    full_point = int(np.flatnonzero(design.all(axis=1))[0])

    def write(tmp: Path) -> None:
        effects.to_csv(tmp / "effects.csv", index=False)
        design_frame.to_csv(tmp / "design.csv", index=False)
        lines = report_lines(config, factors, fits, effects, means, full_point, silo, len(runs), wall, argv,
                             relative(folder / "table.parquet"), left_out, bool((design == 0).all(axis=1).any()))
        for outcome in settings.outcomes:
            steps = waterfall_steps(fits[outcome], k)
            if np.isfinite([v for _, v in steps]).all():
                waterfall(steps, float(means.loc[full_point, outcome]), float(silo[outcome].mean()), outcome,
                          tmp / f"waterfall_{outcome}.png")
        lines += ["", f"Versions: {', '.join(f'{a} {b}' for a, b in versions().items())}.", ""]
        (tmp / "report.md").write_text("\n".join(lines))

    for old in folder.glob("waterfall_*.png"):  # figures of outcomes this decomposition no longer reports
        if old.stem.removeprefix("waterfall_") not in settings.outcomes:
            old.unlink()
    store.write_into(folder, write)


def _signed(outcome: str, value: float) -> str:
    """A difference in the outcome's units, signed, one decimal place more than its level."""
    spec = OUTCOMES[outcome].fmt
    digits = int(spec.rsplit(".", 1)[1].rstrip("f")) + 1 if "." in spec else 1
    return format(value, f"+,.{digits}f")


def report_lines(config, factors, fits, effects, means, full_point, silo, n_runs, wall, argv, table_path,
                 left_out: dict[str, int], silo_in_design: bool) -> list[str]:
    import shlex

    from sim.params import INFRASTRUCTURE_PARTS
    from sim.route import PRACTICE_COMPONENTS

    settings = config.decompose
    k = len(factors)
    ci = f"{settings.confidence:.0%}"
    lines = [f"# {settings.title}", "",
             f"Which parts of **{settings.scenario}** buy what, on the **{config.place.name}** place "
             f"({config.residents:,} residents, {config.burn_in_years} burn-in + {config.years} years). Each of "
             f"{k} factors is either at its silo level or reformed; the {len(means)} design points form a two-level "
             f"fractional factorial of resolution V (pyDOE3), each run with the same {settings.n_seeds} replicate "
             f"seed(s), so every main effect and every interaction of two factors is estimated ({n_runs} runs). "
             "Effects are in the outcome's own units. *On its own* is what a factor buys when every other factor "
             "is at its silo level; an interaction a x b is what the two buy together beyond the sum of their "
             f"parts. Intervals are {ci} t-intervals (they hold seed noise and any interaction of three or more "
             "factors); silo to the full reform is the sum of every step.", "",
             "Factors: " + "; ".join(f"`{f}`" for f in factors) + ".", ""]
    lines += ["## Silo to the full reform", "",
              "| outcome | silo corner (fitted) | silo scenario (simulated) | full reform (simulated) | silo to full "
              "reform (fitted) | share from interactions |", "|---|---|---|---|---|---|"]
    for outcome, result in fits.items():
        total, low, high = full_reform_interval(result, k, settings.confidence)
        share, s_low, s_high = interaction_share(result, k, settings.confidence)
        mean, s_lo, s_hi = confidence_interval(silo[outcome].to_numpy(dtype=float), settings.confidence)
        if not np.isfinite(low):
            share_text = f"{share:.0%} (no interval: add seeds)"
        elif low <= 0 <= high:
            share_text = "n/a (no clear total)"
        else:
            share_text = f"{share:.0%} [{s_low:.0%}, {s_high:.0%}]"
        lines.append(f"| {OUTCOMES[outcome].title} | {fmt(outcome, result.coefficients[0])} | "
                     f"{fmt(outcome, mean)} [{fmt(outcome, s_lo)}, {fmt(outcome, s_hi)}] | "
                     f"{fmt(outcome, means.loc[full_point, outcome])} | {_signed(outcome, total)} "
                     f"[{_signed(outcome, low)}, {_signed(outcome, high)}] | "
                     f"{share_text} |")
    corner = ("The silo corner is a design point here, and is fitted like the rest" if silo_in_design else
              "The silo corner is not a design point (a resolution V fraction leaves it out): it is fitted")
    every = set(factors) == {*PRACTICE_COMPONENTS, *INFRASTRUCTURE_PARTS}
    check = ("; the silo scenario, simulated with the same seeds, checks it." if every else
             ". The silo scenario is shown but is not a check here: factors left out of `decompose.factors` stay "
             "reformed at the silo corner.")
    lines += ["", corner + check + " *Share from interactions* answers \"is the whole more than the sum of its "
              "parts?\": the part of silo-to-full-reform that no factor buys on its own.", ""]
    for outcome, n in left_out.items():
        if n:
            lines += [f"{n} of {n_runs} runs have no value for {OUTCOMES[outcome].label.lower()} (e.g. no one "
                      "started support, so there is no wait) and are left out of its fit.", ""]
    n_terms = len(next(iter(fits.values())).terms) - 1
    lines += [f"Each outcome has {n_terms} terms; at {ci} about {1 - settings.confidence:.0%} of terms with no real "
              "effect still look clear by chance, so read small clear terms with care.", ""]
    for outcome in settings.outcomes:
        info = OUTCOMES[outcome]
        rows = effects[(effects["outcome"] == outcome) & (effects["term"] != SILO)]
        clear = rows[(rows["ci_low"] > 0) | (rows["ci_high"] < 0)]
        sign = 1 if info.better == HIGHER else -1
        helps = clear[clear["effect"] * sign > 0].sort_values("effect", key=lambda e: -abs(e))
        hurts = clear[clear["effect"] * sign < 0].sort_values("effect", key=lambda e: -abs(e))

        def listed(frame: pd.DataFrame, outcome: str = outcome) -> str:
            return "; ".join(f"`{r.term}` {_signed(outcome, r.effect)} [{_signed(outcome, r.ci_low)}, "
                             f"{_signed(outcome, r.ci_high)}]" for r in frame.head(6).itertuples()) or "none clearly"

        lines += [f"## {info.label}", "", f"![Waterfall](waterfall_{outcome}.png)", "",
                  f"- Clearly better ({info.better} is better): {listed(helps)}.",
                  f"- Clearly worse: {listed(hurts)}.", ""]
    lines += ["Every term and its interval: `effects.csv`; the design: `design.csv`; each run, with the overrides "
              "that re-run it: `table.parquet`.", "", "## Reproduce", "", "```",
              shlex.join([".venv/bin/python", "-m", "experiments.decompose", *argv]), "```", "",
              f"One run: `.venv/bin/python -c \"import pandas as pd; print(pd.read_parquet('{table_path}')"
              ".overrides[0])\" | xargs .venv/bin/python -m experiments.run`.", "",
              f"This command's share took {wall:.0f} s."]
    return lines
