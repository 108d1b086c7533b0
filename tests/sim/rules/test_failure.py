"""Failure demand (sim/rules/failure.py, ODD 7.5): classifying contacts, on hand-built failure memories.

Each test names the behaviour it checks; counts are exact.
"""

from __future__ import annotations

import numpy as np

from sim.rules import failure


def test_failure_kinds_codes_follow_the_kinds_order():
    """Kind codes 1..5 are the positions in FAILURE_KINDS plus one; code 0 is none."""
    codes = (failure.EARLY_CLOSURE, failure.LINKED_NEED, failure.BOUNCE, failure.LOST_REFERRAL, failure.CHASING)
    assert codes == (1, 2, 3, 4, 5)
    assert failure.FAILURE_KINDS == ("early_closure", "linked_need", "bounce", "lost_referral", "chasing")


def test_classify_contacts_value_or_failure_by_failure_until_and_counts_per_kind():
    """A contact is failure demand iff failure_until > week; failures are counted per kind in FAILURE_KINDS order."""
    week = 10
    failure_until = np.array([0, 10, 11, 15, 12, 30, 11, 9], np.int32)
    failure_kind = np.array([0, 3, 1, 3, 3, 5, 2, 4], np.int8)
    # failure (until > 10): positions 2..6 with kinds 1, 3, 3, 5, 2; value: 0 (never), 1 (== week), 7 (expired)
    value, failed, kinds = failure.classify_contacts(failure_until, failure_kind, week)
    assert (value, failed) == (3, 5)
    np.testing.assert_array_equal(kinds, [1, 1, 2, 0, 1])
    assert isinstance(value, int) and isinstance(failed, int)


def test_classify_contacts_all_value_when_memories_expired():
    """Every failure_until <= week: all value demand, kinds all zero."""
    value, failed, kinds = failure.classify_contacts(np.array([3, 5], np.int32), np.array([2, 4], np.int8), 5)
    assert (value, failed) == (2, 0)
    np.testing.assert_array_equal(kinds, np.zeros(len(failure.FAILURE_KINDS)))


def test_classify_contacts_empty():
    """No contacts: (0, 0, five zeros)."""
    value, failed, kinds = failure.classify_contacts(np.empty(0, np.int32), np.empty(0, np.int8), 4)
    assert (value, failed) == (0, 0)
    np.testing.assert_array_equal(kinds, [0, 0, 0, 0, 0])
