"""What the explorer draws: the run's monthly plots, neighbourhoods, the provider network, behaviours, comparisons.

Each ``*_figure`` function takes plain data (a model, or kept runs) and returns a matplotlib Figure (object-oriented
API, never pyplot, so sessions in different threads do not share a figure). :func:`png` turns one into the bytes
the page shows. Axes have fixed or only-growing ranges so that a plot does not jump while a run plays; series are
four-week months (ODD 7.11), counts as yearly rates per 1,000 residents so that runs of any size compare.
"""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.figure import Figure

import experiments
from sim.behaviours import BEHAVIOURS
from sim.indicators import WEEKLY_COLUMNS

from .model import ExplorerModel

DOCS = Path(experiments.__file__).parents[1] / "docs"
INFO_PATH = DOCS / "INFO.md"
COLUMN = {name: i for i, name in enumerate(WEEKLY_COLUMNS)}
WEEKS_PER_MONTH = 4
MIN_TIE_DRAWN = 0.02  # weaker ties are not drawn (the starting ties, 0.05, show as hairlines)
DPI = 80
# What the neighbourhood view can show: (colour bar label, colour map - green is good, fixed colour range)
MEASURES = {
    "wellbeing": ("mean wellbeing (0-1)", "RdYlGn", (0.70, 0.95)),
    "unmet need": ("mean unmet need per resident", "RdYlGn_r", (0.0, 0.3)),
    "trust": ("mean trust in providers (0-1)", "RdYlGn", (0.30, 0.70)),
}
BLUE, RED, GREEN, PURPLE, ORANGE, GREY = "#2b6cb0", "#c53030", "#2f855a", "#6b46c1", "#dd6b20", "#718096"
RUN_COLOURS = ["#1a202c", "#2b6cb0", "#c53030", "#2f855a", "#dd6b20", "#6b46c1", "#b7791f"]


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


# --- data ------------------------------------------------------------------------------------------------------
def neighbourhood_values(model: ExplorerModel, measure: str) -> np.ndarray:
    """This week's mean of ``measure`` per neighbourhood (residents weighted equally)."""
    per_resident = {
        "wellbeing": model.residents.wellbeing,
        "unmet need": model.residents.unmet_by_resident,
        "trust": model.residents.trust.mean(axis=1),
    }[measure]
    k = model.place.n_neighbourhoods
    return np.bincount(model.residents.home, weights=per_resident, minlength=k) / model.residents_per_neighbourhood


def monthly_series(weekly: np.ndarray, n_residents: int, burn_in_weeks: int) -> dict[str, np.ndarray]:
    """Four-week months of a weekly table (the weeks run so far; the last month may be partial).

    Counts become yearly rates per 1,000 residents (crises, contacts), spend GBP per resident a year, states are
    month means. ``t`` is each month's end in years since the burn-in ended.
    """
    weeks = weekly.shape[0]
    if weeks == 0:
        return {"t": np.zeros(0)}
    block = np.arange(weeks) // WEEKS_PER_MONTH
    n_blocks = int(block[-1]) + 1
    per_block = np.bincount(block, minlength=n_blocks).astype(float)

    def total(name: str) -> np.ndarray:
        return np.bincount(block, weights=weekly[:, COLUMN[name]], minlength=n_blocks)

    def mean(name: str) -> np.ndarray:
        return total(name) / per_block

    yearly_per_1000 = 52.0 * 1000.0 / n_residents / per_block
    value, failure = total("contacts_value"), total("contacts_failure")
    contacts = value + failure
    ends = np.minimum((np.arange(n_blocks) + 1) * WEEKS_PER_MONTH, weeks)
    return {
        "t": (ends - burn_in_weeks) / 52.0,
        "mean_wellbeing": mean("mean_wellbeing"),
        "contacts_value": value * yearly_per_1000,
        "contacts_failure": failure * yearly_per_1000,
        "failure_share": np.divide(100.0 * failure, contacts, out=np.full(n_blocks, np.nan), where=contacts > 0),
        "waiting": mean("waiting") * 1000.0 / n_residents,
        "in_support": mean("in_support") * 1000.0 / n_residents,
        "crises": total("crises") * yearly_per_1000,
        "spend_prevention": (total("spend_support") + total("spend_community")) * 52.0 / n_residents / per_block,
        "spend_emergency": total("spend_emergency") * 52.0 / n_residents / per_block,
        "trust": mean("mean_resident_trust"),
        "adoption": mean("adoption"),
    }


