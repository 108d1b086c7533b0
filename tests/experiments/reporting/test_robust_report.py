"""The robust comparison's report (experiments/reporting/robust.py): its answer lines and its "when it loses"
analysis count a world as better or worse only where the world's own interval says so."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from experiments.reporting.robust import answer_line, losing_conditions


def verdict_table(differences: np.ndarray, verdicts: list[str], outcome: str = "crises_per_1000_per_year"):
    """One scenario's rows of world_verdicts: a difference, a symmetric interval and a planted verdict."""
    return pd.DataFrame({"world": np.arange(len(differences)), "outcome": outcome, "seeds": 2,
                         "difference": differences, "ci_low": differences - 1.0, "ci_high": differences + 1.0,
                         "verdict": verdicts})


def worlds(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"uncertainty.need_coupling": np.linspace(0.0, 0.1, n),
                         "uncertainty.coordination_cost": rng.uniform(0.0, 0.4, n)})


def test_when_it_loses_contrasts_the_clearly_worse_worlds_with_all_the_others():
    """30 worlds: the 6 with the highest need coupling are clearly worse; 8 of the lowest have a worse sign but
    are not resolved. PRIM must find high need coupling, which it cannot if the noisy 8 count as losing."""
    parameters = worlds(30)
    verdicts = ["better"] * 30
    for i in range(24, 30):
        verdicts[i] = "worse"
    for i in range(8):
        verdicts[i] = "not resolved"
    differences = np.where(np.array(verdicts) == "better", -3.0, 2.0)
    differences[:8] = 0.5  # the worse sign, within seed noise
    (line,) = losing_conditions(parameters, verdict_table(differences, verdicts), "crises_per_1000_per_year")
    assert "clearly worse in 6 of 30 worlds (8 not resolved, counted with the others)" in line, line
    found = re.search(r"need_coupling in \[([0-9.e-]+), ([0-9.e-]+)\]", line)
    assert found and float(found.group(1)) > 0.07, line  # the box starts above the not-resolved worlds


def test_when_it_loses_says_none_when_no_world_is_clearly_worse():
    parameters = worlds(10)
    verdicts = ["not resolved"] * 4 + ["better"] * 6
    differences = np.array([0.2, 0.1, 0.0, 0.3, -2, -2, -2, -2, -2, -2], dtype=float)
    (line,) = losing_conditions(parameters, verdict_table(differences, verdicts), "crises_per_1000_per_year")
    assert line == "- Crises: it is clearly worse in none of the 10 worlds (4 not resolved)."


def row(**values) -> pd.Series:
    base = {"outcome": "crises_per_1000_per_year", "worlds": 30, "seeds_per_world": 2, "worlds_better": 17,
            "worlds_worse": 2, "worlds_unresolved": 11, "share_worlds_better": 17 / 30, "share_low": 0.39,
            "share_high": 0.73, "difference": -3.0, "low": -9.0, "high": 1.5, "worst_world": 4,
            "worst_world_difference": 2.5, "worst_world_verdict": "worse"}
    return pd.Series({**base, **values})


def test_the_answer_counts_worlds_clearly_better_clearly_worse_and_not_resolved():
    line = answer_line(row(), "whole_system", "silo")
    assert "clearly better (lower) than silo in **17 of 30** plausible worlds (57%, 95 % interval 39%-73%)" in line
    assert "clearly worse in 2, not resolved in 11 (the difference in those is within seed noise)" in line
    assert "in the worst world (world 4) it is +2.5 (clearly worse)" in line
    one_seed = answer_line(row(seeds_per_world=1, worlds_better=0, worlds_worse=0, worlds_unresolved=30,
                               share_worlds_better=0.0, worst_world_verdict="not resolved"), "whole_system", "silo")
    assert "not resolved in any of the 30 plausible worlds (one seed each)" in one_seed
    assert "clearly better" not in one_seed
