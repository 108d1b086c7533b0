"""The explorer page rendered in-process (solara's test rendering): controls, Step, views, Info tab."""

from __future__ import annotations

import re

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara

from experiments.engine.config import ConfigError
from experiments.explorer import app
from experiments.explorer.model import ExplorerModel
from experiments.explorer.views import INFO_PATH, indicator_series, plots_figure, provider_graph

NETLOGO_HEADINGS = ["WHAT IS IT?", "HOW IT WORKS", "HOW TO USE IT", "THINGS TO NOTICE", "THINGS TO TRY",
                    "EXTENDING THE MODEL", "RELATED MODELS", "CREDITS AND REFERENCES"]


@pytest.fixture
def page(monkeypatch):
    """Render the page as a browser session would see it; return (render context, models built so far)."""
    built: list[ExplorerModel] = []

    def small_model() -> ExplorerModel:
        built.append(ExplorerModel(residents=1000, seed=1))
        return built[-1]

    monkeypatch.setattr(app, "new_model", small_model)

    @solara.component
    def Session():
        with solara.AppLayout():  # the sidebar (controls) renders inside an app layout, as on the server
            app.Page()

    _box, rc = solara.render(Session(), handle_error=False)
    yield rc, built
    rc.close()


def images(rc) -> list[bytes]:
    return [bytes(image.value) for image in rc.find(ipywidgets.Image).widgets]


def test_step_advances_the_model_and_redraws_the_plots(page):
    rc, built = page
    assert len(built) == 1
    model = built[0]
    assert model.steps == 0
    before = images(rc)
    assert len(before) == 4  # plots, neighbourhoods, network, behaviours radar
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    assert model.steps == 3
    rc.find(v.Html, children=["Time: 3.0"]).assert_single()
    after = images(rc)
    assert all(a != b for a, b in zip(before, after, strict=True)), "every view redraws after a step"
    series = indicator_series(model)
    assert len(series["week"]) == 3
    assert np.all(series["contacts_value"] + series["contacts_failure"] > 0)
    lines = plots_figure(model).axes[0].lines
    assert len(lines[0].get_xdata()) == 3


def test_reset_builds_a_new_model_from_the_controls(page):
    rc, _built = page
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rc.find(v.Html, children=["Time: 0.0"]).assert_single()
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Html, children=["Time: 1.0"]).assert_single()


def test_two_sessions_do_not_share_a_model(page):
    rc, built = page
    _other_box, other_rc = solara.render(app.Page(), handle_error=False)
    try:
        assert len(built) == 2 and built[0] is not built[1]
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert built[0].steps == 1 and built[1].steps == 0
    finally:
        other_rc.close()


def test_neighbourhood_colour_buttons_switch_measure(page):
    rc, _ = page
    before = images(rc)
    rc.find(v.BtnToggle).widget.v_model = 2  # the browser sets the toggle's index: "trust"
    after = images(rc)
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1  # only the neighbourhood view changes


def test_every_control_reaches_the_model_through_the_config():
    model = ExplorerModel(scenario_name="whole_system", place="gateshead", need_coupling=0.0,
                          relationship_build_rate=0.1, coordination_cost=0.3, trust_loss_gain_ratio=5.0,
                          budget_per_resident=120.0, residents=2000, seed=7)
    p = model.params
    assert (p.scenario.name, p.place.name, p.residents, p.seed) == ("whole_system", "gateshead", 2000, 7)
    u = p.uncertainty
    assert (u.need_coupling, u.relationship_build_rate, u.coordination_cost, u.trust_loss_gain_ratio,
            u.budget_per_resident) == (0.0, 0.1, 0.3, 5.0, 120.0)
    assert set(app.MODEL_PARAMS) == set(ExplorerModel.__init__.__code__.co_varnames[1:10])


def test_bad_values_fail_as_on_the_command_line():
    with pytest.raises(ConfigError, match="need_coupling"):
        ExplorerModel(need_coupling=-1.0, residents=1000)
    with pytest.raises(ConfigError, match="place"):
        ExplorerModel(place="atlantis", residents=1000)


def test_slider_ranges_are_valid_configurations():
    """The ends of every slider compose and validate (a student cannot reach an invalid model)."""
    ends = {name: (p.min, p.max) for name, p in app.MODEL_PARAMS.items() if hasattr(p, "min")}
    for name, (low, high) in ends.items():
        for value in (low, high):
            ExplorerModel(**{name: value, "residents": max(1000, value) if name == "residents" else 1000})


def test_model_stops_at_its_horizon():
    model = ExplorerModel(residents=1000)
    model.n_weeks = 2  # a short horizon for the test; the page's is burn-in + years
    model.step()
    assert model.running is True
    model.step()
    assert model.running is False
    week_two = model.weekly[:2].copy()
    model.step()
    assert model.steps == 2 and model.running is False
    assert np.array_equal(model.weekly[:2], week_two) and len(indicator_series(model)["week"]) == 2


def test_provider_network_has_every_provider():
    model = ExplorerModel(residents=1000)
    graph = provider_graph(model)
    assert graph.number_of_nodes() == model.n_providers
    assert sum(d["service"] for _, d in graph.nodes(data=True)) == model.n_services
    for a, b, w in graph.edges(data="weight"):
        assert w == pytest.approx(model.ties[a, b])


def test_info_tab_shows_docs_info_with_netlogo_headings():
    text = INFO_PATH.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == NETLOGO_HEADINGS
    assert "docs/ODD.md" in text
    _box, rc = solara.render(app.InfoView(ExplorerModel(residents=1000)), handle_error=False)
    try:
        assert "THINGS TO NOTICE" in str(rc.find(v.VuetifyTemplate).widget.template)
    finally:
        rc.close()


def test_info_describes_every_control():
    text = INFO_PATH.read_text(encoding="utf-8")
    for name, p in app.MODEL_PARAMS.items():
        label = p.label if hasattr(p, "label") else p["label"]
        assert f"**{label}" in text, f"INFO.md: no line for the {name!r} control"
    for button in ("Reset", "Step", "Play interval", "Render interval", "Use threads"):
        assert button in text