def indicator_series(model: ExplorerModel) -> dict[str, np.ndarray]:
    """The monthly series the Model tab plots, for the weeks run so far."""
    return monthly_series(model.weekly[: model.steps], model.n_residents, 52 * model.params.burn_in_years)


def _ceiling(values: np.ndarray, floor: float) -> float:
    """A round upper limit at least ``floor`` that clears the data by a tenth."""
    top = float(np.nanmax(values)) * 1.1 if values.size and np.isfinite(values).any() else 0.0
    top = max(top, floor)
    magnitude = 10 ** np.floor(np.log10(top))
    return float(np.ceil(top / magnitude * 2) / 2 * magnitude)


# --- the run's plots -------------------------------------------------------------------------------------------
PANELS = [  # (title with unit, [(series, label, colour)], kind, (y floor for the upper limit) or fixed limits)
    ("Mean wellbeing (0-1)", [("mean_wellbeing", "residents' mean wellbeing", GREEN)], "line", "wellbeing"),
    ("Contacts per 1,000 residents a year", [("contacts_value", "value demand", BLUE),
                                              ("contacts_failure", "failure demand", RED)], "stack", 500.0),
    ("Failure demand, % of contacts", [("failure_share", "failure demand share", RED)], "line", (0.0, 100.0)),
    ("Waiting list, per 1,000 residents", [("waiting", "waiting", ORANGE), ("in_support", "in support", BLUE)],
     "line", 20.0),
    ("Crises per 1,000 residents a year", [("crises", "crises", RED)], "line", 20.0),
    ("Spend, GBP per resident a year", [("spend_prevention", "support + community", BLUE),
                                         ("spend_emergency", "emergency", RED)], "stack", 100.0),
    ("Trust; new way (0-1)", [("trust", "residents' trust in providers", PURPLE),
                              ("adoption", "providers working the new way (share)", ORANGE)], "line", (0.0, 1.0)),
]


def _time_axis(ax, burn_in_years: int, years: int) -> None:
    ax.set_xlim(-burn_in_years, years)
    if burn_in_years:
        ax.axvspan(-burn_in_years, 0, color="#edf2f7", zorder=0)
    ax.set_xticks(range(-burn_in_years, years + 1, 2 if years > 6 else 1))
    ax.grid(axis="y", color="#e2e8f0", linewidth=0.6)


def _wellbeing_limits(values: list[np.ndarray]) -> tuple[float, float]:
    data = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    low = min(0.80, np.floor(data.min() * 20) / 20) if data.size else 0.80
    high = max(0.90, np.ceil(data.max() * 20) / 20) if data.size else 0.90
    return float(low), float(high)


def plots_figure(model: ExplorerModel) -> Figure:
    """The run so far, month by month: wellbeing, demand, failure-demand share, waiting, crises, spend, trust."""
    s = indicator_series(model)
    return runs_figure([(s, "", "#1a202c")], model.params.burn_in_years, model.params.years,
                       note=_note(model), empty=model.steps == 0)


def _note(model: ExplorerModel) -> str:
    p = model.params
    return (f"{p.scenario.name} · {p.place.name}\n{model.n_residents:,} residents · seed {p.seed}\n"
            f"shaded: burn-in (needs settle;\nthe route starts at year 0)\neach point: a 4-week month")


