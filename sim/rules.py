"""Rule functions of the place model (ODD 7, submodels): arrays in, arrays out, no model object.

Each function is one submodel or one piece of one, with its equation and units in the docstring; the model's
phases (``sim/model.py``) call them on whole arrays of residents or providers. Functions that take a generator
draw from it and nothing else. Functions documented "in place" update their first argument and return it, so
that a 200,000 x 6 array is not copied every week.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Failure-demand kinds (Seddon): why a later contact about a domain counts as failure demand.
FAILURE_KINDS = ("early_closure", "linked_need", "bounce", "lost_referral", "chasing")
EARLY_CLOSURE, LINKED_NEED, BOUNCE, LOST_REFERRAL, CHASING = range(1, 6)


# --- Row-wise reductions ---------------------------------------------------------------------------------------
# NumPy reduces a short last axis (D = 6 domains) about ten times slower than it combines whole columns, so the
# weekly phases use these column loops on (N, D) arrays. Results equal ``a.max(1)``, ``a.argmax(1)`` exactly and
# ``a.sum(1)`` up to summation order.
def row_max(a: np.ndarray) -> np.ndarray:
    out = a[:, 0].copy()
    for d in range(1, a.shape[1]):
        np.maximum(out, a[:, d], out=out)
    return out


def row_argmax(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max, argmax) of each row; the first maximal column wins, as in ``numpy.argmax``."""
    best = a[:, 0].copy()
    index = np.zeros(a.shape[0], dtype=np.intp)
    for d in range(1, a.shape[1]):
        column = a[:, d]
        index[column > best] = d
        np.maximum(best, column, out=best)
    return best, index


def row_sum(a: np.ndarray) -> np.ndarray:
    out = a[:, 0].copy()
    for d in range(1, a.shape[1]):
        out += a[:, d]
    return out


# --- 1. Life events -----------------------------------------------------------------------------------------
def life_event_hazard(deprivation: np.ndarray, shock_rate: float, gradient: float, demand_level: float) -> np.ndarray:
    """Weekly chance of a life event per neighbourhood: ``shock_rate * demand * (1 + g d) / mean(1 + g d)``.

    ``deprivation`` is overall deprivation per neighbourhood in [0, 1]; the hazard averages ``shock_rate`` times
    ``demand_level`` over neighbourhoods and is ``1 + gradient`` times higher in the most deprived than the least.
    """
    relative = 1.0 + gradient * deprivation
    return np.clip(shock_rate * demand_level * relative / relative.mean(), 0.0, 1.0)


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


def recovery_rate(natural_recovery_rate: float, resilience: np.ndarray, connection: np.ndarray) -> np.ndarray:
    """Weekly recovery share per resident: ``r * (0.5 + (resilience + connection) / 2)``, within [0.5r, 1.5r]."""
    return (natural_recovery_rate * (0.5 + 0.5 * (resilience + connection))).astype(np.float32)


def relax_strengths(strength: np.ndarray, baseline: np.ndarray, rate: float) -> np.ndarray:
    """Strengths built by support fade back towards the resident's baseline, in place:
    ``s += rate * (baseline - s)`` per week."""
    strength += np.float32(rate) * (baseline - strength)
    return strength


# --- 2. Needs interact --------------------------------------------------------------------------------------
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


# --- 3. Help-seeking ----------------------------------------------------------------------------------------
def seek_probability(need_max: np.ndarray, trust: np.ndarray, seek_rate: float, seek_floor: float) -> np.ndarray:
    """Weekly chance of asking for help: ``seek_rate * trust * need_max`` where ``need_max >= seek_floor``, else 0.

    Low trust delays contact: a resident who distrusts the door waits until need, and often crisis, is high.
    """
    return np.where(need_max >= seek_floor, seek_rate * trust * need_max, 0.0)


# --- 7. Trust -------------------------------------------------------------------------------------------------
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


# --- 7. Provider ties -------------------------------------------------------------------------------------------
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


