"""The memory estimate (sim/resources.py) against measured peak memory: never below it, not wildly above."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from sim import Params
from sim.resources import memory_estimate

MEASURE = """
import dataclasses, json, sys
from experiments.benchmark import peak_rss
from sim import Params, PlaceModel
residents, agents = int(sys.argv[1]), sys.argv[2] == "1"
params = dataclasses.replace(Params(), residents=residents, years=1, burn_in_years=1)
before = peak_rss()
model = PlaceModel(params, resident_agents=agents)
model.run()
model.summary()
print(json.dumps({"before": before, "peak": peak_rss()}))
"""


@pytest.mark.parametrize("agents", [False, True], ids=["arrays", "with-agents"])
def test_the_estimate_covers_the_measured_peak(agents):
    """100,000 residents for two years: the estimate of what the model adds (libraries excluded) is at least the
    measured growth of the process and at most three times it."""
    residents = 100_000
    done = subprocess.run([sys.executable, "-c", MEASURE, str(residents), "1" if agents else "0"],
                          capture_output=True, text=True, timeout=300, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    grown = measured["peak"] - measured["before"]
    params = dataclasses.replace(Params(), residents=residents, years=1, burn_in_years=1)
    parts = memory_estimate(params, 20, resident_agents=agents)
    estimate = sum(v for k, v in parts.items() if k != "libraries")
    assert grown <= estimate <= 3 * grown, (grown, estimate)


def test_each_part_grows_with_its_key():
    base = Params()
    parts = memory_estimate(base, 20)
    bigger = {
        "residents": dataclasses.replace(base, residents=10 * base.residents),
        "years": dataclasses.replace(base, years=100 * base.years),
        "relations.staff_per_provider": dataclasses.replace(
            base, relations=dataclasses.replace(base.relations, staff_per_provider=1000)),
    }
    for key, params in bigger.items():
        grown = memory_estimate(params, 20)
        assert grown[key] > 5 * parts[key], key
        assert max((k for k in grown if k != "libraries"), key=grown.get) == key
    dims = dataclasses.replace(base, relations=dataclasses.replace(base.relations, learning_dimensions=10**6))
    assert "relations.learning_dimensions" in memory_estimate(dims, 20)