def runs_figure(runs: list[tuple[dict, str, str]], burn_in_years: int, years: int, note: str = "",
                empty: bool = False) -> Figure:
    """Monthly panels for one run or several overlaid: each run is (monthly series, label, colour)."""
    fig = Figure(figsize=(13.5, 6.0))
    fig.subplots_adjust(left=0.045, right=0.99, top=0.95, bottom=0.17, hspace=0.75, wspace=0.28)
    axes = fig.subplots(2, 4).ravel()
    several = len(runs) > 1
    for ax, (title, lines, kind, limits) in zip(axes, PANELS, strict=False):
        _time_axis(ax, burn_in_years, years)
        ax.set_title(title, fontsize=11)
        ax.tick_params(labelsize=9)
        ax.set_xlabel("years since the burn-in ended", fontsize=9)
        tops = []
        for series, run_label, run_colour in runs:
            t = series["t"]
            if several:  # one colour per run; a second series of the panel is dashed
                for i, (key, _label, _) in enumerate(lines):
                    ax.plot(t, series.get(key, np.zeros(0)), color=run_colour, linewidth=1.5,
                            linestyle="-" if i == 0 else "--", label=run_label if i == 0 else None)
                    tops.append(series.get(key, np.zeros(0)))
            elif kind == "stack" and t.size:
                base = np.zeros(t.size)
                for key, label, colour in lines:
                    ax.fill_between(t, base, base + series[key], color=colour, alpha=0.55, label=label,
                                    linewidth=0, step=None)
                    base = base + series[key]
                tops.append(base)
            elif kind != "stack":
                for key, label, colour in lines:
                    if t.size:
                        ax.plot(t, series[key], color=colour, linewidth=1.6, label=label)
                        tops.append(series[key])
                    else:
                        ax.plot([], [], color=colour, linewidth=1.6, label=label)
            if kind == "stack" and not t.size and not several:
                for _key, label, colour in lines:
                    ax.fill_between([], [], [], color=colour, alpha=0.55, label=label)
        if limits == "wellbeing":
            ax.set_ylim(*_wellbeing_limits(tops))
        elif isinstance(limits, tuple):
            ax.set_ylim(*limits)
        else:
            ax.set_ylim(0, _ceiling(np.concatenate([np.asarray(v, float) for v in tops]) if tops else np.zeros(0),
                                    limits))
        if several and len(lines) > 1:
            ax.text(0.0, -0.27, f"solid: {lines[0][1]}\ndashed: {lines[1][1]}", transform=ax.transAxes,
                    fontsize=8, ha="left", va="top", color="#4a5568")
        if not several:
            ax.legend(fontsize=8.5, loc="upper left", bbox_to_anchor=(-0.02, -0.27), ncol=1 if len(lines) > 1 and
                      max(len(label) for _, label, _ in lines) > 16 else 2, frameon=False, borderaxespad=0.0,
                      handlelength=1.5, columnspacing=1.0, labelspacing=0.2)
        if empty:
            ax.text(0.5, 0.5, "week 0", transform=ax.transAxes, ha="center", va="center", color="#a0aec0",
                    fontsize=12)
    key_ax = axes[-1]
    key_ax.set_axis_off()
    if several:
        handles = [key_ax.plot([], [], color=c, linewidth=2.5)[0] for _, _, c in runs]
        key_ax.legend(handles, [label for _, label, _ in runs], loc="upper left", fontsize=9, frameon=False,
                      title="runs", title_fontsize=10, borderaxespad=0.0)
    else:
        text = note + ("\n\nPress ▶ Play, Step or Run 1 year:\nthe plots fill in month by month." if empty else "")
        key_ax.text(0.0, 1.0, text, fontsize=10, va="top", transform=key_ax.transAxes)
    return fig