def collaboration_density(ties: np.ndarray, open_mask: np.ndarray, threshold: float) -> float:
    """Share of pairs of open providers whose tie is at least ``threshold``."""
    sub = ties[np.ix_(open_mask, open_mask)]
    n = sub.shape[0]
    if n < 2:
        return 0.0
    return float((sub[np.triu_indices(n, 1)] >= threshold).mean())


def mean_tie_strength(ties: np.ndarray, open_mask: np.ndarray) -> float:
    sub = ties[np.ix_(open_mask, open_mask)]
    n = sub.shape[0]
    return float(sub[np.triu_indices(n, 1)].mean()) if n >= 2 else 0.0


# --- 9. Spread of practice ----------------------------------------------------------------------------------------
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


# --- Wellbeing ------------------------------------------------------------------------------------------------
def wellbeing(need: np.ndarray, connection: np.ndarray) -> np.ndarray:
    """Resident wellbeing in [0, 1]: ``(1 - (mean need + max need) / 2) * (0.85 + 0.15 * connection)``.

    Half the mean and half the worst need, so one severe need weighs more than several mild ones; social
    connection is worth up to 15 %.
    """
    burden = 0.5 * (row_sum(need) / need.shape[1] + row_max(need))
    return (1.0 - burden) * (0.85 + 0.15 * connection)


# --- 4, 8, 9. Capacity, rationing and money ----------------------------------------------------------------------
def weekly_allowance(budget_year: np.ndarray, budget_remaining: np.ndarray, weeks_left: int) -> np.ndarray:
    """Money a provider may spend on staff this week (GBP): the planned ``budget_year / 52``, unless what is left
    of the year's budget spread over the weeks left is less (a hiring freeze after emergencies ate the budget)."""
    return np.minimum(budget_year / 52.0, np.maximum(budget_remaining, 0.0) / max(weeks_left, 1))


def staff_capacity(allowance: np.ndarray, unit_cost: np.ndarray, relationship_time_share: np.ndarray) -> np.ndarray:
    """Case units a provider can staff this week: ``allowance / unit_cost * (1 - relationship_time_share)``."""
    return allowance / unit_cost * (1.0 - relationship_time_share)


def admit_ranked(provider: np.ndarray, wait_weeks: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Which waiting residents start support: the longest-waiting ``floor(free[p])`` at each provider p.

    ``provider`` and ``wait_weeks`` describe the waiting residents; returns a boolean mask over them. Ties in
    waiting time are broken by position, so the result is deterministic.
    """
    if provider.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((np.arange(provider.size), -wait_weeks, provider))
    sorted_provider = provider[order]
    first = np.searchsorted(sorted_provider, sorted_provider, side="left")
    rank = np.arange(provider.size) - first
    slots = np.floor(np.maximum(free, 0.0)).astype(np.int64)
    admitted = np.zeros(provider.size, dtype=bool)
    admitted[order] = rank < slots[sorted_provider]
    return admitted


def ration_thresholds(
    threshold: np.ndarray, base: float, waiting: np.ndarray, capacity: np.ndarray, response: float,
    ceiling: float = 0.85,
) -> np.ndarray:
    """Quarterly rationing: thresholds rise when waiting lists exceed capacity and fall back towards ``base``.

    ``threshold += 0.05 * response * (waiting / capacity - 1)``, kept within ``[base, max(base, ceiling)]``.
    With ``response = 0`` thresholds stay at ``base``.
    """
    pressure = waiting / np.maximum(capacity, 1.0)
    new = threshold + 0.05 * response * (pressure - 1.0)
    return np.clip(new, base, max(base, ceiling))


def split_budget(total: float, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` (GBP) in proportion to non-negative ``weights``; equally if they are all zero."""
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    return total * weights / weights.sum()


def prevention_after_overspend(factor: float, overspend_ratio: float, response: float) -> float:
    """Share of planned prevention funding kept after a year whose emergencies overspent the budget.

    ``factor * (1 - min(1, response * overspend_ratio))``: a commissioner under pressure cuts prevention grants
    first (NPI 2017: homelessness prevention -46 % while crisis spending rose +58 %).
    """
    return factor * (1.0 - min(1.0, response * max(overspend_ratio, 0.0)))
