"""Triage and admission (ODD 7.6): what a door does with each person who arrives, and who starts support.

Arrays describe this week's arrivals, one entry each; per-door levers (threshold, practice) are already looked
up for each arrival's door.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Triage(NamedTuple):
    """What happens to each arrival (boolean masks over arrivals; every arrival is in exactly one of
    ``refer_service``, ``refer_community``, ``refused``, ``brief_help`` and ``queue``)."""

    refer_service: np.ndarray  # referred to the service for the presenting domain
    bounced: np.ndarray  # of those, wrong doors that count as a bounce (a bad experience)
    refer_community: np.ndarray  # below the service's bar, passed to the local community organisation
    refused: np.ndarray  # below the bar and refused
    brief_help: np.ndarray  # helped on the spot (a community organisation, or a proportionate response), no case
    queue: np.ndarray  # onto the door's waiting list


def triage(at_service: np.ndarray, presenting_is_door: np.ndarray, need: np.ndarray, threshold: np.ndarray,
           bespoke: np.ndarray, no_wrong_door: np.ndarray, local_org_open: np.ndarray, org_case_ceiling: float,
           brief_help_below: float, proportionate: np.ndarray | None = None) -> Triage:
    """Triage at the door (ODD 7.6).

    At a **service** (``at_service``) whose practice gives a ``proportionate`` first response, a need below
    ``brief_help_below`` - whatever its domain - is settled there and then (brief help: a conversation, a form, a
    connection), and no case is opened. Otherwise a need outside the service's domain (``~presenting_is_door``) is
    referred to the right service unless the door gives whole-person (``bespoke``) support; without
    ``no_wrong_door`` that referral is a bounce. Otherwise the resident is eligible if ``need >= threshold``;
    below the bar, a ``no_wrong_door`` service passes them to their open local organisation
    (``local_org_open``), any other refuses them. At a **community organisation**: a need ``>= org_case_ceiling``
    is brokered to the service; below ``brief_help_below`` it is helped on the spot; anything between joins its
    waiting list. No community organisation turns anyone away.
    """
    proportionate = False if proportionate is None else proportionate
    settled_here = at_service & proportionate & (need < brief_help_below)
    assessed = at_service & ~settled_here
    org_refers = ~at_service & (need >= org_case_ceiling)
    outside = assessed & ~presenting_is_door & ~bespoke
    bounced = outside & ~no_wrong_door
    eligible = assessed & ~outside & (need >= threshold)
    below_bar = assessed & ~outside & ~eligible
    refer_community = below_bar & no_wrong_door & local_org_open
    refused = below_bar & ~refer_community
    brief_at_org = ~at_service & ~org_refers & (need < brief_help_below)
    queue = eligible | (~at_service & ~org_refers & ~brief_at_org)
    return Triage(org_refers | outside, bounced, refer_community, refused, brief_at_org | settled_here, queue)


def admit_ranked(provider: np.ndarray, wait_weeks: np.ndarray, free: np.ndarray,
                 priority: np.ndarray | None = None) -> np.ndarray:
    """Which waiting residents start support: the first ``floor(free[p])`` in each provider p's order.

    ``provider`` and ``wait_weeks`` describe the waiting residents; ``free`` is each provider's free staff
    capacity in case units. The order is by ``priority`` (highest first; by default the waiting time itself, so
    first come, first served), then the longest wait, then position, so the result is deterministic. Returns a
    boolean mask over the waiting residents.
    """
    if provider.size == 0:
        return np.zeros(0, dtype=bool)
    priority = wait_weeks if priority is None else priority
    order = np.lexsort((np.arange(provider.size), -wait_weeks, -priority, provider))
    sorted_provider = provider[order]
    first = np.searchsorted(sorted_provider, sorted_provider, side="left")
    rank = np.arange(provider.size) - first
    # more free places than people waiting admits everyone; clipping keeps huge capacities exact as integers
    slots = np.floor(np.clip(free, 0.0, provider.size)).astype(np.int64)
    admitted = np.zeros(provider.size, dtype=bool)
    admitted[order] = rank < slots[sorted_provider]
    return admitted


def waiting_priority(by_need: np.ndarray, wait_weeks: np.ndarray, need_max: np.ndarray) -> np.ndarray:
    """Each waiting resident's place in the order of the list they are on: their largest need (the risk of a
    crisis) where that provider orders its list by need, else how long they have waited (first come, first
    served). Orders are only ever compared within one provider's list."""
    return np.where(by_need, need_max.astype(np.float64), wait_weeks.astype(np.float64))
