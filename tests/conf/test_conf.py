"""conf/: every file composes, validates and runs small; defaults live once (the YAML files and the dataclasses
agree); the ranges file is sound; scenarios are configuration only. (Bad input: tests/experiments/engine.)"""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from experiments.engine.config import CONF_DIR, GROUPS, ROOT, load_config, model_params, options
from experiments.engine.ranges import field_of, ranges
from experiments.engine.runner import simulate
from sim import Params
from sim.params import leaves

# real places need residents >= their 110 / 126 neighbourhoods
TINY = ["residents=600", "years=1", "burn_in_years=1"]


def _group_options():
    return [(group, option) for group in GROUPS for option in options(group)]


def test_every_group_has_options_and_every_yaml_belongs_to_one():
    """Every YAML file is config.yaml, ranges.yaml, an option of a group, or a primary config of its own."""
    # conf/sweep, conf/sensitivity, conf/discovery are primary configs of their own (tests/experiments/engine)
    own_primary = {"sweep", "sensitivity", "discovery"}
    yamls = {p.relative_to(CONF_DIR) for p in CONF_DIR.rglob("*.yaml")
             if p.relative_to(CONF_DIR).parts[0] not in own_primary}
    listed = ({Path(group) / f"{option}.yaml" for group, option in _group_options()}
              | {Path("config.yaml"), Path("ranges.yaml")})
    assert yamls == listed
    for group in GROUPS:
        assert options(group), f"conf/{group}/ is empty"


@pytest.mark.parametrize(("group", "option"), _group_options(), ids=lambda v: str(v))
def test_every_config_file_composes_validates_and_runs_small(group, option):
    _, config = load_config([f"{group}={option}", *TINY])
    params = model_params(config)
    summary = simulate(params, resident_agents=False).summary
    assert math.isfinite(summary["mean_wellbeing"]) and 0.0 < summary["mean_wellbeing"] <= 1.0


def test_required_top_level_and_uncertainty_keys():
    cfg, config = load_config([])
    for key in ("seed", "residents", "years", "burn_in_years", "place"):
        assert key in cfg, key
    for key in ("need_coupling", "relationship_build_rate", "coordination_cost", "trust_loss_gain_ratio"):
        assert key in cfg.uncertainty, key
    assert config.uncertainty.trust_loss_gain_ratio == 1.13  # the default point (docs/ODD.md)


def test_defaults_live_once_the_yaml_files_and_the_dataclasses_agree():
    """The default composition of conf/ (config.yaml with its default options) equals sim.Params(), key by key,
    and every key has a value in a YAML file (so a number nobody can see in conf/ cannot hide in Python)."""
    _cfg, config = load_config([])
    composed = {k: v for k, v, _ in leaves(model_params(config))}
    defaults = {k: v for k, v, _ in leaves(Params())}
    assert composed.keys() == defaults.keys()
    differ = {k: (composed[k], defaults[k]) for k in defaults if composed[k] != defaults[k]}
    assert differ == {}
    written = {}
    for path in [CONF_DIR / "config.yaml", *(CONF_DIR / g / "default.yaml" for g in ("practice", "infrastructure",
                                                                                     "relations")),
                 CONF_DIR / "place" / "synthetic.yaml", CONF_DIR / "scenario" / "silo.yaml",
                 CONF_DIR / "uncertainty" / "baseline.yaml"]:
        group = "" if path.parent == CONF_DIR else f"{path.parent.name}."
        node = OmegaConf.to_container(OmegaConf.load(path))
        node.pop("defaults", None)

        def walk(value, key):
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, f"{key}.{k}" if key else k)
            else:
                written[key] = value

        walk(node, group.rstrip("."))
    missing = sorted(k for k in defaults if k not in written)
    assert missing == [], f"defaults only in sim/params.py: {missing}"


def test_the_ranges_file_is_sound():
    """conf/ranges.yaml: every key exists, every range is inside what the model admits and holds the default,
    and every uncertainty has one (sweeps, sensitivity and the explorer read ranges only from there)."""
    table = ranges()
    uncertainties = {f"uncertainty.{f.name}" for f in dataclasses.fields(Params().uncertainty)}
    assert uncertainties <= set(table)
    for key, r in table.items():
        _, default = field_of(key)
        assert r.low <= default <= r.high, key
        assert r.reason.strip(), key


# --- scenarios are configuration ----------------------------------------------------------------------------
def test_scenarios_set_the_same_levers():
    """Every scenario file sets the same keys (a scenario is a set of lever values, nothing more)."""
    keys = {name: set(OmegaConf.load(CONF_DIR / "scenario" / f"{name}.yaml")) for name in options("scenario")}
    assert {"silo", "whole_system"} <= set(keys)
    assert keys["silo"] == keys["whole_system"]
    assert len({frozenset(k) for k in keys.values()}) == 1


def _compared_scenario_names(path: Path) -> list[str]:
    """'file:line' of every comparison (==, !=, in, not in, match case) with a scenario name literal."""
    names = set(options("scenario"))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    hits = []

    def literals(node) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(literals(e) for e in node.elts)) if node.elts else set()
        return set()

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(literals(o) & names for o in operands):
                hits.append(f"{where}:{node.lineno}")
        elif isinstance(node, ast.MatchValue) and literals(node.value) & names:
            hits.append(f"{where}:{node.lineno}")
    return hits


def test_no_code_branches_on_a_scenario_name():
    """STYLE.md: code reads behaviour parameters, never a scenario's name; a new scenario is a new YAML."""
    sources = sorted((ROOT / "sim").rglob("*.py")) + sorted((ROOT / "experiments").rglob("*.py"))
    assert len(sources) > 5
    hits = [hit for path in sources for hit in _compared_scenario_names(path)]
    assert hits == []


def test_scenario_name_detector_finds_a_comparison(tmp_path):
    """The control for the check above: it catches `if lever.name == "silo"` and `x in ("whole_system",)`."""
    probe = tmp_path / "probe.py"
    probe.write_text('if lever.name == "silo":\n    pass\n'
                     'ok = x in ("whole_system", "other")\n'
                     'name = "silo"\n')
    assert _compared_scenario_names(probe) == [f"{probe}:1", f"{probe}:3"]
