"""The explorer page rendered in-process (solara's test rendering), and its session logic without a browser."""

from __future__ import annotations

import re
import time

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara

from experiments.engine.config import ConfigError
from experiments.engine.ranges import plausible
from experiments.explorer import app, info
from experiments.explorer.model import ExplorerModel
from experiments.explorer.session import CONTROLS, Session
from experiments.explorer.views import (
    INFO_PATH,
    NETWORK_MODES,
    area_names,
    indicator_series,
    monthly_series,
    network_figure,
    plots_figure,
    provider_graph,
    runs_figure,
)

NETLOGO_HEADINGS = ["WHAT IS IT?", "HOW IT WORKS", "HOW TO USE IT", "THINGS TO NOTICE", "THINGS TO TRY",
                    "EXTENDING THE MODEL", "RELATED MODELS", "CREDITS AND REFERENCES"]


def small(**values) -> ExplorerModel:
    return ExplorerModel(**{**values, "residents": 1000, "seed": values.get("seed", 1)})


@pytest.fixture
def page(monkeypatch):
    """Render the page as a browser session would see it; return (render context, sessions built so far)."""
    built: list[Session] = []

    def small_session() -> Session:
        built.append(Session(build=small))
        return built[-1]

    monkeypatch.setattr(app, "new_session", small_session)

    @solara.component
    def Browser():
        with solara.AppLayout():  # the sidebar (controls) renders inside an app layout, as on the server
            app.Page()

    _box, rc = solara.render(Browser(), handle_error=False)
    yield rc, built
    rc.close()


def images(rc) -> list[bytes]:
    return [bytes(image.value) for image in rc.find(ipywidgets.Image).widgets]


def counter(rc) -> str:
    return rc.find(v.Html, class_="placesim-counter").widget.children[0]


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_tabs_are_named():
    assert app.TABS == ("Model", "Compare", "Journeys", "Info")


def test_page_has_named_tabs_and_steps(page):
    rc, built = page
    assert [w.children for w in rc.find(v.Tab).widgets] == [[name] for name in app.TABS]
    session = built[0]
    assert counter(rc).startswith("Week 0 of 572")
    before = images(rc)
    assert len(before) == 4  # plots, neighbourhoods, network, behaviours radar
    for _ in range(3):
        click(rc, "Step")
    assert session.model.steps == 3
    assert counter(rc) == "Week 3 of 572 · burn-in year 1 of 1"
    after = images(rc)
    assert after[0] != before[0], "the plots redraw after a step"


def test_run_one_year_then_to_the_end_finishes_at_the_last_week(page):
    rc, built = page
    session = built[0]
    click(rc, "Run 1 year")
    wait_for(lambda: session.model.steps == 52 and "Paused" in str(rc.find(v.Html, class_="placesim-state")
                                                                  .widget.children))
    assert counter(rc) == "Week 52 of 572 · end of burn-in year 1 of 1"
    click(rc, "Run to the end")
    wait_for(lambda: "Finished" in rc.find(v.Html, class_="placesim-state").widget.children
             and rc.find(v.Btn, children=["▶ Play"]).widgets)  # the play loop has ended
    assert session.model.steps == 572
    assert counter(rc) == "Week 572 of 572 · end of year 10 of 10"
    assert rc.find(v.Btn, children=["▶ Play"]).widget.disabled
    assert rc.find(v.Btn, children=["Step"]).widget.disabled
    rc.find(v.Alert).assert_single()  # the finished message


def test_play_at_a_speed_and_pause(page):
    rc, built = page
    session = built[0]
    click(rc, "▶ Play")
    wait_for(lambda: session.model.steps >= 10)
    click(rc, "Pause")
    wait_for(lambda: "Paused" in rc.find(v.Html, class_="placesim-state").widget.children)
    stopped = session.model.steps
    time.sleep(0.3)
    assert session.model.steps == stopped < 572
    assert counter(rc).startswith(f"Week {stopped} of 572")


