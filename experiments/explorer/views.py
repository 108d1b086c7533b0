"""What the explorer draws: neighbourhoods, the provider network, live indicator plots, the Info text.

Each ``*_figure`` function takes a model and returns a matplotlib Figure (object-oriented API, never pyplot, so
sessions in different threads do not share a figure). The Solara components at the bottom wrap them; Mesa's
SolaraViz redraws them after every step.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import solara
from matplotlib.figure import Figure

import experiments
from sim.behaviours import BEHAVIOURS
from sim.indicators import WEEKLY_COLUMNS
from sim.outcomes import OUTCOMES

from .model import ExplorerModel

INFO_PATH = Path(experiments.__file__).parents[1] / "docs" / "INFO.md"
COLUMN = {name: i for i, name in enumerate(WEEKLY_COLUMNS)}
MIN_TIE_DRAWN = 0.02  # weaker ties are not drawn (the starting ties, 0.05, show as hairlines)
MEASURES = {  # what the neighbourhood view can show: (colour bar label, colour map: green is good)
    "wellbeing": ("mean wellbeing", "RdYlGn"),
    "unmet need": ("mean unmet need", "RdYlGn_r"),
    "trust": ("mean trust in providers", "RdYlGn"),
}


# --- data ------------------------------------------------------------------------------------------------------
def neighbourhood_values(model: ExplorerModel, measure: str) -> np.ndarray:
    """This week's mean of ``measure`` per neighbourhood (residents weighted equally)."""
    per_resident = {
        "wellbeing": model.wellbeing,
        "unmet need": model.unmet_by_resident,
        "trust": model.trust.mean(axis=1),
    }[measure]
    k = model.place.n_neighbourhoods
    return np.bincount(model.home, weights=per_resident, minlength=k) / model.residents_per_neighbourhood


def indicator_series(model: ExplorerModel) -> dict[str, np.ndarray]:
    """The weekly series the plots show, for the weeks run so far."""
    weekly = model.weekly[: model.steps]

    def col(name: str) -> np.ndarray:
        return weekly[:, COLUMN[name]]

    return {
        "week": np.arange(1, model.steps + 1),
        "mean_wellbeing": col("mean_wellbeing"),
        "contacts_value": col("contacts_value"),
        "contacts_failure": col("contacts_failure"),
        "crises": col("crises"),
        "spend_prevention": col("spend_support") + col("spend_community"),
        "spend_emergency": col("spend_emergency"),
        "mean_resident_trust": col("mean_resident_trust"),
        "adoption": col("adoption"),
    }


def provider_graph(model: ExplorerModel) -> nx.Graph:
    """Providers as nodes (services, then community organisations); ties as weighted edges."""
    graph = nx.Graph()
    for i in range(model.n_providers):
        is_service = i < model.n_services
        name = model.domains[i] if is_service else f"org {i - model.n_services + 1}"
        graph.add_node(i, name=name, service=is_service, open=bool(model.provider_open[i]),
                       adopted=bool(model.practice.adopted[i]))
    rows, cols = np.nonzero(np.triu(model.ties, 1) >= MIN_TIE_DRAWN)
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        graph.add_edge(a, b, weight=float(model.ties[a, b]))
    return graph


# --- figures ---------------------------------------------------------------------------------------------------
def _title(model: ExplorerModel) -> str:
    year = (model.steps - 1) // 52 - model.params.burn_in_years + 1 if model.steps else 0
    when = "burn-in" if year <= 0 and model.steps else (f"year {year}" if model.steps else "start")
    return f"week {model.steps} ({when})"


def neighbourhood_figure(model: ExplorerModel, measure: str = "wellbeing") -> Figure:
    """One square per neighbourhood, most deprived first (top left), coloured by ``measure``.

    The places' data hold no coordinates, so this is a ranking, not a map: reading order is deprivation.
    """
    label, cmap = MEASURES[measure]
    values = neighbourhood_values(model, measure)
    order = np.argsort(-model.place.overall_deprivation, kind="stable")
    k = values.size
    width = int(np.ceil(np.sqrt(k * 1.5)))
    height = int(np.ceil(k / width))
    grid = np.full(height * width, np.nan)
    grid[:k] = values[order]
    fig = Figure(figsize=(5.6, 3.3), layout="constrained")
    ax = fig.subplots()
    # colours span this week's range across neighbourhoods, so differences between them show; the bar gives values
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if high - low < 1e-6:
        low, high = low - 0.01, high + 0.01
    image = ax.imshow(grid.reshape(height, width), cmap=cmap, vmin=low, vmax=high)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{k} neighbourhoods, most deprived first · {_title(model)}", fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, label=label)
    return fig


