"""Planning (experiments/engine/plan.py): a record's overrides reproduce it exactly, whatever the value."""

from __future__ import annotations

import pytest

from experiments.engine.config import ConfigError, config_hash, load_config
from experiments.engine.plan import format_override, format_value, plan_runs


@pytest.mark.parametrize("value", [0.1, 1e-05, 0.30000000000000004, 2.5e-17, 12345.678901234567, -0.052, 3, 0,
                                   True, False, None, "silo", "a b", "it's", "1.5", "null", [], ["money", "all"]])
def test_values_survive_the_command_line(value):
    """format_value's text is read back by Hydra as the same value (floats to the last bit)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_override(f"x={format_value(value)}").value()
    assert parsed == value and type(parsed) is type(value)


def test_non_finite_values_are_refused():
    with pytest.raises(ConfigError):
        format_value(float("nan"))


def test_every_planned_run_is_reproduced_by_its_overrides():
    plan = plan_runs(["residents=700", "years=1"], ["silo", "whole_place"],
                     [{"uncertainty.need_coupling": 0.0123456789012345, "scenario.licensed": ["money"]},
                      {"uncertainty.need_coupling": 0.07, "scenario.licensed": []}], [5, 6])
    assert len(plan.specs) == len(plan.index) == 8
    for spec in plan.specs:
        cfg, _ = load_config(spec.overrides)
        assert config_hash(cfg) == spec.run_hash
    assert format_override("scenario.licensed", ["money"]) == "scenario.licensed=[money]"


def test_a_plan_refuses_to_be_told_the_scenario_or_seed():
    for item in ("scenario=silo", "seed=3"):
        with pytest.raises(ConfigError, match=f"^{item.split('=')[0]}:"):
            plan_runs([item], ["silo"], [{}], [1])


def test_duplicate_points_are_one_run_but_every_row():
    plan = plan_runs(["residents=700", "years=1"], ["silo"], [{"uncertainty.need_coupling": 0.05}] * 2, [5])
    assert len(plan.specs) == 1 and len(plan.index) == 2
    assert [row["point"] for row in plan.index] == [0, 1]
