"""The explorer page: Mesa SolaraViz with the place model's controls, views and an Info tab.

Run with ``.venv/bin/python -m experiments.explore`` (or ``solara run experiments.explorer.app:Page``).
:func:`Page` builds a model per browser session (a ``use_memo`` inside the page), so two people using the page
never share a model; Reset builds a fresh one from the controls.
"""

from __future__ import annotations

import solara
from mesa.visualization import Slider, SolaraViz

from ..engine.config import quiet_libraries
from ..engine.ranges import field_of, plausible
from .model import OVERRIDE_KEYS, PLACES, SCENARIOS, ExplorerModel
from .views import BehavioursView, InfoView, NeighbourhoodView, NetworkView, PlotsView


def uncertainty_slider(name: str, label: str, steps: int = 20) -> Slider:
    """A slider over the uncertainty's plausible range (conf/ranges.yaml), starting at its default."""
    key = OVERRIDE_KEYS[name]
    span = plausible(key)
    _, default = field_of(key)
    step = float(f"{(span.high - span.low) / steps:.1g}")
    return Slider(label, default, span.low, span.high, step)


MODEL_PARAMS = {
    "scenario_name": {"type": "Select", "value": "silo", "values": SCENARIOS, "label": "Scenario"},
    "place": {"type": "Select", "value": "synthetic", "values": PLACES, "label": "Place"},
    "need_coupling": uncertainty_slider("need_coupling", "Need coupling"),
    "relationship_build_rate": uncertainty_slider("relationship_build_rate", "Relationship build rate"),
    "coordination_cost": uncertainty_slider("coordination_cost", "Coordination cost"),
    "trust_loss_gain_ratio": uncertainty_slider("trust_loss_gain_ratio", "Trust loss:gain ratio"),
    "budget_per_resident": uncertainty_slider("budget_per_resident", "Budget per resident (GBP/year)", 12),
    "residents": Slider("Residents", 5000, 1000, 20000, 1000),
    "seed": Slider("Seed", 0, 0, 99, 1),
}
# (component, tab): tab 0 is the model, tab 1 the Info text
COMPONENTS = [(PlotsView, 0), (NeighbourhoodView, 0), (NetworkView, 0), (BehavioursView, 0), (InfoView, 1)]


def new_model() -> ExplorerModel:
    """A model with every control at its starting value."""
    quiet_libraries()
    return ExplorerModel(**{name: (p.value if isinstance(p, Slider) else p["value"])
                            for name, p in MODEL_PARAMS.items()})


@solara.component
def Page():
    model = solara.use_memo(new_model, [])  # one model per session: built on the session's first render
    return SolaraViz(model, components=COMPONENTS, model_params=MODEL_PARAMS, name="placesim explorer",
                     play_interval=50)
