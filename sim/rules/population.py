"""Who lives in the place (ODD 5 initialisation, 7.18 moving in and out, 7.19 entrenched needs).

A resident is drawn from the profile of their neighbourhood, at the start and whenever a newcomer moves in:
needs, strengths, trust and whether they carry entrenched disadvantage (a history of adversity that holds some
needs at a chronic level). Each week residents leave the place - moving away or dying - with a hazard that rises
with their largest need and with their neighbourhood's deprivation, and each leaver's home is taken by a
newcomer, so the population stays the size of the place.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .trust import starting_trust

WEEKS_PER_YEAR = 52


# --- 7.18 Moving in and out ---------------------------------------------------------------------------------------
def weekly_rate(yearly: float) -> float:
    """The weekly chance equivalent to a yearly one: ``1 - (1 - yearly)^(1/52)``."""
    return 1.0 - (1.0 - yearly) ** (1.0 / WEEKS_PER_YEAR)


def relative_by_deprivation(deprivation: np.ndarray, gradient: float) -> np.ndarray:
    """``(1 + gradient * d) / mean(1 + gradient * d)`` per neighbourhood: the most deprived (d = 1) are ``1 +
    gradient`` times the least (d = 0), and the place's average is 1."""
    relative = 1.0 + gradient * np.asarray(deprivation, float)
    return relative / relative.mean()


def leave_hazard(need_max: np.ndarray, place_factor: np.ndarray, leave_rate: float,
                 need_gradient: float) -> np.ndarray:
    """Weekly chance each resident leaves: ``weekly(leave_rate) * (1 + need_gradient * need_max) * place_factor``,
    capped at 1. ``place_factor`` is the resident's neighbourhood's :func:`relative_by_deprivation`."""
    return np.minimum(weekly_rate(leave_rate) * (1.0 + need_gradient * need_max) * place_factor, 1.0)


def who_leaves(n: int, ceiling: float, hazard_of, rng: np.random.Generator) -> np.ndarray:
    """Rows (sorted) of the residents who leave this week, each independently with its own weekly hazard.

    By thinning, so that a week costs what the leavers cost, not what the population does: every one of the ``n``
    residents is a candidate with probability ``ceiling`` (a uniformly random subset of Binomial(n, ceiling)
    rows), and a candidate leaves with probability ``hazard_of(rows) / ceiling``. ``ceiling`` must bound every
    hazard. Draws: the number of candidates, which rows, one number per candidate.
    """
    k = int(rng.binomial(n, min(ceiling, 1.0)))
    if k == 0:
        return np.empty(0, np.intp)
    rows = np.sort(rng.choice(n, size=k, replace=False))
    return rows[rng.random(k) * ceiling < hazard_of(rows)]


# --- ODD 5 and 7.19: who a resident is ------------------------------------------------------------------------------
class Profile(NamedTuple):
    """What a resident of each neighbourhood is drawn from (arrays over neighbourhoods k, domains d)."""

    need_mean: np.ndarray  # (K, D): mean starting need, initial_need_scale * (0.15 + deprivation)
    overall: np.ndarray  # (K,): overall deprivation
    p_entrenched: np.ndarray  # (K,): chance a resident carries entrenched disadvantage
    chronic_domains: np.ndarray  # (D,) bool: domains entrenched disadvantage can hold at a chronic level
    p_chronic_domain: float
    chronic_level: float
    entrenchment_recovery_rate: float  # weekly chance entrenched disadvantage ends on its own
    initial_trust: float
    trust_deprivation_gradient: float


class Person(NamedTuple):
    """Newly drawn residents, one row each (float32 unless said)."""

    need: np.ndarray  # (n, D)
    resilience: np.ndarray
    connection: np.ndarray
    trust: np.ndarray  # (n, T)
    entrenchment: np.ndarray  # 1 for entrenched disadvantage, else 0
    chronic: np.ndarray  # (n, D) bool: the domains held at a chronic level


def entrenched_probability(overall: np.ndarray, share: float, gradient: float) -> np.ndarray:
    """Chance a resident of each neighbourhood carries entrenched disadvantage: ``share`` on average over the
    place's neighbourhoods, ``1 + gradient`` times as likely in the most deprived as in the least; capped at 1."""
    return np.minimum(share * relative_by_deprivation(overall, gradient), 1.0)


def chronic_floor(entrenchment: np.ndarray, chronic: np.ndarray, level: float) -> np.ndarray:
    """The need each domain returns to, per resident: ``level * entrenchment`` on chronic domains, else 0."""
    return (np.float32(level) * entrenchment)[:, None] * chronic


