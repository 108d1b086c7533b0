"""Shared fixtures: a private results root, quiet Mesa, configurations composed once per session, small worlds.

Every test session writes under its own temporary results root (``PLACESIM_RESULTS``, inherited by the
commands tests start), never into the project's results/; tests that check "nothing written outside the results
root" compare the project's results/ before and after.

Tests build parameters the way the entry points do (``experiments.engine.config.load_config`` then ``model_params``),
so every test also exercises the schema and the validator. Composition costs ~0.1 s, so it is cached per set
of overrides for the whole session; each caller gets its own deep copy and may modify it freely.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

import pytest

from experiments.engine.config import load_config, model_params, quiet_libraries

# A small world: ~0.3 s for a whole run, big enough for every mechanism to fire.
SMALL = {"residents": 1500, "years": 2, "burn_in_years": 1, "seed": 1}


_OWN_ROOT: list[str] = []


def pytest_configure(config):
    if "PLACESIM_RESULTS" not in os.environ:
        _OWN_ROOT.append(tempfile.mkdtemp(prefix="placesim-results-"))
        os.environ["PLACESIM_RESULTS"] = _OWN_ROOT[0]


def pytest_unconfigure(config):
    for root in _OWN_ROOT:
        shutil.rmtree(root, ignore_errors=True)
        os.environ.pop("PLACESIM_RESULTS", None)


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A private results root for one test and the commands it starts (``PLACESIM_RESULTS``)."""
    root = tmp_path / "results"
    monkeypatch.setenv("PLACESIM_RESULTS", str(root))
    return root


@pytest.fixture(autouse=True, scope="session")
def _quiet_mesa():
    """Mesa logs every step at INFO; the entry points silence it, and so do the tests."""
    quiet_libraries()


@pytest.fixture(scope="session")
def compose():
    """``compose(*overrides) -> sim.Params``: compose and validate ``conf/`` with ``key=value`` overrides."""
    cache = {}

    def _compose(*overrides: str):
        key = tuple(overrides)
        if key not in cache:
            _, config = load_config(list(overrides))
            cache[key] = model_params(config)
        return copy.deepcopy(cache[key])

    return _compose


def as_overrides(fields: dict) -> list[str]:
    """``{"uncertainty__need_coupling": 0, "scenario": "silo"}`` -> ``["uncertainty.need_coupling=0", ...]``

    Group choices and values look alike on the command line, so no distinction is needed.
    """
    out = []
    for name, value in fields.items():
        if isinstance(value, bool):
            value = str(value).lower()
        out.append(f"{name.replace('__', '.')}={value}")
    return out


@pytest.fixture
def small_params(compose):
    """Factory: ``small_params(scenario="whole_system", uncertainty__need_coupling=0)`` -> small Params.

    Keyword names use ``__`` for a dot; a group name with a string value (``scenario="whole_system"``) selects
    that group's file. Defaults are ``SMALL`` (1500 residents, 1 burn-in + 2 years, seed 1).
    """

    def factory(**overrides):
        return compose(*as_overrides({**SMALL, **overrides}))

    return factory