# --- neighbourhoods --------------------------------------------------------------------------------------------
def neighbourhood_figure(model: ExplorerModel, measure: str = "wellbeing", order: str = "deprivation",
                         group_names: list[str] | None = None) -> Figure:
    """One square per neighbourhood coloured by ``measure`` on a fixed scale (the same all run).

    ``order="deprivation"``: reading order is deprivation, most deprived top left (the data hold no map
    coordinates, so this is a ranking, not a map). ``order="area"``: one column per community organisation's area
    (an MSOA in a real place), the most deprived area left and each area's most deprived neighbourhood on top.
    """
    label, cmap, (low, high) = MEASURES[measure]
    values = neighbourhood_values(model, measure)
    deprivation = model.place.overall_deprivation
    k = values.size
    fig = Figure(figsize=(6.4, 3.9), layout="constrained")
    ax = fig.subplots()
    if order == "area":
        cluster = model.place.org_cluster
        n_groups = int(cluster.max()) + 1
        area_dep = np.bincount(cluster, weights=deprivation, minlength=n_groups) / np.bincount(cluster)
        areas = np.argsort(-area_dep, kind="stable")
        tallest = int(np.bincount(cluster).max())
        grid = np.full((tallest, n_groups), np.nan)
        for column, area in enumerate(areas):
            members = np.flatnonzero(cluster == area)
            members = members[np.argsort(-deprivation[members], kind="stable")]
            grid[: members.size, column] = values[members]
        image = ax.imshow(grid, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        if group_names:  # MSOA names: "Gateshead 027" -> "027"
            names = [n.rsplit(" ", 1)[-1] for n in group_names]
            what = f"MSOAs of {group_names[0].rsplit(' ', 1)[0]}"
        else:
            names, what = [f"{i + 1}" for i in range(n_groups)], "areas"
        ax.set_xticks(range(n_groups), [names[a] for a in areas], fontsize=7 if n_groups > 20 else 9,
                      rotation=90 if n_groups > 10 else 0)
        ax.set_yticks([])
        ax.set_xlabel(f"{what} (one community organisation each), most deprived left", fontsize=9)
        ax.set_ylabel("neighbourhoods,\nmost deprived on top", fontsize=9)
    else:
        order_ix = np.argsort(-deprivation, kind="stable")
        width = int(np.ceil(np.sqrt(k * 1.6)))
        height = int(np.ceil(k / width))
        grid = np.full(height * width, np.nan)
        grid[:k] = values[order_ix]
        image = ax.imshow(grid.reshape(height, width), cmap=cmap, vmin=low, vmax=high)
        ax.set_xticks([])
        ax.set_yticks(range(height), [f"{r * width + 1}-{min((r + 1) * width, k)}" for r in range(height)],
                      fontsize=8)
        ax.set_ylabel("deprivation rank\n(1 = most deprived)", fontsize=9)
    ax.set_title(f"{k} neighbourhoods: {measure} · week {model.steps}", fontsize=11)
    bar = fig.colorbar(image, ax=ax, shrink=0.85, extend="both")
    bar.set_label(label, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return fig


def area_names(model: ExplorerModel) -> list[str] | None:
    """The name of each community organisation's area, in organisation order: an MSOA name ("Gateshead 027") for a
    real place (its organisations are one per MSOA, sim/place.py), None for the synthetic place."""
    place = model.params.place
    if not getattr(place, "data_file", ""):
        return None
    import csv
    import re

    path = Path(experiments.__file__).parents[1] / "sim" / "data" / "places" / place.data_file
    with path.open(newline="") as handle:
        msoa = sorted({re.sub(r"[A-Z]$", "", row["lsoa11_name"]) for row in csv.DictReader(handle)})
    return msoa if len(msoa) == model.n_providers - model.n_services else None


# --- the provider network ----------------------------------------------------------------------------------------
NETWORK_MODES = ("each org", "orgs grouped", "services only")


def provider_graph(model: ExplorerModel) -> nx.Graph:
    """Providers as nodes (services, then community organisations); ties as weighted edges."""
    graph = nx.Graph()
    for i in range(model.n_providers):
        is_service = i < model.n_services
        name = model.domains[i] if is_service else f"org {i - model.n_services + 1}"
        graph.add_node(i, name=name, service=is_service, open=bool(model.providers.open[i]),
                       adopted=bool(model.practice.adopted[i]))
    rows, cols = np.nonzero(np.triu(model.providers.ties, 1) >= MIN_TIE_DRAWN)
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        graph.add_edge(a, b, weight=float(model.providers.ties[a, b]))
    return graph


def default_network_mode(model: ExplorerModel) -> str:
    return NETWORK_MODES[0] if model.n_providers - model.n_services <= 12 else NETWORK_MODES[1]


def _node_colour(open_: bool, adopted: float) -> str:
    if not open_:
        return "#cbd5e0"
    return ORANGE if adopted >= 0.5 else BLUE


def network_figure(model: ExplorerModel, mode: str | None = None) -> Figure:
    """Services (labelled squares) in a ring; community organisations around them, as one group, or hidden.

    Line width is tie strength; dark lines are working relationships (tie >= ``tie_threshold``)."""
    mode = mode or default_network_mode(model)
    s, p = model.n_services, model.n_providers
    working = model.params.relations.tie_threshold
    fig = Figure(figsize=(6.4, 3.9), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    angle = np.linspace(0, 2 * np.pi, s, endpoint=False) + np.pi / 2
    position = {i: (np.cos(a), np.sin(a)) for i, a in enumerate(angle)}
    ties = model.providers.ties
    edges: list[tuple[int, int, float]] = []
    open_ = model.providers.open
    adopted = model.practice.adopted.astype(float)
    labels = {i: model.domains[i].replace("_", " ") for i in range(s)}
    if mode == NETWORK_MODES[0]:
        orgs = list(range(s, p))
        for j, o in enumerate(orgs):
            a = 2 * np.pi * j / max(len(orgs), 1) + np.pi / 2
            position[o] = (2.0 * np.cos(a), 2.0 * np.sin(a))
        nodes = list(range(p))
        edges = [(a, b, float(ties[a, b])) for a in range(p) for b in range(a + 1, p) if ties[a, b] >= MIN_TIE_DRAWN]
    else:
        nodes = list(range(s))
        edges = [(a, b, float(ties[a, b])) for a in range(s) for b in range(a + 1, s) if ties[a, b] >= MIN_TIE_DRAWN]
        if mode == NETWORK_MODES[1] and p > s:
            group = p  # one node standing for every open community organisation
            position[group] = (0.0, 0.0)
            orgs_open = np.flatnonzero(open_[s:]) + s
            labels[group] = f"{orgs_open.size} community orgs"
            nodes.append(group)
            for service in range(s):
                if orgs_open.size:
                    edges.append((service, group, float(ties[service, orgs_open].mean())))
            adopted = np.r_[adopted, adopted[orgs_open].mean() if orgs_open.size else 0.0]
            open_ = np.r_[open_, orgs_open.size > 0]
    for a, b, w in edges:
        (xa, ya), (xb, yb) = position[a], position[b]
        ax.plot([xa, xb], [ya, yb], color="#2d3748" if w >= working else "#a0aec0",
                linewidth=0.4 + 7.0 * w, alpha=0.8, zorder=1, solid_capstyle="round")
    for n in nodes:
        x, y = position[n]
        service = n < s
        size = 700 if service else (900 if n == p else 70)
        ax.scatter([x], [y], s=size, marker="s" if service else "o", color=_node_colour(bool(open_[n]), adopted[n]),
                   edgecolors="white", linewidths=1.0, zorder=2)
        if n in labels:
            dx, dy = (0.0, -0.3) if n == p else (x * 0.42, y * 0.3)
            ax.text(x + dx, y + dy, labels[n], ha="center", va="center", fontsize=9, zorder=3, color="#1a202c")
    reach = 2.35 if mode == NETWORK_MODES[0] else 1.45
    ax.set_xlim(-reach * 1.45, reach * 1.45)
    ax.set_ylim(-reach * 1.15, reach * 1.1)
    ax.set_aspect("equal")
    density = model.weekly[model.steps - 1, COLUMN["collaboration_density"]] if model.steps else None
    state = f"working-tie density {density:.2f}" if density is not None else "starting ties"
    ax.set_title(f"Provider ties · {state} · week {model.steps}", fontsize=11)
    ax.text(0.0, 0.0, "squares: services\ncircles: community orgs\nblue: usual way\norange: new way\ngrey: closed",
            transform=ax.transAxes, fontsize=8, va="bottom", color="#4a5568")
    ax.text(1.0, 0.0, "line width: tie strength\ndark: a working tie", transform=ax.transAxes, fontsize=8,
            va="bottom", ha="right", color="#4a5568")
    return fig


# --- behaviours ------------------------------------------------------------------------------------------------
def behaviours_figure(model: ExplorerModel) -> Figure:
    """The nine system behaviours (0-10) as scored at the end of the latest month (docs/ODD.md 7.14)."""
    keys = list(BEHAVIOURS)
    values = np.array([model.behaviour_scores[k] for k in keys])
    angles = np.linspace(0, 2 * np.pi, len(keys), endpoint=False)
    fig = Figure(figsize=(4.6, 3.9), layout="constrained")
    ax = fig.add_subplot(projection="polar")
    ax.plot(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color=BLUE)
    ax.fill(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color=BLUE, alpha=0.2)
    ax.set_xticks(angles, [k.replace("_", "\n") for k in keys], fontsize=8)
    ax.set_ylim(0, 10)
    ax.set_yticks([2, 4, 6, 8, 10])
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"Nine system behaviours (0-10) · week {model.steps}", fontsize=11)
    return fig