def draw_people(home: np.ndarray, profile: Profile, n_trust: int, rng: np.random.Generator,
                settled_hazard: np.ndarray | None = None) -> Person:
    """Residents for the homes ``home`` (neighbourhood indices), drawn from the neighbourhoods' profiles.

    - needs ~ Exp(mean = ``need_mean`` of the neighbourhood and domain), capped at 1: heavy-tailed, near the
      model's long-run level;
    - resilience = clip(0.7 - 0.3 overall deprivation + N(0, 0.1), 0.05, 1); connection ~ Beta(4, 3), >= 0.05;
    - entrenched disadvantage (entrenchment 1) with probability ``p_entrenched`` of the neighbourhood; an entrenched
      resident holds each of the ``chronic_domains`` at a chronic level with probability ``p_chronic_domain``
      (Hard Edges: the three systems overlap but not completely), and starts there:
      need = max(need, ``chronic_level`` * entrenchment);
    - with ``settled_hazard`` (residents who lived here before the simulation started), each has lived here for a
      time drawn from the stationary distribution of residence, Exp(mean = 1 / ``settled_hazard``) weeks, and is
      still entrenched only if their entrenchment has not ended in that time (each week it ends with chance
      ``entrenchment_recovery_rate``: survival ``(1 - entrenchment_recovery_rate) ** weeks``), so that the place
      starts near its long-run stock of entrenched disadvantage;
    - trust = starting trust of the neighbourhood (``initial_trust * (1 - gradient * deprivation)``) + N(0, 0.05),
      clipped to [0.01, 1], in every column: no history with any provider.

    Draws, in this order: needs, resilience, connection, entrenchment, weeks settled and survival (with
    ``settled_hazard``), chronic domains, trust.
    """
    n, d = home.size, profile.need_mean.shape[1]
    overall = profile.overall[home]
    need = np.clip(profile.need_mean[home] * rng.exponential(1.0, size=(n, d)), 0.0, 1.0).astype(np.float32)
    resilience = np.clip(0.7 - 0.3 * overall + rng.normal(0, 0.1, n), 0.05, 1.0).astype(np.float32)
    connection = np.clip(rng.beta(4.0, 3.0, size=n), 0.05, 1.0).astype(np.float32)
    entrenchment = (rng.random(n) < profile.p_entrenched[home]).astype(np.float32)
    if settled_hazard is not None:
        settled = rng.exponential(1.0, n) / np.maximum(settled_hazard, 1e-9)
        survived = rng.random(n) < (1.0 - profile.entrenchment_recovery_rate) ** settled
        entrenchment *= survived.astype(np.float32)
    chronic = (rng.random((n, d)) < profile.p_chronic_domain) & profile.chronic_domains & (entrenchment[:, None] > 0)
    np.maximum(need, chronic_floor(entrenchment, chronic, profile.chronic_level), out=need)
    start = starting_trust(profile.initial_trust, profile.trust_deprivation_gradient, overall)
    trust = np.clip(start[:, None] + rng.normal(0.0, 0.05, size=(n, n_trust)), 0.01, 1.0).astype(np.float32)
    return Person(need, resilience, connection, trust, entrenchment, chronic)


def recover_entrenchment(entrenchment: np.ndarray, rows: np.ndarray, rate: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Entrenched disadvantage ends on its own, rarely, in place: each of ``rows`` (the entrenched) leaves it
    (entrenchment 1 -> 0) with chance ``rate`` this week, so the time it lasts is geometric with mean 1 / ``rate``
    weeks: a cohort's share still entrenched falls by the same fraction every year, as the share of long-term
    homeless people not yet housed does (J2SI). Draws one uniform per row when ``rate > 0``."""
    if rows.size and rate > 0:
        ends = rng.random(rows.size) < rate
        entrenchment[rows[ends]] = 0.0
    return entrenchment


def heal(entrenchment: np.ndarray, rows: np.ndarray, rate: float, quality: np.ndarray,
         rng: np.random.Generator) -> np.ndarray:
    """Sustained whole-person support ends entrenched disadvantage sooner, in place: each entrenched resident of
    ``rows`` leaves it with chance ``rate * quality`` this week (quality of the support, 0-1). Draws one uniform per
    entrenched row of ``rows`` when ``rate > 0``."""
    if rows.size and rate > 0:
        held = entrenchment[rows] > 0
        rows, quality = rows[held], quality[held]
        if rows.size:
            ends = rng.random(rows.size) < rate * quality
            entrenchment[rows[ends]] = 0.0
    return entrenchment
