"""ExplorerModel: a PlaceModel whose keyword arguments are the explorer's controls.

SolaraViz re-creates the model on Reset by calling its class with the controls' values as keyword arguments.
Every value goes through :func:`experiments.engine.config.load_config` as a Hydra override, so the page validates
exactly as ``experiments.run`` does; a bad value raises the same one-line :class:`ConfigError`.
"""

from __future__ import annotations

from sim import PlaceModel

from ..engine.config import load_config, model_params, options, quiet_libraries

# name of the keyword -> the configuration key it overrides
OVERRIDE_KEYS = {
    "scenario_name": "scenario",
    "place": "place",
    "need_coupling": "uncertainty.need_coupling",
    "relationship_build_rate": "uncertainty.relationship_build_rate",
    "coordination_cost": "uncertainty.coordination_cost",
    "trust_loss_gain_ratio": "uncertainty.trust_loss_gain_ratio",
    "budget_per_resident": "uncertainty.budget_per_resident",
    "residents": "residents",
    "seed": "seed",
}
SCENARIOS = options("scenario")
PLACES = options("place")


def overrides(**values) -> list[str]:
    """Hydra overrides (``key=value``) for the explorer's control values."""
    return [f"{OVERRIDE_KEYS[name]}={value}" for name, value in values.items()]


class ExplorerModel(PlaceModel):
    """The place model built from the explorer's controls; stops itself at the end of its horizon.

    The scenario control is ``scenario_name``: Mesa's ``Model`` already has a ``scenario`` attribute (its
    experimental Scenario object), and SolaraViz's Reset would pass that object for a ``scenario`` keyword.

    Resident handles are skipped (``resident_agents=False``): the page reads the model's arrays, and a reset at
    20,000 residents stays well under a second.
    """

    def __init__(
        self,
        scenario_name: str = "silo",
        place: str = "synthetic",
        need_coupling: float = 0.04,
        relationship_build_rate: float = 0.05,
        coordination_cost: float = 0.1,
        trust_loss_gain_ratio: float = 3.0,
        budget_per_resident: float = 80.0,
        residents: int = 5000,
        seed: int = 0,
    ) -> None:
        quiet_libraries()
        _, config = load_config(overrides(
            scenario_name=scenario_name, place=place, need_coupling=need_coupling,
            relationship_build_rate=relationship_build_rate, coordination_cost=coordination_cost,
            trust_loss_gain_ratio=trust_loss_gain_ratio, budget_per_resident=budget_per_resident,
            residents=int(residents), seed=int(seed),
        ))
        super().__init__(model_params(config), resident_agents=False)
        self.running = self.steps < self.n_weeks

    def step(self) -> None:
        """One week, until the configured horizon (burn-in + years) is reached; then Play stops."""
        if self.steps > self.n_weeks:  # Mesa counts the step before calling this; past the horizon, undo it
            self.steps = self.n_weeks
            self.running = False
            return
        super().step()
        self.running = self.steps < self.n_weeks
