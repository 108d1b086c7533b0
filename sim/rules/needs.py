"""Needs (ODD 7.1 life events, 7.2 needs interact, 7.3 crises, 7.11 wellbeing).

Needs are severities in [0, 1] per resident and domain, shape (N, D). Life events raise them, strengths let
them recover, unmet need in one domain spills into linked domains, and a need past the crisis threshold is a
crisis.
"""

from __future__ import annotations

import numpy as np

from .arrays import row_max, row_sum


# --- 7.1 Life events ------------------------------------------------------------------------------------------
def life_event_hazard(deprivation: np.ndarray, shock_rate: float, gradient: float, demand_level: float) -> np.ndarray:
    """Weekly chance of a life event per neighbourhood: ``shock_rate * demand * (1 + g d) / mean(1 + g d)``.

    ``deprivation`` is overall deprivation per neighbourhood in [0, 1]; the hazard averages ``shock_rate`` times
    ``demand_level`` over neighbourhoods and is ``1 + gradient`` times higher in the most deprived than the least.
    """
    relative = 1.0 + gradient * deprivation
    return np.clip(shock_rate * demand_level * relative / relative.mean(), 0.0, 1.0)


def demand_path(hazard: np.ndarray, domain_weights: np.ndarray, changed: np.ndarray,
                factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Life events in the ``changed`` domains (a boolean mask over domains) become ``factor`` times as frequent,
    the other domains' unchanged: returns the new weekly hazard per neighbourhood and the cumulative domain weights
    (ODD 7.1, "a period's demand"). ``hazard`` is per neighbourhood, ``domain_weights`` (neighbourhoods x domains)
    the share of events each domain takes; with ``factor`` 1 both come back unchanged."""
    weights = domain_weights.copy()
    weights[:, changed] *= factor
    scale = weights.sum(axis=1) / domain_weights.sum(axis=1)
    return np.clip(hazard * scale, 0.0, 1.0), np.cumsum(weights, axis=1)


def apply_life_events(
    need: np.ndarray,
    hazard: np.ndarray,
    domain_cumweights: np.ndarray,
    shock_size: float,
    recovery_rate: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """Shocks raise needs and strengths let them recover, in place; returns the number of life events.

    Each resident has a life event this week with probability ``hazard[i]``; it hits one domain, drawn in
    proportion to the resident's row of ``domain_cumweights`` (cumulative weights, shape (N, D) or a view), and
    raises that need by ``shock_size * Exp(1)`` (heavy-tailed: most events are small, a few are an eviction or
    a job loss), capped at 1. Then every need recovers geometrically:
    ``need *= 1 - recovery_rate[i]`` (per week).
    """
    hit = np.flatnonzero(rng.random(hazard.size) < hazard)
    if hit.size:
        cum = domain_cumweights[hit]
        u = rng.random(hit.size) * cum[:, -1]
        domain = (cum < u[:, None]).sum(axis=1)
        size = shock_size * rng.exponential(1.0, size=hit.size)
        need[hit, domain] = np.minimum(need[hit, domain] + size, 1.0)
    need *= (1.0 - recovery_rate)[:, None]
    return int(hit.size)


def return_to_chronic(need: np.ndarray, rows: np.ndarray, floor: np.ndarray, recovery_rate: np.ndarray) -> np.ndarray:
    """Entrenched needs return (ODD 7.19), in place: after :func:`apply_life_events` has let every need recover
    geometrically towards 0, the needs of ``rows`` are moved back up by ``recovery_rate * floor``, so that in all
    ``need += recovery_rate * (floor - need)``: they relax towards their chronic ``floor`` (shape (len(rows), D))
    from above and from below, at the same rate as any need recovers."""
    if rows.size:
        need[rows] += recovery_rate[rows, None] * floor
    return need


def recovery_rate(natural_recovery_rate: float, resilience: np.ndarray, connection: np.ndarray) -> np.ndarray:
    """Weekly recovery share per resident: ``r * (0.5 + (resilience + connection) / 2)``, within [0.5r, 1.5r]."""
    return (natural_recovery_rate * (0.5 + 0.5 * (resilience + connection))).astype(np.float32)


def relax_strengths(strength: np.ndarray, baseline: np.ndarray, rate: float) -> np.ndarray:
    """Strengths built by support fade back towards the resident's baseline, in place:
    ``s += rate * (baseline - s)`` per week."""
    strength += np.float32(rate) * (baseline - strength)
    return strength


def build_strengths(strength: np.ndarray, rows: np.ndarray, rate: float) -> np.ndarray:
    """Support that builds on strengths moves them a share ``rate`` of the way to 1, in place, for ``rows``."""
    strength[rows] += rate * (1.0 - strength[rows])
    return strength


# --- 7.2 Needs interact ---------------------------------------------------------------------------------------
def coupling_matrix(links: list[tuple[int, int, float]], n_domains: int, need_coupling: float) -> np.ndarray:
    """(D, D) matrix ``C[from, to] = need_coupling * weight``: the weekly spill of unmet need along each link."""
    matrix = np.zeros((n_domains, n_domains), dtype=np.float32)
    for source, target, weight in links:
        matrix[source, target] += need_coupling * weight
    return matrix


def unmet_excess(need: np.ndarray, floor: float, rows: np.ndarray, addressed: np.ndarray) -> np.ndarray:
    """Unmet need above ``floor``: ``max(need - floor, 0) * (1 - addressed)``, shape (N, D).

    ``addressed[j, d]`` in [0, 1] says how far support is addressing domain d of resident ``rows[j]``.
    """
    excess = np.maximum(need - floor, 0.0)
    if rows.size:
        excess[rows] *= 1.0 - addressed
    return excess


def couple_needs(need: np.ndarray, excess: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Unmet need spills along linked domains, in place: ``need += excess @ C``, capped at 1."""
    if matrix.any():
        need += excess @ matrix
        np.minimum(need, 1.0, out=need)
    return need


# --- 7.3 Crises -----------------------------------------------------------------------------------------------
def in_crisis(need_max: np.ndarray, crisis_until: np.ndarray, week: int, threshold: float) -> np.ndarray:
    """Rows of residents in crisis this week: largest need ``>= threshold`` and not in cool-down."""
    return np.flatnonzero((need_max >= threshold) & (crisis_until <= week))


# --- 7.11 Wellbeing -------------------------------------------------------------------------------------------
def wellbeing(need: np.ndarray, connection: np.ndarray) -> np.ndarray:
    """Resident wellbeing in [0, 1]: ``(1 - (mean need + max need) / 2) * (0.85 + 0.15 * connection)``.

    Half the mean and half the worst need, so one severe need weighs more than several mild ones; social
    connection is worth up to 15 %.
    """
    burden = 0.5 * (row_sum(need) / need.shape[1] + row_max(need))
    return (1.0 - burden) * (0.85 + 0.15 * connection)


def high_need_count(need: np.ndarray, threshold: float, columns: list[int]) -> np.ndarray:
    """How many of the domains ``columns`` each resident has at or above ``threshold`` (int8 per resident)."""
    count = np.zeros(need.shape[0], dtype=np.int8)
    for d in columns:
        count += need[:, d] >= threshold
    return count


def multiple_disadvantage(need: np.ndarray, threshold: float, domains: int) -> np.ndarray:
    """Residents with at least ``domains`` needs at or above ``threshold`` (boolean per resident)."""
    count = np.zeros(need.shape[0], dtype=np.int8)
    for d in range(need.shape[1]):
        count += need[:, d] >= threshold
    return count >= domains