def test_reset_builds_a_new_model_and_shows_what_changed(page):
    rc, built = page
    session = built[0]
    click(rc, "Step")
    first = session.model
    rc.find(v.Select, label="Scenario").widget.v_model = "whole_system"
    assert "Scenario silo → whole_system" in str(rc.find(v.Alert).widget.children)
    click(rc, "Reset")
    assert session.model is not first and session.model.steps == 0
    assert session.model.params.scenario.name == "whole_system"
    assert not rc.find(v.Alert).widgets  # nothing pending after Reset
    assert session.in_force["scenario_name"] == "whole_system" and not session.changed()


def test_two_sessions_do_not_share_a_model(page):
    rc, built = page
    _other_box, other_rc = solara.render(app.Page(), handle_error=False)
    try:
        assert len(built) == 2 and built[0].model is not built[1].model
        click(rc, "Step")
        assert built[0].model.steps == 1 and built[1].model.steps == 0
    finally:
        other_rc.close()


def test_compare_tab_overlays_a_kept_run(page):
    rc, built = page
    session = built[0]
    for _ in range(8):
        click(rc, "Step")
    rc.find(v.Tabs).widget.v_model = 1
    click(rc, "Keep this run for comparison")
    assert len(session.kept) == 1
    click(rc, "Reset")
    for _ in range(8):
        click(rc, "Step")
    shown = images(rc)
    assert len(shown) == 1
    runs = [session.kept[0], session.current_run()]
    series = [(monthly_series(r.weekly, r.n_residents, r.burn_in_weeks), r.label, "k") for r in runs]
    assert len(runs_figure(series, 1, 10).axes[0].lines) == 2  # two runs on the wellbeing panel


def test_journeys_tab_draws_a_followed_resident(page):
    rc, built = page
    session = built[0]
    for _ in range(60):
        session.advance(1)
    rc.find(v.Tabs).widget.v_model = 2
    click(rc, "Step")
    assert len(images(rc)) == 1
    rec = session.model.journeys
    assert rec is not None and rec.weeks_recorded == 62
    assert rec.chosen.size == 9  # three rules, three residents each


def test_session_counter_and_year_end():
    session = Session(build=small)
    assert session.counter() == "Week 0 of 572 · start: nothing has happened yet"
    assert session.year_end() == 52
    session.advance(53)
    assert session.counter() == "Week 53 of 572 · year 1 of 10"
    assert session.year_end() == 104
    assert session.advance(10_000) == 519 and session.finished
    assert session.counter() == "Week 572 of 572 · end of year 10 of 10"
    assert session.advance(1) == 0 and session.model.steps == 572


def test_play_paces_at_the_chosen_speed_and_redraws_less_often():
    session = Session(build=small)
    redraws = []
    rate = session.play(40, lambda: 200.0, lambda: True, lambda: redraws.append(session.model.steps))
    assert session.model.steps == 40 and rate > 0
    assert redraws[-1] == 40 and len(redraws) < 40  # not every week


def test_controls_come_from_the_ranges_file():
    for control in CONTROLS:
        if control.reason:
            span = plausible(f"uncertainty.{control.name}")
            assert (control.low, control.high) == (span.low, span.stress_high or span.high)
            assert control.plausible_high == span.high
    coordination = next(c for c in CONTROLS if c.name == "coordination_cost")
    assert coordination.high == 10 and coordination.plausible_high == 0.4  # THINGS TO TRY: 3 and 10 on the slider
    ExplorerModel(coordination_cost=10.0, residents=1000)


def test_every_control_reaches_the_model_through_the_config():
    model = ExplorerModel(scenario_name="whole_system", place="gateshead", need_coupling=0.0,
                          relationship_build_rate=0.1, coordination_cost=0.3, trust_loss_gain_ratio=5.0,
                          budget_per_resident=100.0, residents=2000, seed=7)
    p = model.params
    assert (p.scenario.name, p.place.name, p.residents, p.seed) == ("whole_system", "gateshead", 2000, 7)
    u = p.uncertainty
    assert (u.need_coupling, u.relationship_build_rate, u.coordination_cost, u.trust_loss_gain_ratio,
            u.budget_per_resident) == (0.0, 0.1, 0.3, 5.0, 100.0)
    assert {c.name for c in CONTROLS} == set(ExplorerModel.__init__.__code__.co_varnames[1:10])


