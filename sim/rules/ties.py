"""Ties between providers (ODD 7.9): working relationships grow with joint work and time, decay, and break.

``ties`` is a symmetric (P, P) array in [0, 1] with a zero diagonal.
"""

from __future__ import annotations

import numpy as np


def update_ties(
    ties: np.ndarray, joint_work: np.ndarray, relationship_time: np.ndarray, build_rate: float, decay_rate: float
) -> np.ndarray:
    """Weekly tie update between providers: growth with joint work and relationship time, decay always.

    ``tie += build_rate * (c + r) * (1 - tie) - decay_rate * tie``, where ``c = w / (w + 5)`` saturates with
    ``w``, the week's joint case-weeks and warm hand-offs between the pair, and ``r`` is the larger of the pair's
    shares of staff time given to relationships (one side reaching out builds the relationship, as a prototype's
    staff do). With ``build_rate = 0`` ties only decay. Returns a new symmetric array.
    """
    contact = joint_work / (joint_work + 5.0)
    r = np.maximum.outer(relationship_time, relationship_time)
    new = ties + build_rate * (contact + r) * (1.0 - ties) - decay_rate * ties
    np.fill_diagonal(new, 0.0)
    return np.clip(new, 0.0, 1.0)


def break_ties(ties: np.ndarray, providers: np.ndarray, loss: float) -> np.ndarray:
    """A share ``loss`` of the ties of ``providers`` is lost (turnover: 0 < loss < 1; retender or closure: 1)."""
    ties = ties.copy()
    ties[providers, :] *= 1.0 - loss
    ties[:, providers] *= 1.0 - loss
    return ties


def share_vision(ties: np.ndarray, open_mask: np.ndarray, rise: float) -> np.ndarray:
    """A place-wide shared vision raises every tie between open providers by ``rise``, capped at 1."""
    if rise <= 0:
        return ties
    both = open_mask[:, None] & open_mask[None, :]
    new = np.where(both, np.minimum(ties + rise, 1.0), ties)
    np.fill_diagonal(new, 0.0)
    return new


def collaboration_density(ties: np.ndarray, open_mask: np.ndarray, threshold: float) -> float:
    """Share of pairs of open providers whose tie is at least ``threshold``."""
    sub = ties[np.ix_(open_mask, open_mask)]
    n = sub.shape[0]
    if n < 2:
        return 0.0
    return float((sub[np.triu_indices(n, 1)] >= threshold).mean())


def mean_tie_strength(ties: np.ndarray, open_mask: np.ndarray) -> float:
    """Mean tie over pairs of open providers (0 with fewer than two)."""
    sub = ties[np.ix_(open_mask, open_mask)]
    n = sub.shape[0]
    return float(sub[np.triu_indices(n, 1)].mean()) if n >= 2 else 0.0


def clustering(adjacency: np.ndarray) -> float:
    """Average clustering coefficient of an undirected 0/1 graph (nodes of degree < 2 count as 0)."""
    a = adjacency.astype(float)
    degree = a.sum(axis=1)
    triangles = np.einsum("ij,jk,ki->i", a, a, a) / 2.0
    possible = degree * (degree - 1) / 2.0
    local = np.divide(triangles, possible, out=np.zeros_like(triangles), where=possible > 0)
    return float(local.mean()) if local.size else 0.0
