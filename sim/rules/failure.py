"""Failure demand (ODD 7.5): every contact is classified as value or failure demand when it happens (Seddon).

A contact about domain d is failure demand if a failure about d was recorded within the last
``failure_memory_weeks``; the failure's kind says why.
"""

from __future__ import annotations

import numpy as np

# Failure-demand kinds: why a later contact about a domain counts as failure demand. Code 0 = none.
FAILURE_KINDS = ("early_closure", "linked_need", "bounce", "lost_referral", "chasing")
EARLY_CLOSURE, LINKED_NEED, BOUNCE, LOST_REFERRAL, CHASING = range(1, 6)


def classify_contacts(failure_until: np.ndarray, failure_kind: np.ndarray, week: int) -> tuple[int, int, np.ndarray]:
    """(value contacts, failure contacts, failure contacts per kind in ``FAILURE_KINDS`` order).

    ``failure_until`` and ``failure_kind`` hold, for each contact, the resident's failure memory for the domain
    the contact is about: a contact is failure demand while ``failure_until > week``.
    """
    failed = failure_until > week
    kinds = np.bincount(failure_kind[failed], minlength=len(FAILURE_KINDS) + 1)[1:]
    n_failed = int(failed.sum())
    return int(failed.size - n_failed), n_failed, kinds
