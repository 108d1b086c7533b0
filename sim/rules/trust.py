"""Residents' trust (ODD 7.9): asymmetric updates after good and bad experiences, and word of mouth."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def gain_trust(trust: np.ndarray, rate: float | np.ndarray) -> np.ndarray:
    """After a good experience: ``t + rate * (1 - t)`` (moves a share ``rate`` of the way to full trust)."""
    return trust + rate * (1.0 - trust)


def lose_trust(trust: np.ndarray, rate: float | np.ndarray, loss_gain_ratio: float) -> np.ndarray:
    """After a bad experience: ``t - min(1, ratio * rate) * t`` (losses weigh ``ratio`` times gains; Slovic)."""
    return trust - np.minimum(1.0, loss_gain_ratio * np.asarray(rate, dtype=np.float32)) * trust


def word_of_mouth(trust: np.ndarray, adjacency: sp.csr_matrix, degree: np.ndarray, rate: float) -> np.ndarray:
    """Trust moves towards social contacts' mean: ``t + rate * (mean_{j in contacts} t_j - t)``, in place.

    Residents with no contacts keep their trust. DeGroot-style averaging on the social network.
    """
    if rate <= 0:
        return trust
    has = degree > 0
    neighbour_mean = adjacency @ trust
    neighbour_mean[has] /= degree[has, None]
    trust[has] += rate * (neighbour_mean[has] - trust[has])
    return trust


def starting_trust(initial_trust: float, gradient: float, deprivation: np.ndarray) -> np.ndarray:
    """Trust before any experience: ``initial_trust * (1 - gradient * deprivation)`` (lower where deprived)."""
    return initial_trust * (1.0 - gradient * deprivation)