def network_figure(model: ExplorerModel) -> Figure:
    """The provider collaboration network: services inside, community organisations around; width = tie."""
    graph = provider_graph(model)
    services = [n for n, d in graph.nodes(data=True) if d["service"]]
    orgs = [n for n, d in graph.nodes(data=True) if not d["service"]]
    position = nx.shell_layout(graph, [services, orgs] if orgs else [services])  # fixed: no randomness
    fig = Figure(figsize=(5.8, 3.9), layout="constrained")
    ax = fig.subplots()
    edges = list(graph.edges(data="weight"))
    if edges:
        nx.draw_networkx_edges(graph, position, ax=ax, edgelist=[(a, b) for a, b, _ in edges],
                               width=[0.5 + 6.0 * w for _, _, w in edges], edge_color="#555555", alpha=0.6)
    def colour(n: int) -> str:  # orange: works the new way; blue: the usual way; grey: closed
        node = graph.nodes[n]
        return "#bbbbbb" if not node["open"] else ("#dd6b20" if node["adopted"] else "#2b6cb0")

    nx.draw_networkx_nodes(graph, position, ax=ax, nodelist=services, node_shape="s", node_size=420,
                           node_color=[colour(n) for n in services])
    if orgs:
        nx.draw_networkx_nodes(graph, position, ax=ax, nodelist=orgs, node_shape="o", node_size=160,
                               node_color=[colour(n) for n in orgs])
    nx.draw_networkx_labels(graph, position, ax=ax, labels={n: graph.nodes[n]["name"] for n in services},
                            font_size=7)
    density = model.weekly[model.steps - 1, COLUMN["collaboration_density"]] if model.steps else float("nan")
    ax.set_title(f"Provider ties (squares: services; circles: community orgs; orange: works the new way; "
                 f"grey: closed)\n"
                 f"line width = tie strength · working-tie density {density:.2f} · {_title(model)}", fontsize=8)
    ax.set_axis_off()
    return fig


def plots_figure(model: ExplorerModel) -> Figure:
    """Live weekly plots: wellbeing, failure vs value demand, crises, spend on prevention vs crisis, trust."""
    s = indicator_series(model)
    week = s["week"]
    fig = Figure(figsize=(6.2, 3.9))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.11, hspace=0.35, wspace=0.38)
    axes = fig.subplots(2, 3, sharex=True).ravel()
    panels = [
        (OUTCOMES["mean_wellbeing"].title, [("mean_wellbeing", "wellbeing", "#2f855a")]),
        ("Contacts per week", [("contacts_value", "value demand", "#2b6cb0"),
                               ("contacts_failure", "failure demand", "#c53030")]),
        ("Crises per week", [("crises", "crises", "#c53030")]),
        ("Spend per week (GBP)", [("spend_prevention", "support + community", "#2b6cb0"),
                                  ("spend_emergency", "emergency", "#c53030")]),
        ("Trust; new way (0-1)", [("mean_resident_trust", "residents' trust", "#6b46c1"),
                                  ("adoption", "providers working the new way", "#dd6b20")]),
    ]
    for ax, (title, lines) in zip(axes, panels, strict=False):
        for key, label, colour in lines:
            ax.plot(week, s[key], label=label, color=colour, linewidth=1.2)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=6)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        if len(lines) > 1:
            ax.legend(fontsize=6, loc="best")
        if model.params.burn_in_years:
            ax.axvline(52 * model.params.burn_in_years, color="#999999", linewidth=0.8, linestyle=":")
    axes[-1].set_axis_off()
    axes[-1].text(0.0, 0.5, f"{_title(model)}\n{model.params.scenario.name} · {model.params.place.name}\n"
                  f"{model.n_residents:,} residents\ndotted line: end of burn-in", fontsize=8, va="center")
    for ax in axes[3:5]:
        ax.set_xlabel("week", fontsize=7)
    return fig


def behaviours_figure(model: ExplorerModel) -> Figure:
    """The nine system behaviours (0-10) as scored at the end of the latest month (docs/ODD.md 7.14)."""
    keys = list(BEHAVIOURS)
    values = np.array([model.behaviour_scores[k] for k in keys])
    angles = np.linspace(0, 2 * np.pi, len(keys), endpoint=False)
    fig = Figure(figsize=(4.6, 4.6), constrained_layout=True)
    ax = fig.add_subplot(projection="polar")
    ax.plot(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color="#2b6cb0")
    ax.fill(np.r_[angles, angles[:1]], np.r_[values, values[:1]], color="#2b6cb0", alpha=0.2)
    ax.set_xticks(angles, [k.replace("_", "\n") for k in keys], fontsize=6)
    ax.set_ylim(0, 10)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_title(f"Nine system behaviours, week {model.steps}", fontsize=9)
    return fig


# --- components (Mesa's SolaraViz calls each with the session's model and redraws after a step) -------------------
def NeighbourhoodView(model: ExplorerModel):
    measure, set_measure = solara.use_state("wellbeing")
    with solara.Column() as view:
        solara.ToggleButtonsSingle(value=measure, values=list(MEASURES), on_value=set_measure)
        solara.FigureMatplotlib(neighbourhood_figure(model, measure), format="png")
    return view


def NetworkView(model: ExplorerModel):
    return solara.FigureMatplotlib(network_figure(model), format="png")


def PlotsView(model: ExplorerModel):
    return solara.FigureMatplotlib(plots_figure(model), format="png")


def BehavioursView(model: ExplorerModel):
    return solara.FigureMatplotlib(behaviours_figure(model), format="png")


def InfoView(model: ExplorerModel):
    """The Info tab: docs/INFO.md, read at render time so the page and the file cannot diverge."""
    return solara.Markdown(INFO_PATH.read_text(encoding="utf-8"))
