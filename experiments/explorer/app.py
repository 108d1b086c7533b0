"""The explorer page: Mesa SolaraViz with the place model's controls, views and an Info tab.

Run with ``.venv/bin/python -m experiments.explore`` (or ``solara run experiments.explorer.app:Page``).
:func:`Page` builds a model per browser session (a ``use_memo`` inside the page), so two people using the page
never share a model; Reset builds a fresh one from the controls.
"""

from __future__ import annotations

import solara
from mesa.visualization import Slider, SolaraViz

from ..config import quiet_libraries
from .model import PLACES, SCENARIOS, ExplorerModel
from .views import BehavioursView, InfoView, NeighbourhoodView, NetworkView, PlotsView

MODEL_PARAMS = {
    "scenario_name": {"type": "Select", "value": "silo", "values": SCENARIOS, "label": "Scenario"},
    "place": {"type": "Select", "value": "synthetic", "values": PLACES, "label": "Place"},
    "need_coupling": Slider("Need coupling", 0.04, 0.0, 0.12, 0.01),
    "relationship_build_rate": Slider("Relationship build rate", 0.05, 0.0, 0.2, 0.01),
    "coordination_cost": Slider("Coordination cost", 0.1, 0.0, 0.5, 0.05),
    "trust_loss_gain_ratio": Slider("Trust loss:gain ratio", 3.0, 1.0, 6.0, 0.5),
    "budget_per_resident": Slider("Budget per resident (GBP/year)", 80, 20, 200, 10),
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