def test_bad_values_fail_as_on_the_command_line():
    with pytest.raises(ConfigError, match="need_coupling"):
        ExplorerModel(need_coupling=-1.0, residents=1000)
    with pytest.raises(ConfigError, match="place"):
        ExplorerModel(place="atlantis", residents=1000)


def test_slider_ranges_are_valid_configurations():
    """The ends of every slider compose and validate (a student cannot reach an invalid model)."""
    for control in CONTROLS:
        if control.is_choice:
            continue
        for value in (control.low, control.high):
            ExplorerModel(**{control.name: value, "residents": max(1000, value) if control.name == "residents"
                             else 1000})


def test_plots_at_week_zero_have_fixed_axes_and_no_nan():
    model = small()
    fig = plots_figure(model)
    titles = [ax.get_title() for ax in fig.axes]
    assert "Failure demand, % of contacts" in titles and "Waiting list, per 1,000 residents" in titles
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_xlabel() == "years since the burn-in ended"
            assert all(np.isfinite(ax.get_ylim()))
    assert "nan" not in " ".join(t.get_text() for ax in network_figure(model).axes for t in [*ax.texts, ax.title])


def test_series_are_monthly_rates():
    model = small()
    for _ in range(10):
        model.step()
    s = indicator_series(model)
    assert len(s["t"]) == 3  # two months and a partial third
    assert np.all(s["contacts_value"] + s["contacts_failure"] > 0)
    assert np.all((s["failure_share"] >= 0) & (s["failure_share"] <= 100))


def test_model_stops_at_its_horizon():
    model = ExplorerModel(residents=1000)
    model.n_weeks = 2  # a short horizon for the test; the page's is burn-in + years
    model.step()
    assert model.running is True
    model.step()
    assert model.running is False


def test_provider_network_has_every_provider_and_groups_a_real_place():
    model = ExplorerModel(residents=1000)
    graph = provider_graph(model)
    assert graph.number_of_nodes() == model.n_providers
    for a, b, w in graph.edges(data="weight"):
        assert w == pytest.approx(model.providers.ties[a, b])
    real = ExplorerModel(place="gateshead", residents=1000)
    names = area_names(real)
    assert names is not None and len(names) == real.n_providers - real.n_services
    assert all(re.fullmatch(r"Gateshead \d{3}", n) for n in names)
    grouped = network_figure(real, NETWORK_MODES[1])
    labels = {t.get_text() for t in grouped.axes[0].texts}
    assert {"health", "money"} <= labels and any("community" in t for t in labels)


def test_info_tab_is_docs_info_rendered_offline_with_links_inside_the_page():
    text = INFO_PATH.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == NETLOGO_HEADINGS
    html = info.info_html()
    assert "THINGS TO NOTICE" in html and 'id="odd"' in html
    links = re.findall(r'<a href="([^"]+)"', html)
    assert links and all(h.startswith(("#", "http")) for h in links), "a link that would 404 inside the page"
    for anchor in (h[1:] for h in links if h.startswith("#") and h != "#odd"):
        assert f'id="{anchor}"' in html, anchor
    assert "cdn" not in html.lower() and "katex" not in html.lower()


def test_info_describes_every_control_and_button():
    text = INFO_PATH.read_text(encoding="utf-8")
    for control in CONTROLS:
        assert f"**{control.label}" in text, f"INFO.md: no line for the {control.name!r} control"
    for name in ("Play", "Step", "Reset", "Run 1 year", "Run to the end", "Speed", *app.TABS):
        assert f"**{name}" in text or f"**▶ {name}" in text, f"INFO.md: no line for {name!r}"
