"""The explorer page, built with Solara: controls in the sidebar; tabs Model, Compare, Journeys and Info.

Run with ``.venv/bin/python -m experiments.explore`` (or ``solara run experiments.explorer.app:Page``).
:func:`Page` builds a :class:`~experiments.explorer.session.Session` per browser session (a ``use_memo`` inside the
page), so two people using the page never share a model; Reset builds a fresh model from the controls.

Play runs the model in a thread at the chosen speed (simulated weeks a second) and redraws at most a few times a
second, never spending more than a third of the time drawing; only the visible tab is drawn.
"""

from __future__ import annotations

import numpy as np
import solara
import solara.lab

from sim.journeys import EVENTS, RULES

from ..engine.config import quiet_libraries
from ..reporting.journeys import draw_timeline, glyph_legend, journey_summary, provider_names, summary_text
from . import views
from .info import Md
from .session import (
    CONTROL,
    CONTROLS,
    DEFAULT_SPEED,
    FOLLOWED_PER_RULE,
    SPEEDS,
    WEEKS_PER_YEAR,
    Session,
    burn_in_choice,
    describe,
)

TABS = ("Model", "Compare", "Journeys", "Info")


def new_session() -> Session:
    """A session with every control at its starting value."""
    quiet_libraries()
    return Session()


def image(fig) -> solara.Image:
    return solara.Image(views.png(fig), width="100%")


# --- sidebar -------------------------------------------------------------------------------------------------------
@solara.component
def NumberControl(control, value, on_value, disabled=False):
    """A slider over the plausible range, and a box that shows the value and takes one typed beyond it."""
    is_int = isinstance(control.default, int)
    if is_int:
        solara.SliderInt(control.label, value=int(value), min=int(control.low), max=int(control.high),
                         step=int(control.step), on_value=on_value, thumb_label="always", disabled=disabled)
        return
    with solara.Column(gap="0px"):
        solara.SliderFloat(control.label, value=min(max(float(value), control.low), control.high), min=control.low,
                           max=control.high, step=control.step, on_value=on_value, thumb_label="always",
                           disabled=disabled)

        def typed(v):
            if v is not None and 0.0 <= v <= (control.admissible_high or control.high):
                on_value(float(v))

        solara.InputFloat("value", value=float(value), on_value=typed, dense=True, disabled=disabled,
                          style={"max-width": "9em"})
        top = control.plausible_high if control.plausible_high is not None else control.high
        if not control.low <= float(value) <= top:
            solara.Text(f"beyond the plausible range {control.low:g}-{top:g} (conf/ranges.yaml): "
                        "a stress test", style={"color": "#c05621", "font-size": "0.8em"})


@solara.component
def Controls(session: Session, values, set_values, busy: bool):
    def setter(name):
        def set_value(v):
            session.values = {**session.values, name: v}
            set_values(session.values)
        return set_value

    for control in CONTROLS:
        if control.is_choice:
            solara.Select(control.label, values=list(control.choices), value=values[control.name],
                          on_value=setter(control.name), disabled=busy)
        else:
            NumberControl(control, values[control.name], setter(control.name), disabled=busy)


# --- status: counter, parameters in force ---------------------------------------------------------------------------
@solara.component
def Status(session: Session, rate, playing: bool, version: int, values: dict):
    """``version`` changes on every redraw, so that the counter is redrawn with the plots."""
    model = session.model
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "12px"}):
        solara.Text(session.counter(), classes=["placesim-counter"],
                    style={"font-size": "1.35em", "font-weight": "600"})
        state = "Finished" if session.finished else ("Playing" if playing else ("Paused" if model.steps else "Ready"))
        colour = {"Finished": "#2f855a", "Playing": "#2b6cb0", "Paused": "#718096", "Ready": "#718096"}[state]
        solara.Text(state, classes=["placesim-state"], style={"color": "white", "background": colour,
                                                              "padding": "2px 10px", "border-radius": "10px"})
        if rate:
            solara.Text(f"last run: {rate:.0f} simulated weeks a second", style={"color": "#718096"})
    if session.finished:
        solara.Success(session.status(), dense=True)
    in_force = " · ".join(
        (f"**{CONTROL[k].label} {describe(k, v)}**" if CONTROL[k].default != v else f"{CONTROL[k].label} "
         f"{describe(k, v)}") for k, v in session.in_force.items())
    Md(f"In force since the last Reset: {in_force} (bold: changed from the default)", style="font-size: 0.9em")
    changed = session.changed()
    if changed:
        solara.Warning("Changed since the last Reset, not yet in force (press Reset to apply): " + "; ".join(
            f"{CONTROL[k].label} {describe(k, a)} → {describe(k, b)}" for k, (a, b) in changed.items()), dense=True)


