"""Golden summaries: one small configuration per scenario, pinned in golden_summary.json.

The golden file changes only on purpose. When a change to the model is meant to change its results, regenerate
it and commit it with that change, saying why:

    REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/regression/test_golden.py

A failure without such a change means the results moved unintentionally (a refactor that was meant to be
exact, a library upgrade, a platform with different floating point). The tolerance is tight (rtol 1e-9): a
stochastic model that drifts by one random draw drifts by much more than that.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from experiments.engine.runner import simulate

GOLDEN = Path(__file__).with_name("golden_summary.json")
RTOL = 1e-9
CONFIG = ["residents=2000", "years=2", "burn_in_years=1", "seed=7"]
SCENARIOS = ("silo", "whole_system")


def _summaries(compose) -> dict[str, dict]:
    return {scenario: simulate(compose(*CONFIG, f"scenario={scenario}"), resident_agents=False).summary
            for scenario in SCENARIOS}


def _to_json(value: float):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def test_golden_summary(compose):
    summaries = _summaries(compose)
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        document = {
            "about": "Golden summaries for tests/regression/test_golden.py; regenerate only on purpose "
                     "(REGENERATE_GOLDEN=1), see that file.",
            "overrides": CONFIG,
            "rtol": RTOL,
            "summaries": {s: {k: _to_json(v) for k, v in summary.items()}
                          for s, summary in summaries.items()},
        }
        GOLDEN.write_text(json.dumps(document, indent=2) + "\n")
        pytest.skip(f"regenerated {GOLDEN.name}")
    golden = json.loads(GOLDEN.read_text())
    assert golden["overrides"] == CONFIG
    for scenario in SCENARIOS:
        expected, actual = golden["summaries"][scenario], summaries[scenario]
        assert set(actual) == set(expected), f"{scenario}: outcomes added or removed; regenerate on purpose"
        keys = sorted(expected)
        want = np.array([np.nan if expected[k] is None else expected[k] for k in keys], dtype=float)
        got = np.array([actual[k] for k in keys], dtype=float)
        for key, w, g in zip(keys, want, got, strict=True):
            np.testing.assert_allclose(g, w, rtol=RTOL, equal_nan=True, err_msg=f"{scenario}.{key}")
