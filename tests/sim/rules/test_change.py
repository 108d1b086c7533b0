"""The cost of change (sim/rules/change.py, ODD 7.16) on hand-built providers, with exact values."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import change

SINCE = np.array([-1, 10, 30, 0])  # the usual way; started the new way in week 10, 30, 0


def test_in_window_is_start_inclusive_end_exclusive():
    assert change.in_window(SINCE, 30, 20).tolist() == [False, False, True, False]  # 10 + 20 = 30: over
    assert change.in_window(SINCE, 29, 20).tolist() == [False, True, False, False]  # week 29 is before 30
    assert change.in_window(SINCE, 10, 0).tolist() == [False, False, False, False]  # no window at all


def test_training_takes_its_share_only_during_the_change():
    assert change.training_share(SINCE, 35, 0.1, 26).tolist() == [0.0, 0.1, 0.1, 0.0]
    assert change.training_share(SINCE, 35, 0.0, 26).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_mobilisation_after_a_contract_changes_hands():
    relet = np.array([-1, 100, 90])
    assert change.mobilisation_loss(relet, 105, 0.2, 13).tolist() == [0.0, 0.2, 0.0]  # 90 + 13 = 103 <= 105


def test_practice_ramp_rises_from_its_start_to_one():
    """start + (1 - start) * weeks in / ramp: week 23 is 13 weeks into provider 1's 26-week ramp -> 0.875."""
    ramp = change.practice_ramp(SINCE, 23, 26.0, 0.75)
    # provider 2 starts later (week 30): its ramp has not begun; provider 3 is 23 weeks into its ramp
    assert ramp.tolist() == pytest.approx([1.0, 0.875, 0.75, 0.75 + 0.25 * 23 / 26])
    assert change.practice_ramp(SINCE, 23, 0.0, 0.75).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert change.practice_ramp(SINCE, 1000, 26.0, 0.75).tolist() == [1.0, 1.0, 1.0, 1.0]
