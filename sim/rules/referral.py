"""Referral (ODD 7.8): a warm hand-off along a working relationship, or a signpost the resident must act on."""

from __future__ import annotations

import numpy as np


def warm_handoffs(warm_practice: np.ndarray, tie: np.ndarray, min_tie: float, rng: np.random.Generator) -> np.ndarray:
    """Which referrals are handed on warmly (boolean per referral); the rest are signposts.

    A referral from a provider whose practice is ``referral: warm_handoff`` (``warm_practice``) is handed on when
    the tie between the two providers is at least ``min_tie`` (a working relationship, as joint work needs) and
    then succeeds with probability ``tie``. Draws one number per referral, and only if any referral comes from
    warm-hand-off practice.
    """
    warm = warm_practice.copy()
    if warm.any():
        warm &= (rng.random(warm.size) < tie) & (tie >= min_tie)
    return warm