# --- tabs ----------------------------------------------------------------------------------------------------------
@solara.component
def ModelTab(session: Session, week: int, playing: bool):
    model = session.model
    measure, set_measure = solara.use_state("wellbeing")
    order, set_order = solara.use_state("deprivation")
    mode, set_mode = solara.use_state(views.default_network_mode(model))
    slow_week = week // 13 * 13 if playing else week  # the smaller views redraw quarterly while playing
    plots = solara.use_memo(lambda: views.png(views.plots_figure(model)), [id(model), week])
    places = solara.use_memo(lambda: views.png(views.neighbourhood_figure(model, measure, order, area_names(model))),
                             [id(model), slow_week, measure, order])
    network = solara.use_memo(lambda: views.png(views.network_figure(model, mode)), [id(model), slow_week, mode])
    radar = solara.use_memo(lambda: views.png(views.behaviours_figure(model)), [id(model), slow_week])
    solara.Image(plots, width="100%")
    with solara.Columns([5, 5, 4]):
        with solara.Column():
            with solara.Row(style={"flex-wrap": "wrap"}):
                solara.ToggleButtonsSingle(value=measure, values=list(views.MEASURES), on_value=set_measure,
                                           dense=True)
                solara.ToggleButtonsSingle(value=order, values=["deprivation", "area"], on_value=set_order,
                                           dense=True)
            solara.Image(places, width="100%")
        with solara.Column():
            solara.ToggleButtonsSingle(value=mode if mode in views.NETWORK_MODES else views.NETWORK_MODES[0],
                                       values=list(views.NETWORK_MODES), on_value=set_mode, dense=True)
            solara.Image(network, width="100%")
        with solara.Column():
            solara.Image(radar, width="100%")


def area_names(model) -> list[str] | None:
    """Names of community organisations' areas: MSOA names for a real place, else None (numbered)."""
    return views.area_names(model)


@solara.component
def CompareTab(session: Session, week: int, kept_count: int, on_keep, on_clear, version: int):
    with solara.Row():
        solara.Button("Keep this run for comparison", on_click=on_keep, color="primary",
                      disabled=session.model.steps == 0)
        solara.Button("Clear kept runs", on_click=on_clear, disabled=not session.kept)
    Md("Keep a run, change the controls, press Reset and play the next one: the runs are drawn on the "
                    "same axes (the run now in black). Kept so far: "
                    f"{kept_count}. The table compares the years after the burn-in that each run has reached.")
    current = session.current_run()
    runs = [*session.kept, current]
    burn, years = session.model.params.burn_in_years, session.model.params.years
    series = [(views.monthly_series(r.weekly, r.n_residents, r.burn_in_weeks), r.label, views.RUN_COLOURS[
        (i + 1) % len(views.RUN_COLOURS)] if r is not current else views.RUN_COLOURS[0]) for i, r in enumerate(runs)]
    picture = solara.use_memo(lambda: views.png(views.runs_figure(series, burn, years)),
                              [week, kept_count, id(session.model), version])
    solara.Image(picture, width="100%")
    Md(compare_table(runs))


def compare_table(runs) -> str:
    """Means over the evaluated weeks each run reached (after the burn-in)."""
    rows = ["| run | weeks after burn-in | wellbeing | failure demand | crises /1,000/yr | waiting /1,000 "
            "| emergency share of spend | trust |", "|---|---|---|---|---|---|---|---|"]
    c = views.COLUMN
    for r in runs:
        ev = r.weekly[r.burn_in_weeks:]
        if ev.shape[0] == 0:
            rows.append(f"| {r.label} | 0 | | | | | | |")
            continue
        contacts = ev[:, c["contacts_value"]].sum() + ev[:, c["contacts_failure"]].sum()
        spend = ev[:, [c["spend_support"], c["spend_community"], c["spend_emergency"]]].sum()
        rows.append(
            f"| {r.label} | {ev.shape[0]} | {ev[:, c['mean_wellbeing']].mean():.3f} | "
            f"{100 * ev[:, c['contacts_failure']].sum() / max(contacts, 1):.0f} % | "
            f"{ev[:, c['crises']].sum() * 1000 * 52 / r.n_residents / ev.shape[0]:.0f} | "
            f"{ev[:, c['waiting']].mean() * 1000 / r.n_residents:.1f} | "
            f"{100 * ev[:, c['spend_emergency']].sum() / max(spend, 1):.0f} % | "
            f"{ev[:, c['mean_resident_trust']].mean():.3f} |")
    return "\n".join(rows)


