"""Residents' journeys drawn as timelines: the explorer's Journeys tab and the comparison report's journeys.png.

A timeline is one followed resident's weeks (``sim.journeys``): needs by domain, the doors they tried and what
happened there (bounces, refusals, brief help, waiting lists, cases opened and closed, warm hand-offs, signposts),
crises, and trust. :func:`write_journeys` runs one model per scenario at the comparison's first seed, follows the
same residents in each (chosen by the same rule from week 0, which the scenario does not change), and writes
journeys.png with a short text for report.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.gridspec import SubplotSpec

from sim.journeys import EVENTS, RULES, JourneyRecorder, choose_residents

DOMAIN_COLOURS = ["#c53030", "#6b46c1", "#b7791f", "#2f855a", "#2b6cb0", "#d53f8c", "#4a5568", "#319795"]
# event kind -> (marker, colour, size)
GLYPHS = {
    "asked": ("o", "#1a202c", 30), "failure_contact": ("o", "#c53030", 30), "chased": ("o", "#dd6b20", 22),
    "bounced": ("X", "#c53030", 55), "refused": ("X", "#742a2a", 55), "brief_help": ("D", "#2f855a", 30),
    "queued": (">", "#dd6b20", 35), "left_list": ("<", "#a0aec0", 30), "admitted": ("^", "#2f855a", 50),
    "closed": ("s", "#2f855a", 40), "closed_early": ("s", "#c53030", 40), "warm_handoff": ("*", "#6b46c1", 90),
    "signposted": ("d", "#718096", 35), "lost_referral": ("x", "#718096", 40), "crisis": ("*", "#c53030", 140),
}


def provider_names(domains: list[str], n_providers: int) -> list[str]:
    n_services = len(domains)
    return [d.replace("_", " ") for d in domains] + [f"community org {i + 1}" for i in range(n_providers - n_services)]


def draw_timeline(fig: Figure, cell: SubplotSpec, rec: JourneyRecorder, resident: int, domains: list[str],
                  need_threshold: float, weeks: tuple[int, int] | None = None, title: str = "",
                  compact: bool = False, burn_in_weeks: int = 0) -> list:
    """One resident's timeline in ``cell``: needs (top), doors and cases (middle), trust (bottom, unless compact).

    Rows of the middle panel are the six services and "community org" (the resident's local one). Bars: orange =
    on a waiting list, green = in a case, grey = holding a signpost. Returns the axes drawn."""
    slot = int(rec.slot[resident])
    all_weeks = rec.weeks()
    first, last = weeks if weeks else (int(all_weeks[0]), int(all_weeks[-1]))
    last = min(last, int(all_weeks[-1]))
    span = slice(first - rec.start, last - rec.start + 1)
    x = np.arange(first, last + 1)
    ratios = [2.2, 1.6] if compact else [2.2, 1.8, 1.0]
    grid = cell.subgridspec(len(ratios), 1, height_ratios=ratios, hspace=0.08)
    axes = [fig.add_subplot(grid[i]) for i in range(len(ratios))]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    n_services = len(domains)
    # needs
    ax = axes[0]
    need = rec.need[span, slot]
    for d, name in enumerate(domains):
        ax.plot(x, need[:, d], color=DOMAIN_COLOURS[d % len(DOMAIN_COLOURS)], linewidth=1.3, label=name)
    ax.axhline(need_threshold, color="#a0aec0", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("need (0-1)", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, labelspacing=0.2,
              handlelength=1.2, borderaxespad=0.3)
    if burn_in_weeks and first < burn_in_weeks:
        for a in axes:
            a.axvspan(first, min(burn_in_weeks, last), color="#edf2f7", zorder=0)
    events = [e for e in rec.events_of(resident) if first <= e.week <= last]
    crises = [e.week for e in events if e.kind == "crisis"]
    if crises:
        ax.scatter(crises, [1.0] * len(crises), marker="*", s=140, color="#c53030", zorder=3, label="crisis")
    if title:
        ax.set_title(title, fontsize=9 if compact else 10, loc="left")
    # doors and cases: one row per service, then the community organisation
    ax = axes[1]
    rows = n_services + 1

    def row_of(provider: int) -> int:
        return provider if 0 <= provider < n_services else n_services

    for array, colour in ((rec.wait_provider, "#fbd38d"), (rec.case_provider, "#9ae6b4"),
                          (rec.referral_target, "#e2e8f0")):
        status = array[span, slot].astype(int)
        for provider in np.unique(status[status >= 0]).tolist():
            on = status == provider
            starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
            ends = np.flatnonzero(on & ~np.r_[on[1:], False])
            ax.broken_barh([(x[a] - 0.5, b - a + 1) for a, b in zip(starts, ends, strict=True)],
                           (row_of(provider) - 0.35, 0.7), color=colour, zorder=1)
    for kind, (marker, colour, size) in GLYPHS.items():
        chosen = [e for e in events if e.kind == kind and e.kind != "crisis"]
        if chosen:
            edges = {} if marker in ("x", "+") else {"linewidths": 0.5, "edgecolors": "white"}
            ax.scatter([e.week for e in chosen], [row_of(e.provider) for e in chosen], marker=marker, s=size,
                       color=colour, zorder=3, **edges)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_yticks(range(rows), [d.replace("_", " ") for d in domains] + ["community org"], fontsize=7.5)
    ax.grid(axis="y", color="#edf2f7", linewidth=0.6)
    if not compact:
        ax3 = axes[2]
        trust = rec.trust[span, slot]
        ax3.plot(x, trust[:, :n_services].mean(axis=1), color="#6b46c1", linewidth=1.3, label="trust in services")
        ax3.plot(x, trust[:, n_services], color="#319795", linewidth=1.3, label="trust in community org")
        ax3.plot(x, rec.wellbeing[span, slot], color="#2f855a", linewidth=1.3, linestyle="--", label="wellbeing")
        ax3.set_ylim(0, 1)
        ax3.set_ylabel("0-1", fontsize=8)
        ax3.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    for a in axes[:-1]:
        a.tick_params(labelbottom=False)
    for a in axes:
        a.tick_params(labelsize=7.5)
    axes[-1].set_xlabel("week", fontsize=8)
    axes[0].set_xlim(first - 0.5, last + 0.5)
    return axes


def glyph_legend(fig: Figure, y: float = 0.0, ncol: int = 8) -> None:
    """The markers' key, across the bottom of ``fig``."""
    handles, labels = [], []
    for kind, (marker, colour, size) in GLYPHS.items():
        handles.append(_proxy(marker, colour, size))
        labels.append(EVENTS[kind][0])
    bars = (("#fbd38d", "on a waiting list"), ("#9ae6b4", "in a case"), ("#e2e8f0", "holding a signpost"))
    for colour, label in bars:
        handles.append(_bar(colour))
        labels.append(label)
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, y), ncol=ncol, fontsize=7.5, frameon=False,
               handletextpad=0.3, columnspacing=1.0)


