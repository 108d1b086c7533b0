"""Following residents (sim/journeys.py) is observation: same results, and the events the phases report."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.explorer.model import ExplorerModel
from sim.journeys import EVENTS, RULES, choose_residents


def test_following_residents_changes_no_result():
    plain, followed = ExplorerModel(residents=1000, seed=5), ExplorerModel(residents=1000, seed=5)
    rows = np.concatenate([choose_residents(followed, rule, 3) for rule in RULES])
    recorder = followed.follow(rows)
    for _ in range(120):
        plain.step()
        followed.step()
    assert np.array_equal(plain.weekly, followed.weekly)
    assert np.array_equal(plain.residents.need, followed.residents.need)
    assert np.array_equal(plain.residents.trust, followed.residents.trust)
    assert plain.rng.random() == followed.rng.random()
    assert recorder.weeks_recorded == 121  # week 0 and 120 weeks
    here = recorder.left_week < 0  # those who left have no state after they left (their row is someone else's)
    assert np.allclose(recorder.need[120, here], followed.residents.need[recorder.rows[here]])
    assert np.isnan(recorder.need[120, ~here]).all()
    assert recorder.events and {e.kind for e in recorder.events} <= set(EVENTS)
    assert {e.resident for e in recorder.events} <= set(rows.tolist())


def test_recorded_status_matches_the_events():
    model = ExplorerModel(residents=1000, seed=2)
    rows = choose_residents(model, "multiple high needs, deprived", 10)
    recorder = model.follow(rows)
    for _ in range(150):
        model.step()
    for event in recorder.events:
        slot = recorder.slot[event.resident]
        i = event.week - recorder.start
        if event.kind == "admitted":
            assert recorder.case_provider[i, slot] == event.provider
        if event.kind == "signposted":
            assert recorder.referral_target[i, slot] == event.provider  # acted on from next week
    assert any(e.kind == "admitted" for e in recorder.events)


def test_residents_are_chosen_by_rule_and_the_same_across_scenarios():
    silo = ExplorerModel(scenario_name="silo", residents=2000, seed=4)
    whole = ExplorerModel(scenario_name="whole_system", residents=2000, seed=4)
    for rule in RULES:
        assert np.array_equal(choose_residents(silo, rule, 3), choose_residents(whole, rule, 3))
    deprived = choose_residents(silo, "multiple high needs, deprived", 3)
    quintile = silo.place.deprivation_quintile()[silo.residents.home]
    assert np.all(quintile[deprived] == 4)
    high = (silo.residents.need >= silo.params.relations.need_threshold).sum(axis=1)
    assert high[deprived[0]] == high[quintile == 4].max()
    assert np.all(silo.residents.home[choose_residents(silo, "one high need", 2, neighbourhood=7)] == 7)
    with pytest.raises(KeyError, match="unknown rule"):
        choose_residents(silo, "anyone")