@solara.component
def JourneysTab(session: Session, week: int, playing: bool):
    model = session.model
    rule, set_rule = solara.use_state(next(iter(RULES)))
    which, set_which = solara.use_state(1)
    window, set_window = solara.use_state("whole run")
    neighbourhood, set_neighbourhood = solara.use_state("any")
    custom, set_custom = solara.use_state(None)  # (model id, neighbourhood, replayed model)
    nb_labels = solara.use_memo(lambda: neighbourhood_labels(model), [id(model)])
    wanted = neighbourhood != "any"

    def replay():
        if wanted:
            from .session import replayed

            rows = burn_in_choice(session.build(**session.in_force), nb_labels.index(neighbourhood))
            set_custom((id(model), neighbourhood, replayed(session, rows)))

    solara.lab.use_task(replay, dependencies=[id(model), neighbourhood, 0 if playing else week])
    ready = custom is not None and custom[0] == id(model) and custom[1] == neighbourhood
    source = custom[2] if wanted and ready else (model if not wanted else None)
    resident, span = None, None
    if source is not None:
        position = list(RULES).index(rule) * FOLLOWED_PER_RULE + (which - 1)
        chosen = source.journeys.chosen
        resident = int(chosen[min(position, chosen.size - 1)])
        if window == "whole run":
            span = (0, source.steps)
        else:
            y = int(window.split()[1]) + source.params.burn_in_years
            span = (y * WEEKS_PER_YEAR + 1, min((y + 1) * WEEKS_PER_YEAR, source.steps))
            if span[0] > source.steps:
                span = None
    drawable = source is not None and source.steps > 0 and span is not None
    picture = solara.use_memo(lambda: views.png(journey_figure(source, resident, span)) if drawable else None,
                              [id(source), source.steps if source is not None else -1, resident, span])

    with solara.Row(style={"flex-wrap": "wrap", "gap": "10px"}):
        solara.Select("Who", values=list(RULES), value=rule, on_value=set_rule, style={"min-width": "22em"})
        solara.Select("Which of them", values=list(range(1, FOLLOWED_PER_RULE + 1)), value=which,
                      on_value=set_which)
        solara.Select("Neighbourhood (most deprived first)", values=["any", *nb_labels], value=neighbourhood,
                      on_value=set_neighbourhood, style={"min-width": "24em"})
        years = model.params.years + model.params.burn_in_years
        solara.Select("Weeks shown", values=["whole run", *[f"year {y - model.params.burn_in_years}"
                                                           for y in range(years)]], value=window,
                      on_value=set_window)
    if source is None:
        solara.Info("Re-running this model with residents of that neighbourhood followed (the same run: "
                    "following changes nothing)…")
        return
    home = int(source.residents.home[resident])
    rank = int(np.argsort(np.argsort(-source.place.overall_deprivation, kind="stable"))[home]) + 1
    where = f" in {nb_labels[rank - 1]}" if wanted else ""
    Md(
        f"**Resident {resident}**{where} · {RULES[rule]} · chosen when the burn-in ended · lives in neighbourhood "
        f"{source.place.codes[home]}, deprivation rank {rank} of {source.place.n_neighbourhoods} (1 = most "
        "deprived). The same person in another scenario with the same seed: Keep this run, Reset, and look "
        "again.")
    if source.steps == 0:
        solara.Info("Nothing has happened yet: press Step, Play or Run 1 year, then come back to this tab.")
        return
    if span is None:
        solara.Info(f"The run has not reached {window} yet.")
        return
    solara.Image(picture, width="100%")
    counts = journey_summary(source.journeys, resident, *span)
    Md(f"Weeks {span[0]}-{span[1]}: {summary_text(counts)}.")
    events = [e for e in source.journeys.events_of(resident) if span[0] <= e.week <= span[1]]
    names = provider_names(source.domains, source.n_providers)
    lines = [f"- week {e.week}: {EVENTS[e.kind][0]}"
             + (f" — {names[e.provider]}" if e.provider >= 0 else "")
             + (f" (about {source.domains[e.domain].replace('_', ' ')})" if e.domain >= 0 else "")
             for e in events[-40:]]
    with solara.Details(f"The {len(events)} events, week by week (latest 40)", expand=False):
        Md("\n".join(lines) or "none")


