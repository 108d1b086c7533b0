"""Spread of practice between providers (ODD 7.15): threshold contagion on working ties, and slipping back."""

from __future__ import annotations

import numpy as np


def visible_results(good: np.ndarray, closures: np.ndarray, open_mask: np.ndarray, weight: float) -> np.ndarray:
    """How well each provider's results show to partners: its share of cases closed well, relative to the place.

    The share is smoothed as ``(good + 1) / (closures + 2)`` (no closures reads as 1/2), divided by the mean share
    of open providers, clipped to [0, 2] and raised to ``weight`` (0: results are not seen, every provider 1).
    Closed providers show nothing (0).
    """
    rate = (good + 1.0) / (closures + 2.0)
    mean = float(rate[open_mask].mean()) if open_mask.any() else 1.0
    visible = np.clip(rate / mean, 0.0, 2.0) ** weight
    return np.where(open_mask, visible, 0.0)


def adoption_exposure(ties: np.ndarray, adopted: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Each provider's exposure to the new way: the sum over adopting partners of tie strength x visible results."""
    return ties @ (adopted * visible)


def threshold_adoption(adopted: np.ndarray, exposure: np.ndarray, threshold: float,
                       permitted: np.ndarray) -> np.ndarray:
    """Threshold contagion (Granovetter 1978; Watts 2002): permitted providers adopt at ``exposure >= threshold``.

    A threshold above the strongest single tie needs reinforcement from several adopting partners, which
    clustered ties supply and long weak ties do not (Centola & Macy 2007). Adopters stay adopters here.
    """
    return adopted | (permitted & (exposure >= threshold))


def slip_back(adopted: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Each adopter returns to the usual way with probability ``p``; draws nothing when ``p`` is 0 or none adopt."""
    if p <= 0 or not adopted.any():
        return adopted.copy()
    return adopted & ~(rng.random(adopted.size) < p)


def leader_adoption(candidates: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Leadership without exposure: each candidate adopts with probability ``p``; draws nothing when ``p`` is 0."""
    if p <= 0:
        return np.zeros_like(candidates)
    return candidates & (rng.random(candidates.size) < p)
