"""Hypothesis at the configuration door: generated overrides - wrong types, non-finite and huge numbers, odd
names, unknown, added and deleted keys - thrown at ``experiments.run`` and at a sweep. Every one ends in exit 0
or a one-line error, never a traceback, and nothing is written outside the results root."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import run
from experiments.engine.config import ROOT, Config, ConfigError
from experiments.engine.resources import check_memory
from experiments.engine.sweeps import load_sweep_config, plan_sweep
from sim.params import leaves

# Sizes: a valid value keeps an accepted run small; anything else is absurd or invalid and must be refused.
SIZES = {
    "residents": [100, 250],
    "years": [1],
    "burn_in_years": [0, 1],
    "relations.staff_per_provider": [3, 20],
    "relations.learning_dimensions": [5, 30],
    "place.n_neighbourhoods": [5, 20],
    "relations.social_degree": [2, 8],
}
BASE = {"residents": "150", "years": "1", "burn_in_years": "0", "progress": "off"}
NAMES = ["scenario.name", "place.name", "compare.name", "place.data_file"]
ODD_NAMES = ["/tmp/placesim-escape", "../../placesim-escape", "a/b", ".hidden", "", "x" * 300, "ok-name_1.2",
             "a b", "..", "~", "$HOME", "con:"]
GROUP_VALUES = {"place": ["synthetic", "gateshead", "nowhere", ""], "scenario": ["silo", "whole_system", "", "x/y"],
                "uncertainty": ["baseline", "austerity", "nope"], "experiment": ["entry_points", "none"]}


LEAVES = [(k, v, m) for k, v, m in leaves(Config()) if k not in SIZES and k not in NAMES]
NUMBERS = st.one_of(
    st.sampled_from([0, 1, -1, 0.5, 1e308, -1e308, 2**31, 2**63, 10**30, 1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
)
TEXT = st.one_of(st.sampled_from(ODD_NAMES), st.text(max_size=12))


def _render(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, str)):
        text = str(value)
        return f"'{text}'" if any(c in text for c in " ,[]{}='\"\\:") else text
    return str(value)


@st.composite
def override(draw) -> str:
    kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "size", "name", "group", "unknown", "added", "deleted",
                                 "dashes", "bare"]))
    if kind == "size":
        key = draw(st.sampled_from(sorted(SIZES)))
        value = draw(st.one_of(st.sampled_from(SIZES[key]), st.sampled_from([0, -1, 10**9, 10**10, 10**30]),
                               st.floats(allow_nan=True), st.sampled_from(["many", "[1]"])))
        return f"{key}={_render(value)}"
    if kind == "name":
        return f"{draw(st.sampled_from(NAMES))}={_render(draw(TEXT))}"
    if kind == "group":
        group = draw(st.sampled_from(sorted(GROUP_VALUES)))
        return f"{group}={draw(st.sampled_from(GROUP_VALUES[group]))}"
    if kind == "unknown":
        return f"{draw(st.sampled_from(['foo', 'relations.newthing', 'uncertainty.need_couplng', 'compare.x']))}=1"
    if kind == "added":
        return f"{draw(st.sampled_from(['+', '++']))}{draw(st.sampled_from(['foo', 'relations.newthing']))}=1"
    if kind == "deleted":
        return f"~{draw(st.sampled_from([k for k, _, _ in LEAVES]))}"
    if kind == "dashes":
        return f"--{draw(st.sampled_from(sorted(SIZES)))}=2000"
    if kind == "bare":
        return draw(st.sampled_from(["residents", "=", "=1", "a==b", "[x]=1"]))
    key, default, meta = draw(st.sampled_from(LEAVES))
    if isinstance(default, bool):
        value = draw(st.one_of(st.booleans(), NUMBERS, TEXT))
    elif isinstance(default, (int, float)):
        value = draw(st.one_of(NUMBERS, TEXT, st.booleans()))
    elif isinstance(default, list):
        return f"{key}=[{','.join(_render(v) for v in draw(st.lists(st.one_of(TEXT, NUMBERS), max_size=3)))}]"
    else:
        value = draw(st.one_of(TEXT, NUMBERS) if "choices" not in meta else
                     st.one_of(st.sampled_from([c for c in meta["choices"] if c is not None]), TEXT))
    return f"{key}={_render(value)}"


def _arguments(generated: list[str]) -> list[str]:
    keys = {item.split("=", 1)[0] for item in generated}
    return [f"{k}={v}" for k, v in BASE.items() if k not in keys] + generated


def _snapshot(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*")} if folder.exists() else set()


@pytest.fixture
def roots(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("door") / "results"
    monkeypatch.setenv("PLACESIM_RESULTS", str(root))
    return root


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=st.lists(override(), min_size=1, max_size=3))
def test_run_never_crashes_and_never_writes_outside_the_results_root(generated, roots, capsys):
    project_results = _snapshot(ROOT / "results")
    outside = [Path("/tmp/placesim-escape"), ROOT.parent / "placesim-escape", ROOT / "placesim-escape"]
    code = run.main(_arguments(generated))
    out, err = capsys.readouterr()
    assert code in (0, 2), (generated, code, err)
    assert "Traceback" not in out + err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (generated, err)
        named = lines[0].removeprefix("error: ").split(": ", 1)[0]
        assert named and " " not in named, (generated, err)  # the message starts with the key it is about
    else:
        assert "Done in" in out, (generated, out)
    assert _snapshot(ROOT / "results") == project_results
    assert not any(p.exists() for p in outside)
    for path in _snapshot(roots.parent):
        assert Path(path).is_relative_to(roots), path


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=st.lists(override(), min_size=1, max_size=3))
def test_a_sweeps_door_refuses_with_one_line_or_plans(generated, roots):
    """The same overrides as a sweep's model overrides: composed, validated and checked for memory up front."""
    generated = [g for g in generated if g.split("=", 1)[0] not in ("progress", "scenario", "compare.name")]
    try:
        settings_ = load_sweep_config(["sweep=smoke", "n_seeds=1", *generated])
        plan = plan_sweep(settings_)
        check_memory([spec.params for spec in plan.specs], settings_.engine, resident_agents=False)
    except ConfigError as exc:
        named = str(exc).split(": ", 1)[0]
        assert "\n" not in str(exc) and named and " " not in named, exc
    assert not roots.exists()  # planning writes nothing