def journey_figure(model, resident: int, span: tuple[int, int]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.5, 5.4))
    grid = fig.add_gridspec(1, 1, left=0.09, right=0.86, top=0.93, bottom=0.2)
    draw_timeline(fig, grid[0, 0], model.journeys, resident, model.domains, model.params.relations.need_threshold,
                  span, title="needs by domain (dotted: high); doors and cases; trust and wellbeing",
                  burn_in_weeks=WEEKS_PER_YEAR * model.params.burn_in_years)
    glyph_legend(fig, 0.0, ncol=9)
    return fig


def neighbourhood_labels(model) -> list[str]:
    """Neighbourhoods in order of deprivation (most deprived first), labelled with rank, code and area."""
    order = np.argsort(-model.place.overall_deprivation, kind="stable")
    names = area_names(model)
    return [f"{rank + 1}. {model.place.codes[i]}" + (f" ({names[model.place.org_cluster[i]]})" if names else "")
            for rank, i in enumerate(order.tolist())]


@solara.component
def InfoTab():
    from .info import InfoView

    InfoView()


# --- the page ------------------------------------------------------------------------------------------------------
@solara.component
def Page():
    session = solara.use_memo(new_session, [])  # one session per browser session: built on its first render
    tick = solara.use_reactive(0)  # bumped to redraw
    playing = solara.use_reactive(False)
    fast = solara.use_reactive(False)  # run 1 year / run to the end: as fast as possible
    goal = solara.use_reactive(0)
    speed = solara.use_reactive(DEFAULT_SPEED)
    rate = solara.use_reactive(0.0)
    tab = solara.use_reactive(0)
    values, set_values = solara.use_state(dict(session.values))

    def redraw():
        tick.set(tick.value + 1)

    def play_loop():
        if not playing.value:
            return
        achieved = session.play(goal.value, lambda: float("inf") if fast.value else SPEEDS[speed.value],
                                lambda: playing.value, redraw)
        rate.set(achieved)
        playing.set(False)
        fast.set(False)

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def start(to_week: int, as_fast: bool):
        goal.set(to_week)
        fast.set(as_fast)
        playing.set(True)

    def play_pause():
        if playing.value:
            playing.set(False)
        else:
            start(session.model.n_weeks, False)

    def step():
        session.advance(1)
        redraw()

    def reset():
        playing.set(False)
        session.reset()
        rate.set(0.0)
        redraw()

    def keep():
        session.keep()
        redraw()

    def clear():
        session.kept.clear()
        redraw()

    _ = tick.value  # read so that a redraw re-renders the page
    model = session.model
    done = session.finished
    busy = playing.value
    solara.Title("placesim explorer")
    solara.Style(CSS)
    with solara.Sidebar():
        with solara.Column(gap="6px"):
            with solara.Row(gap="6px"):
                solara.Button("Pause" if busy else "▶ Play", on_click=play_pause, color="primary", disabled=done)
                solara.Button("Step", on_click=step, disabled=busy or done, color="primary", outlined=True)
                solara.Button("Reset", on_click=reset, color="primary", outlined=True)
            with solara.Row(gap="6px"):
                solara.Button("Run 1 year", on_click=lambda: start(session.year_end(), True), disabled=busy or done,
                              outlined=True)
                solara.Button("Run to the end", on_click=lambda: start(model.n_weeks, True), disabled=busy or done,
                              outlined=True)
            solara.Select("Speed while playing", values=list(SPEEDS), value=speed.value, on_value=speed.set)
            solara.Text("Controls take effect when you press Reset.", style={"font-size": "0.85em",
                                                                              "color": "#718096"})
        Controls(session, values, set_values, busy)
    Status(session, rate.value, busy, tick.value, values)
    with solara.lab.Tabs(value=tab.value, on_value=tab.set):
        for i, name in enumerate(TABS):
            with solara.lab.Tab(name):
                if tab.value != i:
                    continue
                if name == "Model":
                    ModelTab(session, model.steps, busy)
                elif name == "Compare":
                    CompareTab(session, model.steps, len(session.kept), keep, clear, tick.value)
                elif name == "Journeys":
                    JourneysTab(session, model.steps, busy)
                else:
                    InfoTab()


CSS = """
.v-slider__thumb-label { font-size: 11px; }
"""
