"""Money, capacity and rationing (ODD 7.10): budgets in GBP, staff capacity in case units per week."""

from __future__ import annotations

import numpy as np


def weekly_allowance(budget_year: np.ndarray, budget_remaining: np.ndarray, weeks_left: int) -> np.ndarray:
    """Money a provider may spend on staff this week (GBP): the planned ``budget_year / 52``, unless what is left
    of the year's budget spread over the weeks left is less (a hiring freeze after emergencies ate the budget)."""
    return np.minimum(budget_year / 52.0, np.maximum(budget_remaining, 0.0) / max(weeks_left, 1))


def shortfall(budget_year: np.ndarray, budget_remaining: np.ndarray, weeks_left: int) -> np.ndarray:
    """Budget pressure per provider, in [0, 1]: the share of its planned weekly staffing it cannot afford this week,
    ``1 - weekly_allowance / (budget_year / 52)`` (0 for a provider with no budget)."""
    planned = budget_year / 52.0
    allowance = weekly_allowance(budget_year, budget_remaining, weeks_left)
    with np.errstate(invalid="ignore", divide="ignore"):
        short = np.where(planned > 0, 1.0 - allowance / planned, 0.0)
    return np.clip(short, 0.0, 1.0)


def relationship_time(share: np.ndarray, budget_year: np.ndarray, budget_remaining: np.ndarray, weeks_left: int,
                      cut: float) -> np.ndarray:
    """Staff time a provider gives to relationships with other providers under budget pressure:
    ``share * (1 - cut * shortfall)`` (the seeds: under pressure, "relationships fall by the wayside" - staff
    time for joint work is the first thing cut; ``cut = 0`` keeps it whatever the budget)."""
    return share * (1.0 - cut * shortfall(budget_year, budget_remaining, weeks_left))


def staff_capacity(allowance: np.ndarray, unit_cost: np.ndarray, time_away_share: np.ndarray) -> np.ndarray:
    """Case units a provider can staff this week: ``allowance / unit_cost * (1 - time_away_share)``, where
    ``time_away_share`` is the staff time given to other work (relationships with other providers; training and
    redesign while changing the way of working)."""
    return allowance / unit_cost * (1.0 - time_away_share)


def ration_thresholds(
    threshold: np.ndarray, base: float, waiting: np.ndarray, capacity: np.ndarray, response: float,
    ceiling: float = 0.85,
) -> np.ndarray:
    """Quarterly rationing: thresholds rise when waiting lists exceed capacity and fall back towards ``base``.

    ``threshold += 0.05 * response * (waiting / capacity - 1)``, kept within ``[base, max(base, ceiling)]``.
    With ``response = 0`` thresholds stay where they are (at ``base`` once reform has reset them).
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


def annual_budget(per_resident: float, residents: int, change_per_year: float, year: int) -> float:
    """The year's budget for the modelled services (GBP): ``per_resident * N * (1 + change)^year``."""
    return per_resident * residents * (1.0 + change_per_year) ** year


def emergency_set_aside(last_year: np.ndarray, total: float) -> np.ndarray:
    """What each service's budget sets aside for emergencies before staffing (GBP): last year's declared emergency
    spend (crises and emergency spells: a statutory duty, funded first), scaled down to ``total`` if it exceeds it.
    Under a falling budget the cut therefore falls on staffing, that is on prevention (NPI 2017)."""
    last_year = np.maximum(np.asarray(last_year, dtype=float), 0.0)
    need = last_year.sum()
    return last_year * (min(1.0, total / need) if need > 0 else 0.0)


def prevention_after_overspend(factor: float, overspend_ratio: float, response: float) -> float:
    """Share of planned prevention funding kept after a year whose emergencies overspent the budget.

    ``factor * (1 - min(1, response * overspend_ratio))``: a commissioner under pressure cuts prevention grants
    first (NPI 2017: homelessness prevention -46 % while crisis spending rose +58 %).
    """
    return factor * (1.0 - min(1.0, response * max(overspend_ratio, 0.0)))


def retender(due: np.ndarray, protected: np.ndarray, p_loss: float, rng: np.random.Generator) -> np.ndarray:
    """Which contracts coming up for renewal (``due``, in order) the incumbent loses at a competitive retender.

    Every due contract draws, protected or not, so protecting one provider moves no one else's draw; a
    protected provider (an in-house team) never loses.
    """
    lost = np.zeros(due.size, dtype=bool)
    for i in range(due.size):
        lost[i] = (rng.random() < p_loss) and not protected[i]
    return lost
