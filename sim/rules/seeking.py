"""Help-seeking (ODD 7.4): who asks for help this week, at which door, and who acts on a signpost or chases.

Providers are indexed 0..S-1 for the services (service s serves domain s), then S.. for community
organisations.
"""

from __future__ import annotations

import numpy as np


def seek_probability(need_max: np.ndarray, trust: np.ndarray, seek_rate: float, seek_floor: float) -> np.ndarray:
    """Weekly chance of asking for help: ``seek_rate * trust * need_max`` where ``need_max >= seek_floor``, else 0.

    Low trust delays contact: a resident who distrusts the door waits until need, and often crisis, is high.
    """
    return np.where(need_max >= seek_floor, seek_rate * trust * need_max, 0.0)


def choose_door(domain: np.ndarray, local_org: np.ndarray, org_open: np.ndarray, n_services: int,
                p_community_door: float, p_wrong_door: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The door each help-seeker tries, and whether it is their local community organisation.

    With probability ``p_community_door`` the local organisation (if open); otherwise the service for
    ``domain`` (their largest need), or with probability ``p_wrong_door`` another service, uniformly. Draws three
    numbers per seeker, in this order: community door, wrong door, which other service.
    """
    n = domain.size
    to_org = (rng.random(n) < p_community_door) & org_open
    wrong = rng.random(n) < p_wrong_door
    other = (domain + rng.integers(1, max(n_services, 2), size=n)) % n_services
    door = np.where(to_org, local_org, np.where(wrong & (n_services > 1), other, domain)).astype(np.int16)
    return door, to_org


def acts_on_signpost(trust: np.ndarray, p_take_up: float, rng: np.random.Generator) -> np.ndarray:
    """Which signpost holders contact the provider they were sent to this week: ``p_take_up * trust``."""
    return rng.random(trust.size) < p_take_up * trust


def chases(n: int, p_chase: float, rng: np.random.Generator) -> np.ndarray:
    """Which of ``n`` residents waiting past ``chase_after_weeks`` chase this week (probability ``p_chase``)."""
    return rng.random(n) < p_chase
