"""Residents' journeys (ODD 7.11, observation): what happened, week by week, to a few followed residents.

A :class:`JourneyRecorder` is an observer of the model's phases (``PlaceModel.observers``): the phases report
what they have already computed (who asked for help at which door, who was bounced, refused, put on a waiting
list, admitted, referred, discharged, who had a crisis, who left the place) through ``PlaceModel._emit``, which
calls :meth:`JourneyRecorder.note`, and at the end of each week :meth:`JourneyRecorder.end_week` copies the
followed residents' needs, trust and status. It never draws a random number and never writes to the model, so
a run with residents followed gives exactly the results of a run without (tested). A followed resident who
leaves the place is recorded as leaving and followed no further: the newcomer who takes their row is someone
else.

Residents are chosen by :func:`choose_residents` from the state at week 0, which depends only on the place and
the seed, so the same rule picks the same people in every scenario run with that seed (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .model import PlaceModel

# What can happen to a resident in a week: kind -> (label, what it means). Order is the order of a timeline's rows.
EVENTS = {
    "crisis": ("crisis", "a need passed the crisis threshold: an emergency response"),
    "spell_started": ("emergency spell began", "e.g. temporary accommodation: it costs every week until it ends"),
    "spell_ended": ("emergency spell ended", "the need that started it was resolved"),
    "asked": ("asked for help", "a contact at a door (service or community organisation)"),
    "failure_contact": ("asked again (failure demand)", "a contact caused by an earlier failure (ODD 7.5)"),
    "chased": ("chased while waiting", "a contact to ask where they are on the list: failure demand"),
    "bounced": ("bounced (wrong door)", "sent to another service without a hand-off"),
    "refused": ("refused (below the bar)", "need below the service's eligibility threshold"),
    "brief_help": ("brief help", "helped on the spot; no case opened"),
    "queued": ("joined a waiting list", ""),
    "left_list": ("left the list (recovered)", "recovered while waiting"),
    "admitted": ("case opened", "support starts after the wait"),
    "closed": ("case closed, resolved", "closed with no need left high"),
    "closed_early": ("case closed early", "closed with a need still high: failure demand follows"),
    "warm_handoff": ("warm hand-off", "put in front of a partner, no new contact needed"),
    "signposted": ("signposted", "told where to go; must self-refer"),
    "lost_referral": ("signpost lapsed", "never acted on: a lost referral"),
    "left": ("left the place", "moved away or died: followed no further"),
}


class Event(NamedTuple):
    week: int
    resident: int  # row in the model's arrays
    kind: str  # a key of EVENTS
    provider: int  # provider index, or -1
    domain: int  # domain index, or -1


class JourneyRecorder:
    """Weekly snapshots and events of the residents in ``rows`` (array indices), from ``start`` onwards."""

    def __init__(self, model: PlaceModel, rows: np.ndarray) -> None:
        self.chosen = np.asarray(rows, np.int64)  # in the order given (e.g. rule by rule)
        self.rows = np.unique(self.chosen)
        self.start = int(model.steps)
        self.slot = np.full(model.n_residents, -1, np.int64)  # each followed resident's column, kept after they leave
        self.slot[self.rows] = np.arange(self.rows.size)
        self.following = self.slot >= 0  # by row: still followed (a newcomer in a leaver's row is not)
        self.events: list[Event] = []
        k = self.rows.size
        weeks = model.n_weeks - self.start + 1
        self.need = np.full((weeks, k, len(model.domains)), np.nan, np.float32)  # row 0 = the state at start
        self.trust = np.full((weeks, k, model.residents.trust.shape[1]), np.nan, np.float32)
        self.wellbeing = np.full((weeks, k), np.nan, np.float32)
        self.case_provider = np.full((weeks, k), -1, np.int16)
        self.wait_provider = np.full((weeks, k), -1, np.int16)
        self.referral_target = np.full((weeks, k), -1, np.int16)
        self.left_week = np.full(k, -1, np.int64)  # the week each followed resident left the place (-1: still here)
        self.weeks_recorded = 0
        self.end_week(model)

    def note(self, week: int, kind: str, who: np.ndarray, provider=None, domain=None) -> None:
        """Record ``kind`` for every followed resident among ``who`` (``provider``/``domain`` align with ``who``);
        a resident who left (``kind == "left"``) is followed no further."""
        if who.size == 0:
            return
        hit = np.flatnonzero(self.following[who])
        for i in hit.tolist():
            self.events.append(Event(
                week, int(who[i]), kind,
                -1 if provider is None else int(np.broadcast_to(provider, who.shape)[i]),
                -1 if domain is None else int(np.broadcast_to(domain, who.shape)[i]),
            ))
        if kind == "left" and hit.size:
            self.left_week[self.slot[who[hit]]] = week
            self.following[who[hit]] = False

    def end_week(self, model: PlaceModel) -> None:
        """Copy the followed residents' state at the end of the week (week ``model.steps``); nothing for those who
        have left (their rows hold someone else now)."""
        i = int(model.steps) - self.start
        if not 0 <= i < self.need.shape[0]:
            return
        here = self.left_week < 0
        rows, res = self.rows[here], model.residents
        self.need[i, here] = res.need[rows]
        self.trust[i, here] = res.trust[rows]
        self.wellbeing[i, here] = res.wellbeing[rows]
        self.case_provider[i, here] = res.case_provider[rows]
        self.wait_provider[i, here] = res.wait_provider[rows]
        self.referral_target[i, here] = res.referral_target[rows]
        self.weeks_recorded = i + 1

    def weeks(self) -> np.ndarray:
        """The weeks snapshots exist for (``start`` is the state before the first recorded week)."""
        return np.arange(self.start, self.start + self.weeks_recorded)

    def events_of(self, resident: int) -> list[Event]:
        return [e for e in self.events if e.resident == resident]


# --- choosing whom to follow -------------------------------------------------------------------------------------
RULES = {
    "multiple high needs, deprived": "the most high needs (≥ need threshold) among residents of the most deprived "
                                     "fifth of neighbourhoods; ties broken by total need",
    "one high need": "exactly one high need, the highest such need, in a neighbourhood of middling deprivation",
    "low needs, least deprived": "no high need and the lowest total need, in the least deprived fifth",
}


def choose_residents(model: PlaceModel, rule: str, count: int = 1, neighbourhood: int | None = None) -> np.ndarray:
    """``count`` residents (array rows) chosen by ``rule`` (a key of :data:`RULES`) from the model's current state.

    With ``neighbourhood``, residents are chosen within it instead of a band of deprivation. Deterministic: ties
    go to the lower row, so the same state gives the same residents.
    """
    threshold = model.params.relations.need_threshold
    high = (model.residents.need >= threshold).sum(axis=1)
    total = model.residents.need.sum(axis=1)
    quintile = model.place.deprivation_quintile()[model.residents.home]  # 0 = least deprived fifth, 4 = most
    most = int(quintile.max())
    if neighbourhood is not None:
        pool = model.residents.home == neighbourhood
    elif rule == "multiple high needs, deprived":
        pool = quintile == most
    elif rule == "one high need":
        pool = (quintile > 0) & (quintile < most)
    elif rule == "low needs, least deprived":
        pool = quintile == 0
    else:
        raise KeyError(f"unknown rule {rule!r}; choose from {sorted(RULES)}")
    if rule == "multiple high needs, deprived":
        score = high * 100.0 + total
    elif rule == "one high need":
        score = np.where(high == 1, model.residents.need.max(axis=1), -1.0)
    else:
        score = np.where(high == 0, -total, -np.inf)
    rows = np.flatnonzero(pool)
    if rows.size == 0:
        rows = np.arange(model.n_residents)
        score_rows = score
    else:
        score_rows = score[rows]
    order = np.lexsort((rows, -score_rows))
    return rows[order[:count]]
