"""The nine system behaviours (docs/ODD.md 7.14): bounded, and moving in the documented direction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from experiments.engine.config import load_config, model_params
from experiments.engine.runner import simulate, summary_document
from sim import PlaceModel
from sim.behaviours import BEHAVIOURS
from sim.indicators import BEHAVIOUR_KEYS, WEEKLY_COLUMNS

SMALL = ["residents=1500", "years=3", "burn_in_years=1"]


def run(*overrides: str) -> PlaceModel:
    model = PlaceModel(model_params(load_config([*SMALL, *overrides])[1]), resident_agents=False)
    model.run()
    return model


@pytest.fixture(scope="module")
def both():
    return {name: run(f"scenario={name}") for name in ("silo", "whole_system")}


def test_nine_scores_stay_in_0_10_every_week(both):
    for model in both.values():
        columns = [WEEKLY_COLUMNS.index(k) for k in BEHAVIOUR_KEYS]
        scores = model.weekly[:, columns]
        assert scores.shape[1] == 9
        assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 10).all()


def test_summary_json_has_a_system_behaviours_object_with_nine_keys(both):
    _, config = load_config(SMALL)
    result = simulate(model_params(config), resident_agents=False)
    document = json.loads(json.dumps(summary_document(result, model_params(config), "x", "seed=1")))
    assert set(document["system_behaviours"]) == set(BEHAVIOURS)
    assert not any(k.startswith("behaviour_") for k in document)


def test_relational_behaviours_follow_the_relationships(both):
    silo, whole = (both[k].summary() for k in ("silo", "whole_system"))
    for key in ("interconnected_whole", "collaborative_leadership", "mutual_accountability", "collective_learning"):
        assert whole[f"behaviour_{key}"] > silo[f"behaviour_{key}"], key


def test_without_ties_there_is_no_interconnection_or_collaborative_leadership():
    summary = run("scenario=whole_system", "uncertainty.relationship_build_rate=0",
                  "relations.initial_tie_strength=0").summary()
    assert summary["behaviour_interconnected_whole"] == 0.0
    assert summary["behaviour_collaborative_leadership"] == 0.0


def test_collective_learning_needs_learning_cycles():
    still = run("scenario=whole_system", *(f"infrastructure.{state}.staff_development.learning_cycle_weeks=5200"
                                           for state in ("before", "after"))).summary()
    assert still["behaviour_collective_learning"] == 0.0  # codes start neutral and never learn
