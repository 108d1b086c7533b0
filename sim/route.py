"""The route from silo to whole-system working (ODD 7.15): practice per provider, infrastructure, reform, spread.

:class:`Practice` is the one owner of which way each provider works (``adopted``); the per-provider practice
levers the weekly phases read (``no_wrong_door``, ``bespoke``, ...) are derived from it and kept in step by it.
:class:`Route` holds the infrastructure in force and the scenario's timetable: who starts, who is licensed, when
each part of infrastructure is reformed, and the quarterly spread and slipping back of the new way.
"""

from __future__ import annotations

import numpy as np

from .params import ALL, COMMUNITY, INFRASTRUCTURE_PARTS, Params, PracticeWays
from .rules import spread

# The components of a way of working, each with the practice lever that carries it: what the new way changes
# (episode and case lengths and the code's learning rate are settings of a component, not components).
PRACTICE_COMPONENTS = {
    "no_wrong_door": "no_wrong_door",
    "bespoke_support": "bespoke_support",  # whole-person support
    "warm_handoff": "referral",
    "relationship_time": "relationship_time_share",  # staff time for relationships with other providers
    "devolved_discretion": "p_socialisation",
    "proportionate_response": "proportionate_response",
    "triage_by_need": "waiting_order",
}


def change_extent(ways: PracticeWays) -> float:
    """Share of the components of practice that differ between the usual and the new way (how much a provider
    that adopts the new way has to change: what its staff retrain for, ODD 7.16)."""
    levers = PRACTICE_COMPONENTS.values()
    return sum(getattr(ways.usual, lever) != getattr(ways.new, lever) for lever in levers) / len(levers)


def provider_mask(names: list[str], domains: list[str], n_providers: int) -> np.ndarray:
    """Providers named by service domain, ``community`` (every organisation) or ``all``."""
    mask = np.zeros(n_providers, dtype=bool)
    for name in names:
        if name == ALL:
            mask[:] = True
        elif name == COMMUNITY:
            mask[len(domains):] = True
        else:
            mask[domains.index(name)] = True
    return mask


class Practice:
    """Which way each provider works, and the practice levers that follow from it.

    ``adopted[p]`` is True when provider p works the new way (``practice.new``), else the usual way
    (``practice.usual``); ``since[p]`` is the week it started working the new way (-1 for the usual way), which
    the cost of change reads (ODD 7.16). Both are read-only: every change goes through :meth:`set` or
    :meth:`revert`, which recompute the lever arrays, so they can never disagree. A change reaches new cases only:
    a case keeps the kind of support it was admitted to.
    """

    def __init__(self, ways: PracticeWays, n_providers: int) -> None:
        self.ways = ways
        self.extent = change_extent(ways)
        self._adopted = np.zeros(n_providers, dtype=bool)
        self._since = np.full(n_providers, -1, dtype=np.int64)
        self.set(self._adopted, week=-1)

    @property
    def adopted(self) -> np.ndarray:
        return self._adopted

    @property
    def since(self) -> np.ndarray:
        return self._since

    def set(self, adopted: np.ndarray, week: int) -> None:
        """Set who works the new way from ``week`` on, and every lever with it."""
        adopted = np.array(adopted, dtype=bool)
        since = np.where(adopted, np.where(self._adopted, self._since, week), -1)
        adopted.flags.writeable = False
        since.flags.writeable = False
        self._adopted, self._since = adopted, since
        usual, new = self.ways.usual, self.ways.new

        def pick(name: str) -> np.ndarray:
            return np.where(adopted, getattr(new, name), getattr(usual, name))

        self.no_wrong_door = pick("no_wrong_door").astype(bool)
        self.bespoke = pick("bespoke_support").astype(bool)
        self.warm_handoff = pick("referral") == "warm_handoff"
        self.episode_weeks = pick("episode_weeks")
        self.max_case_weeks = pick("max_case_weeks")
        self.relationship_time = pick("relationship_time_share").astype(float)
        self.p_socialisation = pick("p_socialisation").astype(float)
        self.p_code_learning = pick("p_code_learning").astype(float)
        self.proportionate = pick("proportionate_response").astype(bool)
        self.by_need = pick("waiting_order") == "need"

    def revert(self, providers: np.ndarray | list[int]) -> None:
        """These providers go back to the usual way (a retendered newcomer, a closed organisation)."""
        adopted = self._adopted.copy()
        adopted[np.asarray(providers, dtype=np.intp)] = False
        self.set(adopted, week=-1)


