"""The cost of change (ODD 7.16): staff time to retrain and redesign, mobilisation after a re-let contract, and a
new way of working that reaches its full effect only once it is learned.

Arrays are per provider. ``since[p]`` is the week provider p started working the new way (-1 if it works the
usual way); ``relet[p]`` the week a contract last changed hands to it (-1 if never). ``week`` is the current week.
"""

from __future__ import annotations

import numpy as np


def in_window(start: np.ndarray, week: int, weeks: int) -> np.ndarray:
    """True where ``start >= 0`` and ``week`` lies in the ``weeks`` weeks from ``start`` (``start <= week < start +
    weeks``); nothing when ``weeks`` is 0."""
    return (start >= 0) & (week >= start) & (week < start + weeks)


def training_share(since: np.ndarray, week: int, share: float, change_weeks: int) -> np.ndarray:
    """Share of staff time given to training and redesign: ``share`` during a provider's first ``change_weeks``
    weeks in the new way, else 0. It comes out of the staff time that would otherwise hold cases. (The model
    passes ``change_time_share`` times the share of the components of practice that change.)"""
    return np.where(in_window(since, week, change_weeks), share, 0.0)


def mobilisation_loss(relet: np.ndarray, week: int, share: float, mobilisation_weeks: int) -> np.ndarray:
    """Share of capacity lost while a provider that has just taken over a re-let contract mobilises: ``share``
    during its first ``mobilisation_weeks`` weeks, else 0."""
    return np.where(in_window(relet, week, mobilisation_weeks), share, 0.0)


def practice_ramp(since: np.ndarray, week: int, ramp_weeks: float, start: float) -> np.ndarray:
    """How much of its full effect the new way of working reaches while it is being learned.

    ``start + (1 - start) * (week - since) / ramp_weeks`` during a provider's first ``ramp_weeks`` weeks in the new
    way, 1 after them, and 1 for providers working the usual way or when ``ramp_weeks`` is 0. ``start`` is where a
    newly adopting provider begins (the model uses a standard episode's fit: as good as the old way's offer).
    """
    if ramp_weeks <= 0:
        return np.ones(since.shape)
    progress = np.clip((week - since) / ramp_weeks, 0.0, 1.0)
    return np.where(since >= 0, start + (1.0 - start) * progress, 1.0)
