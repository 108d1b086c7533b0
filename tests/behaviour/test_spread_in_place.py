"""Spread of practice, infrastructure and routes in the place model (ODD 7.15): directions, with controls."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.engine.config import load_config, model_params
from sim import PlaceModel

SMALL = ["residents=1500", "years=5", "burn_in_years=1", "seed=1"]
REFORMED_AT_0 = [f"scenario.reform.{part}=0" for part in ("commissioning", "accountability", "funding",
                                                           "staff_development")]
# a prototype that commissioning permits to spread from year 0, that never slips back, at a threshold one
# strong tie can meet: only relationships stand between it and the rest of the place
OPEN_PROTOTYPE = ["scenario=prototype", *REFORMED_AT_0, "uncertainty.p_slip_back=0",
                  "uncertainty.adoption_threshold=0.3"]
NO_RELATIONSHIPS = ["uncertainty.relationship_build_rate=0", "relations.initial_tie_strength=0"]


def run(*overrides: str) -> PlaceModel:
    model = PlaceModel(model_params(load_config([*SMALL, *overrides])[1]), resident_agents=False)
    model.run()
    return model


def adoption_by_year(model: PlaceModel) -> np.ndarray:
    return model.timeseries().groupby("year")["adoption"].last().to_numpy()


def test_a_prototype_spreads_along_the_relationships_it_builds():
    model = run(*OPEN_PROTOTYPE)
    adoption = adoption_by_year(model)
    assert adoption[0] == 0.0  # the burn-in: the place as it is
    assert adoption[1] == pytest.approx(1 / model.n_providers)  # year 0: the money service alone
    assert adoption[-1] > 0.5
    assert model.timeseries()["adoptions"].sum() > 0


def test_adoption_cannot_spread_where_relationships_cannot_form():
    model = run(*OPEN_PROTOTYPE, *NO_RELATIONSHIPS)
    assert model.providers.ties.max() == 0.0
    after = adoption_by_year(model)[1:]
    assert np.all(after == pytest.approx(1 / model.n_providers))
    assert model.timeseries()["adoptions"].sum() == 0


def test_adoption_waits_for_commissioning_to_permit_it():
    """The same strong ties (a shared vision of 1) spread practice only where commissioning permits."""
    vision = [*OPEN_PROTOTYPE, "scenario.shared_vision=1.0", "relations.tie_decay_rate=0"]
    closed = run(*vision, "scenario.reform.commissioning=null")
    assert adoption_by_year(closed)[-1] == pytest.approx(1 / closed.n_providers)
    opened = run(*vision)
    assert adoption_by_year(opened)[-1] == 1.0


def test_without_infrastructure_adopters_slip_back_and_with_it_they_stay():
    without = run("scenario=behaviours_without_infrastructure", "uncertainty.p_slip_back=0.5", *NO_RELATIONSHIPS)
    assert adoption_by_year(without)[-1] == 0.0
    assert without.timeseries()["slips_back"].sum() > 0
    held = run("scenario=whole_system", "uncertainty.p_slip_back=1.0")
    assert np.all(adoption_by_year(held)[1:] == 1.0)
    assert held.timeseries()["slips_back"].sum() == 0


def test_routes_share_the_burn_in_and_part_at_year_0():
    silo, whole = run("scenario=silo"), run("scenario=whole_system")
    a, b = silo.timeseries(), whole.timeseries()
    burn_in = a["year"] < 0
    assert a[burn_in].equals(b[burn_in])
    assert not a[~burn_in].equals(b[~burn_in])


def test_practice_without_learning_infrastructure_does_not_learn():
    """Behaviours without infrastructure keep annual reviews against targets: practice stays at chance."""
    without = run("scenario=behaviours_without_infrastructure", "years=5")
    whole = run("scenario=whole_system", "years=5")
    know = {name: m.timeseries().groupby("year")["practice_knowledge"].last().iloc[-1]
            for name, m in (("without", without), ("whole", whole))}
    assert know["without"] < 0.55 < know["whole"]
