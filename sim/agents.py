"""Mesa agents of the place model (ODD 2, entities): the model's face, not where resident state lives.

Residents' state is held in NumPy arrays owned by :class:`sim.model.PlaceModel`; a :class:`Resident` is a thin
handle onto its row, so Mesa tooling and the explorer still see agents. Services, community organisations and
the commissioner are few and rich; their quarterly and annual decisions are methods here, scheduled as Mesa
events by the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .route import provider_mask
from .rules import money, needs

if TYPE_CHECKING:
    from .model import PlaceModel


class Resident(mesa.Agent):
    """One resident: a handle onto row ``row`` of the model's resident arrays."""

    def __init__(self, model: PlaceModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def neighbourhood(self) -> int:
        return int(self.model.residents.home[self.row])

    @property
    def needs(self) -> dict[str, float]:
        return dict(zip(self.model.domains, self.model.residents.need[self.row].tolist(), strict=True))

    @property
    def wellbeing(self) -> float:
        r, row = self.model.residents, self.row
        return float(needs.wellbeing(r.need[row : row + 1], r.connection[row : row + 1])[0])

    @property
    def trust(self) -> np.ndarray:
        """Trust in each service, then in the local community organisation."""
        return self.model.residents.trust[self.row].copy()

    @property
    def provider(self) -> int:
        """Index of the provider supporting this resident, or -1."""
        return int(self.model.residents.case_provider[self.row])


class Provider(mesa.Agent):
    """Something residents can turn to: a service or a community organisation, index ``index`` in the arrays."""

    def __init__(self, model: PlaceModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.contract_years_left = 0  # its contract or grant, let by the commissioner in its first year

    @property
    def caseload(self) -> int:
        return int((self.model.residents.case_provider == self.index).sum())

    @property
    def waiting(self) -> int:
        return int((self.model.residents.wait_provider == self.index).sum())

    @property
    def capacity(self) -> float:
        return float(self.model.providers.capacity[self.index])

    @property
    def is_open(self) -> bool:
        return bool(self.model.providers.open[self.index])

    @property
    def adopted(self) -> bool:
        """Works the new (whole-system) way rather than the usual way."""
        return bool(self.model.practice.adopted[self.index])


class Service(Provider):
    """A public service for one need domain: budget, eligibility threshold, practice, waiting list."""

    def __init__(self, model: PlaceModel, index: int, domain: str) -> None:
        super().__init__(model, index, f"{domain} service")
        self.domain = domain

    @property
    def eligibility_threshold(self) -> float:
        return float(self.model.providers.threshold[self.index])


class CommunityOrganisation(Provider):
    """A small local organisation serving one cluster of neighbourhoods; lives on grants and can close."""

    def __init__(self, model: PlaceModel, index: int, cluster: int) -> None:
        super().__init__(model, index, f"community organisation {cluster + 1}")
        self.cluster = cluster
        self.initial_grant = 0.0


class Commissioner(mesa.Agent):
    """Sets budgets, lets and retenders contracts, grants community organisations, rations (ODD 7.10).

    Its levers are the infrastructure in force (``model.route``: commissioning, accountability, funding).
    """

    def __init__(self, model: PlaceModel) -> None:
        super().__init__(model)
        self.prevention_factor = 1.0  # share of planned prevention grants still funded
        self.year = 0

    def review_quarter(self) -> None:
        """Quarterly: silo rationing of thresholds to waiting lists; a pooled budget follows demand."""
        m = self.model
        route, pr = m.route, m.providers
        s = m.n_services
        wait = m.residents.wait_provider
        waiting = np.bincount(wait[wait >= 0], minlength=m.n_providers)[:s]
        pr.threshold[:s] = money.ration_thresholds(
            pr.threshold[:s], route.commissioning.eligibility_threshold, waiting.astype(float), pr.capacity[:s],
            route.accountability.rationing_response,
        )
        if route.funding.pooled_budget:  # one pot for every open provider, following the cost of this quarter's demand
            group = np.flatnonzero(pr.open)
            demand = (pr.arrivals_quarter[group] + 1.0) * pr.unit_cost[group]
            pr.budget_remaining[group] = money.split_budget(float(pr.budget_remaining[group].sum()), demand)
            pr.budget_year[group] = money.split_budget(float(pr.budget_year[group].sum()), demand)
            m.set_capacity()
        pr.arrivals_quarter[:] = 0.0

    def commission_year(self) -> None:
        """Annually: enact the route's changes due this year, then set next year's budgets, cut prevention after
        an overspend (silo), retender, (re)grant. Year 0 lets every contract and grant."""
        m = self.model
        world = m.params.uncertainty
        s = m.n_services
        m.enact_route(self.year - m.params.burn_in_years)
        route = m.route
        if self.year == 0:
            for provider in (*m.services, *m.orgs):
                provider.contract_years_left = route.commissioning.contract_years
        else:
            overspend = max(0.0, -float(m.providers.budget_remaining[:s].sum())) / max(m.budget_year_total, 1.0)
            self.prevention_factor = money.prevention_after_overspend(
                self.prevention_factor, overspend, route.funding.prevention_cut_response
            )
            self.retender()
        total = money.annual_budget(world.budget_per_resident, m.n_residents, world.budget_change_per_year, self.year)
        if world.demand_change_per_year:  # a period's demand moves with its budget (ODD 7.1)
            m.set_demand((1.0 + world.demand_change_per_year) ** self.year)
        grants = route.funding.community_grant_share * total * self.prevention_factor
        m.budget_year_total = total - grants  # to the services; unspent grants are not moved to them
        # emergencies are a duty: last year's emergency spend is set aside for each service first (a demand-led
        # budget), and staffing gets what is left, split by this year's demand (arrivals at each service)
        pr = m.providers
        set_aside = money.emergency_set_aside(pr.emergency_year[:s], m.budget_year_total)
        weights = pr.arrivals_year[:s] + 1.0 if self.year > 0 else np.ones(s)
        pr.arrivals_year[:] = 0.0
        pr.emergency_year[:] = 0.0
        pr.budget_year[:s] = money.split_budget(max(m.budget_year_total - float(set_aside.sum()), 0.0), weights)
        pr.budget_remaining[:s] = pr.budget_year[:s] + set_aside
        self.grant(grants)
        m.weeks_left_in_year = 52
        m.set_capacity()
        self.year += 1

    def retender(self) -> None:
        """Contracts and grants ending now are re-let on the commissioning terms in force; an incumbent that loses
        is replaced by a newcomer with no relationships (``PlaceModel.change_provider``)."""
        m = self.model
        terms = m.route.commissioning
        protected = provider_mask(m.params.scenario.protected, m.domains, m.n_providers)
        due = []
        for provider in (*m.services, *(org for org in m.orgs if org.is_open)):
            provider.contract_years_left -= 1
            if provider.contract_years_left <= 0:
                provider.contract_years_left = terms.contract_years
                due.append(provider.index)
        due = np.array(due, dtype=np.intp)
        lost = due[money.retender(due, protected[due], terms.p_retender_loss, m.rng)]
        if lost.size:
            m.change_provider(lost)

    def grant(self, grants: float) -> None:
        """Split the year's community grants among open organisations by residents served; an organisation whose
        grant falls below ``org_viability_share`` of its first grant closes."""
        m = self.model
        open_orgs = [org for org in m.orgs if org.is_open]
        if not open_orgs:
            return
        residents = np.array([m.org_residents[org.index - m.n_services] for org in open_orgs], dtype=float)
        shares = money.split_budget(grants, residents)
        for org, grant in zip(open_orgs, shares, strict=True):
            if org.initial_grant == 0.0:
                org.initial_grant = grant
            if grant < m.params.relations.org_viability_share * org.initial_grant:
                m.close_org(org)
            else:
                m.providers.budget_year[org.index] = grant
                m.providers.budget_remaining[org.index] = grant
