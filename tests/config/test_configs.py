"""conf/: every file composes, validates and runs small; bad input fails with one line naming the key, at the
command line too (exit 2, nothing written); scenarios are configuration only."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from experiments.config import (
    CONF_DIR,
    GROUPS,
    RESULTS_DIR,
    ROOT,
    ConfigError,
    load_config,
    model_params,
    options,
)
from experiments.runner import simulate

# real places need residents >= their 110 / 126 neighbourhoods
TINY = ["residents=600", "years=1", "burn_in_years=1"]


def _group_options():
    return [(group, option) for group in GROUPS for option in options(group)]


def test_every_group_has_options_and_every_yaml_belongs_to_one():
    # conf/sweep, conf/sensitivity, conf/discovery are primary configs of their own (composed by tests/sweep)
    own_primary = {"sweep", "sensitivity", "discovery"}
    yamls = {p.relative_to(CONF_DIR) for p in CONF_DIR.rglob("*.yaml")
             if p.relative_to(CONF_DIR).parts[0] not in own_primary}
    listed = {Path(group) / f"{option}.yaml" for group, option in _group_options()} | {Path("config.yaml")}
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
    assert config.uncertainty.trust_loss_gain_ratio == 3.0


# --- bad input ----------------------------------------------------------------------------------------------
BAD = [
    (["residnts=5"], "residnts"),
    (["residents=abc"], "residents"),
    (["uncertainty.p_wrong_door=1.5"], "uncertainty.p_wrong_door"),
    (["uncertainty.relationship_build_rate=-0.1"], "uncertainty.relationship_build_rate"),
    (["uncertainty.budget_per_resident=-80"], "uncertainty.budget_per_resident"),
    (["residents=0"], "residents"),
    (["years=0"], "years"),
    (["place=nowhere"], "place"),
    (["scenario=nope"], "scenario"),
    (["practice.new.referral=fax"], "practice.new.referral"),
    (["compare.scenarios=[silo,nope]"], "compare.scenarios"),
    (["relations.social_degree=7"], "relations.social_degree"),
    (["scenario.first_adopters=[mony]"], "scenario.first_adopters[0]"),
    (["scenario.licensed=[all,comunity]"], "scenario.licensed[1]"),
    (["scenario.reform.funding=-1"], "scenario.reform.funding"),
    (["scenario.reform.funding=soon"], "scenario.reform.funding"),
    (["uncertainty.p_slip_back=2"], "uncertainty.p_slip_back"),
    (["infrastructure.after.funding.pooled=true"], "infrastructure.after.funding.pooled"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD, ids=[b[0][0] for b in BAD])
def test_bad_input_is_one_line_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as info:
        load_config(overrides)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{key}:"), message


def test_too_few_residents_for_a_real_place_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^residents:"):
        load_config(["place=gateshead", "residents=50"])


def test_missing_place_data_file_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^place\.data_file:"):
        load_config(["place=gateshead", "place.data_file=nowhere.csv"])


def test_negative_seed_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^seed:"):
        load_config(["seed=-1"])


# --- the command line ---------------------------------------------------------------------------------------
def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _cli(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("module", "arg", "key", "output"), [
    ("experiments.run", "residnts=5", "residnts", "runs"),
    ("experiments.compare", "place=nowhere", "place", "compare"),
    ("experiments.compare", "compare.scenarios=[silo,nope]", "compare.scenarios", "compare"),
])
def test_cli_user_error_is_one_line_exit_2_and_writes_nothing(module, arg, key, output):
    before = _listing(RESULTS_DIR / output)
    done = _cli(module, arg)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert _listing(RESULTS_DIR / output) == before


def test_cli_too_few_residents_for_a_real_place_exits_2():
    done = _cli("experiments.run", "place=gateshead", "residents=50", "years=1")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1


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