class Route:
    """The scenario's route: infrastructure in force, licences, reform and the spread of the new way.

    Until :meth:`start` (the end of the burn-in, evaluated year 0) every provider works the usual way within
    infrastructure ``before``. Each part of infrastructure is then ``before`` until its reform year and ``after``
    from then on, for the whole place.
    """

    def __init__(self, params: Params, domains: list[str], n_providers: int) -> None:
        self.params = params
        self.domains = domains
        self.n_providers = n_providers
        self.practice = Practice(params.practice, n_providers)
        self.parts = {part: getattr(params.infrastructure.before, part) for part in INFRASTRUCTURE_PARTS}
        self.reformed = dict.fromkeys(INFRASTRUCTURE_PARTS, False)
        self.started = False
        self.licensed = np.zeros(n_providers, dtype=bool)  # may adopt before commissioning permits everyone
        self.closures_quarter = np.zeros(n_providers)  # cases closed this quarter, and closed well: the
        self.good_closures_quarter = np.zeros(n_providers)  # results partners see (visible results)

    # the part of infrastructure in force, by name
    @property
    def commissioning(self):
        return self.parts["commissioning"]

    @property
    def accountability(self):
        return self.parts["accountability"]

    @property
    def funding(self):
        return self.parts["funding"]

    @property
    def staff_development(self):
        return self.parts["staff_development"]

    def mask(self, names: list[str]) -> np.ndarray:
        return provider_mask(names, self.domains, self.n_providers)

    def start(self, open_mask: np.ndarray, week: int) -> None:
        """Year 0 (``week``): the first adopters start working the new way, and licences are given."""
        route = self.params.scenario
        self.started = True
        first = self.mask(route.first_adopters)
        self.licensed = self.mask(route.licensed) | first
        self.practice.set(self.practice.adopted | (first & open_mask), week)

    def reforms_due(self, year: int) -> list[str]:
        """Parts of infrastructure the scenario reforms at the start of evaluated year ``year``."""
        return [part for part in INFRASTRUCTURE_PARTS if getattr(self.params.scenario.reform, part) == year]

    def reform(self, part: str) -> None:
        """One part of infrastructure takes its reformed settings for the whole place from now on."""
        self.reformed[part] = True
        self.parts[part] = getattr(self.params.infrastructure.after, part)

    def reformed_share(self) -> float:
        """Share of the four parts of infrastructure reformed so far."""
        return sum(self.reformed.values()) / len(self.reformed)

    def permitted(self) -> np.ndarray:
        """Providers that may work the new way: all once commissioning permits it, else the licensed ones."""
        if self.commissioning.permits_new_practice:
            return np.ones(self.n_providers, dtype=bool)
        return self.licensed.copy()

    def record_closures(self, provider: np.ndarray, good: np.ndarray) -> None:
        """Count this week's closures (and good ones) towards each provider's visible results."""
        self.closures_quarter += np.bincount(provider, minlength=self.n_providers)
        self.good_closures_quarter += np.bincount(provider[good], minlength=self.n_providers)

    def spread(self, ties: np.ndarray, open_mask: np.ndarray, rng: np.random.Generator,
               week: int) -> tuple[int, int]:
        """Quarterly spread of the new way along working relationships; returns (adoptions, slips back).

        Adopters slip back with probability ``p_slip_back`` times the share of infrastructure not yet reformed. A
        permitted provider adopts when its exposure - the sum over adopting partners of tie strength times the
        partner's visible results - reaches ``adoption_threshold``; with ``p_leader_adoption``, permitted
        providers also adopt without exposure. Both rules read the quarter's starting state. Nothing spreads
        before the route starts. The quarter's closure counts are reset either way.
        """
        world, rel, route = self.params.uncertainty, self.params.relations, self.params.scenario
        adoptions = slips = 0
        if self.started:
            before = self.practice.adopted & open_mask
            visible = spread.visible_results(self.good_closures_quarter, self.closures_quarter, open_mask,
                                             rel.results_weight)
            exposure = spread.adoption_exposure(ties, before, visible)
            permitted = self.permitted() & open_mask
            adopted = spread.threshold_adoption(before, exposure, world.adoption_threshold, permitted)
            kept = spread.slip_back(before, world.p_slip_back * (1.0 - self.reformed_share()), rng)
            adopted = np.where(before, kept, adopted)
            adopted |= spread.leader_adoption(permitted & ~adopted & ~before, route.p_leader_adoption, rng)
            adoptions, slips = int((adopted & ~before).sum()), int((before & ~adopted).sum())
            self.practice.set(adopted, week)
        self.closures_quarter[:] = 0.0
        self.good_closures_quarter[:] = 0.0
        return adoptions, slips