def _proxy(marker, colour, size):
    from matplotlib.lines import Line2D

    return Line2D([], [], marker=marker, color=colour, linestyle="none", markersize=max(4.0, np.sqrt(size) * 0.9))


def _bar(colour):
    from matplotlib.patches import Patch

    return Patch(color=colour)


def journey_summary(rec: JourneyRecorder, resident: int, first: int = 0, last: int | None = None) -> dict[str, int]:
    """How many of each event the resident had between weeks ``first`` and ``last``."""
    last = rec.start + rec.weeks_recorded if last is None else last
    counts = dict.fromkeys(EVENTS, 0)
    for e in rec.events_of(resident):
        if first <= e.week <= last:
            counts[e.kind] += 1
    return counts


def summary_text(counts: dict[str, int]) -> str:
    """'4 contacts (2 failure demand), 1 bounce, ...' in plain words."""
    parts = [f"{counts['asked'] + counts['failure_contact'] + counts['chased']} contacts "
             f"({counts['failure_contact'] + counts['chased']} failure demand)"]
    for kind, word in (("bounced", "bounced"), ("refused", "refused"), ("brief_help", "brief help"),
                       ("queued", "waiting lists joined"), ("admitted", "cases opened"),
                       ("closed_early", "closed early"), ("warm_handoff", "warm hand-offs"),
                       ("signposted", "signposts"), ("lost_referral", "signposts lapsed"), ("crisis", "crises")):
        if counts[kind]:
            parts.append(f"{counts[kind]} {word}")
    return ", ".join(parts)


# --- the comparison report ------------------------------------------------------------------------------------
REPORT_RULE = "multiple high needs, deprived"
REPORT_RESIDENTS = 3


def write_journeys(folder: Path, scenario_params: dict, residents: int = REPORT_RESIDENTS) -> list[str]:
    """Run each scenario once (its first replicate's parameters), follow the same residents, draw journeys.png
    into ``folder``; return report.md lines (a heading, the figure and one line per resident and scenario)."""
    from sim import PlaceModel

    runs = {}
    for scenario, params in scenario_params.items():
        model = PlaceModel(params, resident_agents=False)
        while model.steps < 52 * params.burn_in_years:  # every scenario is the same place until the burn-in ends
            model.step()
        rows = choose_residents(model, REPORT_RULE, residents)
        rec = model.follow(rows)
        model.run()
        runs[scenario] = (model, rows, rec)
    first_model, rows, _ = next(iter(runs.values()))
    burn = 52 * first_model.params.burn_in_years
    window = (burn + 1, min(burn + 3 * 52, first_model.n_weeks))  # the first three years of the route
    scenarios = list(runs)
    fig = Figure(figsize=(6.2 * len(scenarios), 3.1 * len(rows) + 0.9))
    outer = fig.add_gridspec(len(rows), len(scenarios), left=0.08, right=0.92, top=0.95, bottom=0.12,
                             hspace=0.45, wspace=0.22)
    lines = ["## One person's years: journeys", "",
             f"The same {len(rows)} residents in each scenario, chosen when the burn-in ends (when every scenario is "
             f"still the same place) by one rule: "
             f"{RULES[REPORT_RULE]} (seed {first_model.params.seed}, the first replicate). Each panel shows "
             f"needs by domain, then the doors they tried and what happened there, over the first three years of "
             f"the route (weeks {window[0]}-{window[1]}). One run each, so these are illustrations, not "
             "estimates.", "", "![journeys](journeys.png)", ""]
    for i, resident in enumerate(rows.tolist()):
        for j, scenario in enumerate(scenarios):
            model, _, rec = runs[scenario]
            draw_timeline(fig, outer[i, j], rec, resident, model.domains, model.params.relations.need_threshold,
                          window, title=f"{scenario} · resident {resident}", compact=True)
            counts = journey_summary(rec, resident, *window)
            lines.append(f"- resident {resident}, {scenario}: {summary_text(counts)}.")
    glyph_legend(fig, 0.0, ncol=6)
    fig.savefig(folder / "journeys.png", dpi=110)
    return [*lines, ""]
