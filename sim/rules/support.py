"""Support and closing cases (ODD 7.7): how support lowers needs this week, and which cases close and how.

Arrays describe the open cases, one row each. ``D`` need domains and ``S = D`` services: service s serves
domain s, so a provider's index below S is also its own domain.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SupportWeek(NamedTuple):
    effect: np.ndarray  # (k, D) float32: the fall in need this week
    addressed: np.ndarray  # (k, D) float32 in [0, 1]: how far support addresses each domain (ODD 7.2)
    units: np.ndarray  # (k,) float32: staff case units the lead provider spends on the case
    engaged: np.ndarray  # (k, S) bool: partners engaged in joint work (bespoke cases only)


def support_week(need: np.ndarray, provider: np.ndarray, case_domain: np.ndarray, quality: np.ndarray,
                 knowledge: np.ndarray, ties_to_services: np.ndarray, *, support_effect_rate: float,
                 standardised_fit: float, generalist_share: float, community_effect_rate: float,
                 coordination_cost: float, joint_work_min_tie: float, resolved_level: float) -> SupportWeek:
    """One week of support for each open case.

    ``provider`` is the case's provider (community organisations have indices ``>= S``); ``case_domain`` the
    domain of a standardised episode, or -1 for whole-person support; ``quality`` = (0.5 + 0.5 trust) x stretch
    (:func:`quality`); ``knowledge`` the provider's practice knowledge; ``ties_to_services`` (k, S) its ties to
    each service. The fall in need is ``support_effect_rate * knowledge * quality * w`` with weights w:

    - a **standardised** episode: ``standardised_fit`` on its domain only;
    - **bespoke** (whole-person) support at a service: 1 on its own domain and
      ``generalist_share + (1 - generalist_share) * tie`` elsewhere (partner expertise comes through working
      relationships). A partner is *engaged* on a domain whose need is above ``resolved_level`` when the tie is
      at least ``joint_work_min_tie``; each engaged partner costs ``coordination_cost`` case units;
    - a **community organisation**: ``community_effect_rate * quality`` on every domain.

    ``addressed`` (how far support addresses each domain, which shields it from coupling, ODD 7.2) is the weight
    w clipped to 1; for a community organisation it is ``community_effect_rate / support_effect_rate`` on every
    domain (its light support, relative to a service's).
    """
    k, d = need.shape
    n_services = ties_to_services.shape[1]
    weights = np.zeros((k, d), np.float32)
    standard = case_domain >= 0
    at_org = provider >= n_services
    bespoke = ~standard & ~at_org
    weights[np.flatnonzero(standard), case_domain[standard]] = standardised_fit
    units = np.ones(k, np.float32)
    engaged = np.zeros((k, n_services), dtype=bool)
    if bespoke.any():
        own = provider[bespoke]
        tie = ties_to_services[bespoke].astype(np.float32)
        w = generalist_share + (1.0 - generalist_share) * tie
        w[np.arange(own.size), own] = 1.0
        weights[bespoke] = w
        partners = (tie >= joint_work_min_tie) & (need[bespoke] > resolved_level)
        partners[np.arange(own.size), own] = False
        units[bespoke] = 1.0 + coordination_cost * partners.sum(axis=1)
        engaged[bespoke] = partners
    effect = (support_effect_rate * knowledge * quality).astype(np.float32)[:, None] * weights
    if at_org.any():
        effect[at_org] = (community_effect_rate * quality[at_org]).astype(np.float32)[:, None]
        weights[at_org] = community_effect_rate / max(support_effect_rate, 1e-9)
    return SupportWeek(effect, np.minimum(weights, 1.0), units, engaged)


def quality(trust: np.ndarray, stretch: np.ndarray) -> np.ndarray:
    """How well support lands: ``(0.5 + 0.5 * trust in the provider) * stretch`` (stretch = min(1,
    capacity / demand): staff spread thin when over capacity)."""
    return (0.5 + 0.5 * trust) * stretch


class Closures(NamedTuple):
    """Which cases close this week, and the failures their closing leaves (rows: the closing cases)."""

    closes: np.ndarray  # (k,) bool over all open cases
    resolved: np.ndarray  # (c,) bool: every need below resolved_level
    early: np.ndarray  # (c, D) bool: domains left unresolved by an early closure
    linked: np.ndarray  # (c, D) bool: high needs in domains a standardised episode did not touch
    onward: np.ndarray  # (c,) int: the linked need to refer on (-1 = none)


def close_cases(need: np.ndarray, weeks: np.ndarray, case_domain: np.ndarray, episode_weeks: np.ndarray,
                longest_weeks: np.ndarray, resolved_level: float, need_threshold: float) -> Closures:
    """Closing rules (ODD 7.7) for open cases after this week's support.

    A standardised episode (``case_domain >= 0``) closes after ``episode_weeks``, resolved or not (closed on
    target); other support closes when every need is below ``resolved_level`` or at ``longest_weeks``. On
    closing, *early closure* failures are the treated domain (standardised) or every domain (whole person)
    still above ``resolved_level``; *linked needs* are domains a standardised episode did not treat whose need is
    at least ``need_threshold``. A standardised episode refers on the highest linked need it left.
    """
    standard = case_domain >= 0
    resolved = need.max(axis=1) < resolved_level
    closes = np.where(standard, weeks >= episode_weeks, resolved | (weeks >= longest_weeks))
    need, standard, resolved = need[closes], standard[closes], resolved[closes]
    d = need.shape[1]
    treated = np.where(standard, case_domain[closes], need.argmax(axis=1)).astype(np.intp)
    unresolved = need > resolved_level
    early = np.where(standard[:, None], np.eye(d, dtype=bool)[treated], True) & unresolved
    linked = standard[:, None] & ~np.eye(d, dtype=bool)[treated] & (need >= need_threshold)
    onward = np.where(linked.any(axis=1), np.where(linked, need, -1.0).argmax(axis=1), -1)
    return Closures(closes, resolved, early, linked, onward)
