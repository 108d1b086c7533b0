"""PlaceModel: residents, services, community organisations and a commissioner, week by week (ODD 3).

The weekly schedule is :meth:`PlaceModel.step`, a short list of phases; each phase is one method that calls the
rule functions of ``sim/rules.py`` on whole arrays. Quarterly reviews and annual commissioning are Mesa events
(``schedule_recurring``) that run after the week's step. Residents' state lives in arrays owned by the model.
See docs/ODD.md for the description this code implements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mesa import Model
from mesa.time import Priority, Schedule

from . import learning, rules
from .agents import Commissioner, CommunityOrganisation, Resident, Service
from .behaviours import score_behaviours
from .indicators import (
    MONTH_COUNTS,
    NEIGHBOURHOOD_COLUMNS,
    WEEKLY_COLUMNS,
    Tally,
    month_counts,
    neighbourhood_month,
    observe_week,
    summarise,
)
from .network import neighbourhood_small_world
from .params import ALL, COMMUNITY, INFRASTRUCTURE_PARTS, Params, parse_coupling_links, validate
from .place import allocate_residents, build_place

WEEKS_PER_YEAR = 52
WEEKS_PER_MONTH = 4  # "month" = four weeks, 13 to a year
NONE = -1


class PlaceModel(Model):
    """An agent-based model of a place's public services as a system.

    Args:
        params: every setting (see :class:`sim.params.Params`); validated on construction.
        resident_agents: create a Mesa :class:`Resident` handle per resident (the explorer wants them; a
            benchmark or sweep may skip them, which changes nothing in the dynamics).
    """

    def __init__(self, params: Params | None = None, *, resident_agents: bool = True) -> None:
        params = validate(params or Params())
        super().__init__(rng=params.seed)
        self.params = params
        rel, world = params.relations, params.uncertainty
        self.domains = list(rel.domains)
        d = len(self.domains)

        # Place and residents (ODD 5)
        self.place = build_place(params.place, self.domains, self.rng)
        counts = allocate_residents(self.place.population, params.residents)
        self.residents_per_neighbourhood = counts
        self.n_residents = n = int(counts.sum())
        self.home = np.repeat(np.arange(self.place.n_neighbourhoods, dtype=np.int32), counts)
        dep = self.place.deprivation.astype(np.float32)
        overall = self.place.overall_deprivation
        # heavy-tailed starting needs near the model's long-run level: mean = scale * (0.15 + deprivation)
        mean_need = rel.initial_need_scale * (0.15 + dep[self.home])
        self.need = np.clip(mean_need * self.rng.exponential(1.0, size=(n, d)), 0.0, 1.0).astype(np.float32)
        resilience_base = np.clip(0.7 - 0.3 * overall[self.home] + self.rng.normal(0, 0.1, n), 0.05, 1.0)
        self.resilience_base = resilience_base.astype(np.float32)
        self.resilience = self.resilience_base.copy()
        self.connection_base = np.clip(self.rng.beta(4.0, 3.0, size=n), 0.05, 1.0).astype(np.float32)
        self.connection = self.connection_base.copy()
        self.hazard_by_neighbourhood = rules.life_event_hazard(
            overall, world.shock_rate, world.deprivation_shock_gradient, world.demand_level
        )
        self.hazard = self.hazard_by_neighbourhood[self.home].astype(np.float32)
        # Life events hit domains in proportion to the neighbourhood's deprivation in each (plus a floor).
        self.domain_cumweights_by_neighbourhood = np.cumsum(dep + 0.1, axis=1)
        self.adjacency = neighbourhood_small_world(counts, rel.social_degree, rel.p_social_rewire, self.rng)
        self.degree = np.asarray(self.adjacency.sum(axis=1)).ravel().astype(np.float32)

        # Providers: services 0..S-1 (service s serves domain s), then community organisations S..P-1.
        self.n_services = s = d
        n_orgs = self.place.n_orgs
        self.n_providers = p = s + n_orgs
        self.org_of_neighbourhood = (s + self.place.org_cluster).astype(np.int32)
        self.org_residents = np.bincount(self.place.org_cluster, weights=counts, minlength=n_orgs)
        self.provider_open = np.ones(p, dtype=bool)
        # Practice and infrastructure (ODD 7.15): until the route starts at evaluated year 0, every provider works
        # the usual way within infrastructure as it is. Each part of infrastructure is the `before` or the
        # `after` settings; practice levers are per-provider arrays, set from `adopted` by set_practice().
        self.commissioning, self.accountability, self.funding, self.staff_development = (
            getattr(params.infrastructure.before, part) for part in INFRASTRUCTURE_PARTS)
        self.reformed = dict.fromkeys(INFRASTRUCTURE_PARTS, False)
        self.route_started = False
        self.adopted = np.zeros(p, dtype=bool)  # works the new way
        self.licensed = np.zeros(p, dtype=bool)  # may adopt before commissioning permits everyone
        self.closures_quarter = np.zeros(p)  # cases closed this quarter, and closed well: adopters' visible results
        self.good_closures_quarter = np.zeros(p)
        self.set_practice()
        self.threshold = np.zeros(p, dtype=np.float64)
        self.threshold[:s] = self.commissioning.eligibility_threshold
        self.budget_remaining = np.zeros(p)
        self.budget_year = np.zeros(p)  # planned annual budget per provider
        self.contact_load = np.zeros(p)  # staff units spent this week handling contacts and chases
        self.arrivals_quarter = np.zeros(p)  # people arriving at each provider: the demand commissioners see
        self.arrivals_year = np.zeros(p)
        self.capacity = np.zeros(p)
        self.load = np.zeros(p)
        self.stretch = np.ones(p)  # min(1, capacity / load): staff spread thin when over capacity
        self.unit_cost = np.r_[np.full(s, rel.case_week_cost), np.full(n_orgs, rel.community_case_week_cost)]
        self.ties = np.full((p, p), rel.initial_tie_strength)
        np.fill_diagonal(self.ties, 0.0)
        # Learning (ODD 7.12): what helps people here (reality), each provider's staff beliefs and code
        self.reality = learning.new_reality(1, rel.learning_dimensions, self.rng)[0]
        self.staff_beliefs = learning.new_beliefs(p, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        self.code = np.zeros((p, rel.learning_dimensions), np.int8)
        self.target_aligned = self.rng.random((p, rel.learning_dimensions)) < world.target_alignment
        self.knowledge = learning.practice_knowledge(self.staff_beliefs, self._reality_rows())
        self.coupling = rules.coupling_matrix(parse_coupling_links(rel.coupling_links, self.domains), d,
                                              world.need_coupling)

        # Trust: one column per service, then one for the resident's local community organisation.
        start_trust = rel.initial_trust * (1.0 - rel.trust_deprivation_gradient * overall[self.home])
        noise = self.rng.normal(0.0, 0.05, size=(n, s + 1))
        self.trust = np.clip(start_trust[:, None] + noise, 0.01, 1.0).astype(np.float32)
        self.org_trust_column = s

        # Case status
        self.case_provider = np.full(n, NONE, np.int16)
        self.case_domain = np.full(n, NONE, np.int8)  # the domain of a standardised episode; -1 = whole person
        self.case_weeks = np.zeros(n, np.int16)
        self.case_units = np.zeros(n, np.float32)
        self.wait_provider = np.full(n, NONE, np.int16)
        self.wait_domain = np.zeros(n, np.int8)
        self.wait_weeks = np.zeros(n, np.int16)
        self.referral_target = np.full(n, NONE, np.int16)
        self.referral_domain = np.zeros(n, np.int8)
        self.referral_weeks = np.zeros(n, np.int16)
        self.failure_until = np.zeros((n, d), np.int16)  # contacts about d before this week are failure demand
        self.failure_kind = np.zeros((n, d), np.int8)
        self.crisis_until = np.zeros(n, np.int16)
        self._arrivals: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []
        self._addressed_rows = np.empty(0, np.int64)
        self._addressed = np.empty((0, d), np.float32)
        self._need_max, self._need_argmax = rules.row_argmax(self.need)
        self.joint_work = np.zeros((p, p))
        self.tally = Tally()
        # (rows, trust columns) of this week's good and bad experiences, applied together in phase 7
        self._trust_events_good: list[tuple[np.ndarray, np.ndarray, bool]] = []
        self._trust_events_bad: list[tuple[np.ndarray, np.ndarray, bool]] = []
        self.unmet_by_resident = np.zeros(n, np.float32)
        self.last_wellbeing = rules.wellbeing(self.need, self.connection)
        self.last_multiple_disadvantage = np.zeros(n, bool)
        self.crises_by_neighbourhood = np.zeros(self.place.n_neighbourhoods)

        self.last_learning_week = 0
        self._learning_event = None  # the next learning cycle, a Mesa event (scheduled below)

        # Mesa agents: the model's face
        if resident_agents:
            for row in range(n):
                Resident(self, row)
        self.services = [Service(self, i, name) for i, name in enumerate(self.domains)]
        self.orgs = [CommunityOrganisation(self, s + j, j) for j in range(n_orgs)]
        self.commissioner = Commissioner(self)
        self.budget_year_total = 0.0
        self.weeks_left_in_year = WEEKS_PER_YEAR
        self.commissioner.commission_year()
        self.schedule_recurring(self.commissioner.review_quarter, Schedule(interval=13, start=13), Priority.DEFAULT)
        self.schedule_recurring(self.commissioner.commission_year, Schedule(interval=WEEKS_PER_YEAR,
                                                                            start=WEEKS_PER_YEAR), Priority.LOW)
        self._schedule_learning()
        self.schedule_recurring(self.spread_practice, Schedule(interval=13, start=13), Priority.DEFAULT)

        # Observation buffers (ODD 10); behaviour scores start from the initial state
        self.behaviour_scores = score_behaviours(self, dict.fromkeys(MONTH_COUNTS, 0.0))
        self.n_weeks = WEEKS_PER_YEAR * (params.years + params.burn_in_years)
        self.weekly = np.zeros((self.n_weeks, len(WEEKLY_COLUMNS)))
        self.neighbourhood_rows: list[np.ndarray] = []

    # ------------------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One week (ODD 3); learning cycles, quarterly reviews and annual commissioning follow as scheduled events."""
        self.apply_life_events()  # 1. shocks raise needs, more in deprived places; strengths aid recovery
        self.couple_needs()  # 2. unmet need in one domain feeds linked domains
        self.respond_to_crises()  # 5. needs past the crisis threshold get a costly emergency response
        self.seek_help()  # 3. residents ask for help, act on signposts, chase while waiting
        self.triage()  # 4. right door? eligible? onto a waiting list, or refused or bounced
        self.admit()  # 4. capacity: the longest-waiting start support
        self.provide_support()  # 5-6. standardised or bespoke support; closures, referrals onward
        self.update_resident_trust()  # 7. asymmetric trust from experience; word of mouth monthly
        self.update_provider_ties()  # 7. ties grow with joint work, decay, break with staff turnover
        self.account_spending()  # money spent on support, community grants and emergencies
        self.observe()  # 10. indicators

    # --- 1 --------------------------------------------------------------------------------------------------------
    def apply_life_events(self) -> None:
        rel = self.params.relations
        rules.relax_strengths(self.resilience, self.resilience_base, rel.strength_decay_rate)
        rules.relax_strengths(self.connection, self.connection_base, rel.strength_decay_rate)
        recovery = rules.recovery_rate(rel.natural_recovery_rate, self.resilience, self.connection)
        self.tally["life_events"] += rules.apply_life_events(
            self.need, self.hazard, _RowView(self.domain_cumweights_by_neighbourhood, self.home),
            rel.shock_size, recovery, self.rng,
        )

    # --- 2 --------------------------------------------------------------------------------------------------------
    def couple_needs(self) -> None:
        rel = self.params.relations
        excess = rules.unmet_excess(self.need, rel.coupling_floor, self._addressed_rows, self._addressed)
        self.unmet_by_resident = rules.row_sum(excess)
        self.tally["unmet_need"] = float(self.unmet_by_resident.mean())
        rules.couple_needs(self.need, excess, self.coupling)

    # --- 5 (crises) -------------------------------------------------------------------------------------------------
    def respond_to_crises(self) -> None:
        rel = self.params.relations
        week = self.steps
        self._need_max, self._need_argmax = rules.row_argmax(self.need)
        need_max = self._need_max
        crisis = np.flatnonzero((need_max >= rel.crisis_threshold) & (self.crisis_until <= week))
        if crisis.size == 0:
            return
        domain = self._need_argmax[crisis]
        self.need[crisis, domain] = np.maximum(self.need[crisis, domain] - rel.crisis_relief, 0.0)
        self.crisis_until[crisis] = week + rel.crisis_cooldown_weeks
        self._count_contacts(crisis, domain)
        self.tally["crises"] += crisis.size
        cost = rel.emergency_cost * crisis.size
        self.tally["spend_emergency"] += cost
        np.subtract.at(self.budget_remaining, domain, rel.emergency_cost)  # declared emergency spend
        self.crises_by_neighbourhood += np.bincount(self.home[crisis], minlength=self.place.n_neighbourhoods)
        idle = crisis[self._idle(crisis)]
        if idle.size:  # emergency services refer urgently to the service for the crisis domain
            self._arrivals.append((idle, self._need_argmax[idle].astype(np.int16), self._need_argmax[idle], False))

    # --- 3 --------------------------------------------------------------------------------------------------------
    def seek_help(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        s = self.n_services
        candidates = np.flatnonzero(
            (self._need_max >= rel.seek_floor)
            & (self.case_provider < 0) & (self.wait_provider < 0) & (self.referral_target < 0)
        )
        if candidates.size:
            domain = self._need_argmax[candidates]
            org = self.org_of_neighbourhood[self.home[candidates]]
            to_org = (self.rng.random(candidates.size) < rel.p_community_door) & self.provider_open[org]
            wrong = self.rng.random(candidates.size) < world.p_wrong_door
            other = (domain + self.rng.integers(1, max(s, 2), size=candidates.size)) % s
            door = np.where(to_org, org, np.where(wrong & (s > 1), other, domain)).astype(np.int16)
            column = np.where(to_org, self.org_trust_column, door)
            p_seek = rules.seek_probability(
                self._need_max[candidates], self.trust[candidates, column], rel.seek_rate, rel.seek_floor
            )
            asks = self.rng.random(candidates.size) < p_seek
            if asks.any():
                who = candidates[asks]
                self._count_contacts(who, domain[asks])
                self._arrivals.append((who, door[asks], domain[asks], True))
        self._act_on_signposts()
        self._chase()

    def _act_on_signposts(self) -> None:
        rel = self.params.relations
        holders = np.flatnonzero(self.referral_target >= 0)
        if holders.size == 0:
            return
        self.referral_weeks[holders] += 1
        column = self._trust_column(self.referral_target[holders])
        acts = self.rng.random(holders.size) < rel.p_signpost_take_up * self.trust[holders, column]
        who = holders[acts]
        if who.size:
            domain = self.referral_domain[who].astype(np.intp)
            self._count_contacts(who, domain)
            self._arrivals.append((who, self.referral_target[who].copy(), domain, True))
            self.referral_target[who] = NONE
        lapsed = holders[~acts & (self.referral_weeks[holders] >= rel.referral_expiry_weeks)]
        if lapsed.size:
            self.tally["lost_referrals"] += lapsed.size
            self._remember_failure(lapsed, self.referral_domain[lapsed].astype(np.intp), rules.LOST_REFERRAL)
            self.referral_target[lapsed] = NONE

    def _chase(self) -> None:
        rel = self.params.relations
        waiting = np.flatnonzero(self.wait_provider >= 0)
        if waiting.size == 0:
            return
        self.wait_weeks[waiting] += 1
        # people who recover while waiting leave the list
        recovered = self.need[waiting, self.wait_domain[waiting]] < rel.resolved_level
        self.wait_provider[waiting[recovered]] = NONE
        self.tally["left_waiting_recovered"] += int(recovered.sum())
        waiting = waiting[~recovered]
        due = waiting[self.wait_weeks[waiting] >= rel.chase_after_weeks]
        chasers = due[self.rng.random(due.size) < rel.p_chase]
        if chasers.size:
            self._handle_contacts(self.wait_provider[chasers].astype(np.intp))
            self.tally["contacts_failure"] += chasers.size
            self.tally["failure_chasing"] += chasers.size
            self._bad(chasers, self._trust_column(self.wait_provider[chasers]))

    # --- 4 --------------------------------------------------------------------------------------------------------
    def triage(self) -> None:
        """Every arrival is assessed: right door, eligibility, then a waiting list, a referral or a refusal."""
        if not self._arrivals:
            return
        rel = self.params.relations
        who = np.concatenate([a[0] for a in self._arrivals])
        door = np.concatenate([a[1] for a in self._arrivals]).astype(np.intp)
        domain = np.concatenate([a[2] for a in self._arrivals]).astype(np.intp)
        self._arrivals = []
        # one assessment per resident per week, and none for anyone already waiting or supported
        who, first = np.unique(who, return_index=True)
        door, domain = door[first], domain[first]
        fresh = self._idle(who) & self.provider_open[door]  # a closed door helps no one
        who, door, domain = who[fresh], door[fresh], domain[fresh]
        if who.size == 0:
            return
        s = self.n_services
        at_service = door < s
        self.tally["triaged"] += int(at_service.sum())
        self._handle_contacts(door)
        arrived = np.bincount(door, minlength=self.n_providers)
        self.arrivals_quarter += arrived
        self.arrivals_year += arrived
        need_here = self.need[who, domain]
        # A community organisation turns no one away; it brokers a service for needs above what it can hold.
        org_refers = ~at_service & (need_here >= rel.org_case_ceiling)
        # A service meets needs outside its domain only with whole-person (bespoke) support.
        outside = at_service & (domain != door) & ~self.bespoke[door]
        bounced = outside & ~self.no_wrong_door[door]
        eligible = at_service & ~outside & (need_here >= self.threshold[door])
        below_bar = at_service & ~outside & ~eligible
        local_org = self.org_of_neighbourhood[self.home[who]]
        # no wrong door: a need below the service's bar is passed to the local community organisation
        passed_on = below_bar & self.no_wrong_door[door] & self.provider_open[local_org]
        refused = below_bar & ~passed_on
        if bounced.any():
            self.tally["bounces"] += int(bounced.sum())
            self._bad(who[bounced], door[bounced])
        if refused.any():
            self.tally["refusals"] += int(refused.sum())
            self._bad(who[refused], door[refused])
            self._remember_failure(who[refused], domain[refused], rules.BOUNCE)
        onward = org_refers | outside
        if onward.any():
            self.refer(who[onward], door[onward], domain[onward], domain[onward], rules.BOUNCE)
        if passed_on.any():
            self.refer(who[passed_on], door[passed_on], local_org[passed_on], domain[passed_on], rules.BOUNCE)
        # a community organisation helps lighter needs on the spot, and takes heavier ones on as cases
        brief = ~at_service & ~org_refers & (need_here < rel.brief_help_below)
        if brief.any():
            self.give_brief_help(who[brief], domain[brief], door[brief])
        queue = eligible | (~at_service & ~org_refers & ~brief)
        self.wait_provider[who[queue]] = door[queue]
        self.wait_domain[who[queue]] = domain[queue]
        self.wait_weeks[who[queue]] = 0

    def give_brief_help(self, who: np.ndarray, domain: np.ndarray, provider: np.ndarray) -> None:
        """On-the-spot help at a community organisation: a need eased and a connection made, no case opened."""
        rel = self.params.relations
        self.need[who, domain] = np.maximum(self.need[who, domain] - rel.brief_help_effect, 0.0)
        self.connection[who] += rel.strength_build_rate * (1.0 - self.connection[who])
        self.tally["brief_help"] += who.size
        self._good(who, self._trust_column(provider))

    def admit(self) -> None:
        waiting = np.flatnonzero(self.wait_provider >= 0)
        if waiting.size == 0:
            return
        provider = self.wait_provider[waiting].astype(np.intp)
        free = np.where(self.provider_open, self.capacity - self.load - self.contact_load, 0.0)
        admitted = waiting[rules.admit_ranked(provider, self.wait_weeks[waiting], free)]
        if admitted.size == 0:
            return
        p = self.wait_provider[admitted].astype(np.intp)
        standard = (p < self.n_services) & ~self.bespoke[p]
        self.case_provider[admitted] = p
        self.case_domain[admitted] = np.where(standard, self.wait_domain[admitted], NONE)
        self.case_weeks[admitted] = 0
        self.case_units[admitted] = 1.0
        self.load += np.bincount(p, minlength=self.n_providers)
        self.tally["admissions"] += admitted.size
        self.tally["wait_weeks_admitted"] += int(self.wait_weeks[admitted].sum())
        self.wait_provider[admitted] = NONE
        self._good(admitted, self._trust_column(p))

    # --- 5, 6 ---------------------------------------------------------------------------------------------------------
    def provide_support(self) -> None:
        """Support lowers needs; bespoke support works every domain, jointly with partners it has ties to."""
        rel, world = self.params.relations, self.params.uncertainty
        s = self.n_services
        rows = np.flatnonzero(self.case_provider >= 0)
        self._addressed_rows = rows
        if rows.size == 0:
            self._addressed = np.empty((0, len(self.domains)), np.float32)
            self.load[:] = 0.0
            return
        p = self.case_provider[rows].astype(np.intp)
        trust = self.trust[rows, self._trust_column(p)]
        quality = (0.5 + 0.5 * trust) * self.stretch[p]
        weights = np.zeros((rows.size, len(self.domains)), np.float32)
        standard = self.case_domain[rows] >= 0
        at_org = p >= s
        bespoke = ~standard & ~at_org
        weights[np.flatnonzero(standard), self.case_domain[rows[standard]]] = rel.standardised_fit
        units = np.ones(rows.size, np.float32)
        if bespoke.any():
            pb = p[bespoke]
            tie = self.ties[pb, :s].astype(np.float32)  # tie to the service of each domain
            w = rel.generalist_share + (1.0 - rel.generalist_share) * tie
            w[np.arange(pb.size), pb] = 1.0
            weights[bespoke] = w
            engaged = (tie >= rel.joint_work_min_tie) & (self.need[rows[bespoke]] > rel.resolved_level)
            engaged[np.arange(pb.size), pb] = False
            units[bespoke] = 1.0 + world.coordination_cost * engaged.sum(axis=1)
            partner_rows, partner_cols = np.nonzero(engaged)
            np.add.at(self.joint_work, (pb[partner_rows], partner_cols), 1.0)
            # joint work costs the partner's staff time too (the meeting has two sides)
            partner_load = world.coordination_cost * np.bincount(partner_cols, minlength=self.n_providers)
        effect = (rel.support_effect_rate * self.knowledge[p] * quality).astype(np.float32)[:, None] * weights
        if at_org.any():
            effect[at_org] = (rel.community_effect_rate * quality[at_org]).astype(np.float32)[:, None]
            weights[at_org] = rel.community_effect_rate / max(rel.support_effect_rate, 1e-9)
        self.need[rows] = np.maximum(self.need[rows] - effect, 0.0)
        self._addressed = np.minimum(weights, 1.0)
        whole_person = rows[~standard]
        self.resilience[whole_person] += rel.strength_build_rate * (1.0 - self.resilience[whole_person])
        self.connection[whole_person] += rel.strength_build_rate * (1.0 - self.connection[whole_person])
        self.case_units[rows] = units
        self.load = np.bincount(p, weights=units, minlength=self.n_providers)
        if bespoke.any():
            self.load += partner_load
        self.case_weeks[rows] += 1
        self._close_cases(rows, p, standard)

    def _close_cases(self, rows: np.ndarray, p: np.ndarray, standard: np.ndarray) -> None:
        rel = self.params.relations
        need = self.need[rows]
        weeks = self.case_weeks[rows]
        resolved = need.max(axis=1) < rel.resolved_level
        longest = np.where(p >= self.n_services, rel.community_case_weeks, self.max_case_weeks[p])
        closes = np.where(standard, weeks >= self.episode_weeks[p], resolved | (weeks >= longest))
        if not closes.any():
            return
        who, p, need, standard = rows[closes], p[closes], need[closes], standard[closes]
        treated = np.where(standard, self.case_domain[who], need.argmax(axis=1)).astype(np.intp)
        unresolved = need > rel.resolved_level
        # early closure: the treated domain (standardised) or any domain (whole person) left unresolved
        early = np.where(standard[:, None], np.eye(len(self.domains), dtype=bool)[treated], True) & unresolved
        # linked needs left: high needs in domains a standardised episode did not touch
        linked = standard[:, None] & ~np.eye(len(self.domains), dtype=bool)[treated] & (need >= rel.need_threshold)
        r_early, c_early = np.nonzero(early)
        self._remember_failure(who[r_early], c_early, rules.EARLY_CLOSURE)
        r_link, c_link = np.nonzero(linked)
        self._remember_failure(who[r_link], c_link, rules.LINKED_NEED)
        self.tally["closures"] += who.size
        self.tally["closures_on_resolution"] += int((resolved[closes] & ~standard).sum())
        self.tally["early_closures"] += int(early.any(axis=1).sum())
        good = ~early.any(axis=1)
        self.closures_quarter += np.bincount(p, minlength=self.n_providers)
        self.good_closures_quarter += np.bincount(p[good], minlength=self.n_providers)
        self._good(who[good], self._trust_column(p[good]))
        self._bad(who[~good], self._trust_column(p[~good]))
        self.case_provider[who] = NONE
        self.case_domain[who] = NONE
        # a standardised episode refers on the highest linked need it left
        onward = np.flatnonzero(linked.any(axis=1))
        if onward.size:
            target = np.where(linked[onward], need[onward], -1.0).argmax(axis=1)
            self.refer(who[onward], p[onward], target, target, rules.LINKED_NEED)

    def refer(self, who: np.ndarray, source: np.ndarray, target: np.ndarray, domain: np.ndarray, kind: int) -> None:
        """Referral (ODD 7, submodel 6): a warm hand-off along a tie, else a signpost the resident must act on.

        From a provider whose practice is ``referral: warm_handoff`` the hand-off succeeds with probability equal to the tie between the two
        providers, if that tie is at least ``joint_work_min_tie``; it puts the resident in front of the target next week without a new contact. A signpost (or a
        failed hand-off) leaves the resident to self-refer; that later contact is failure demand of ``kind``.
        """
        target = np.asarray(target, np.intp)
        warm = self.warm_handoff[source]
        if warm.any():
            # a hand-off needs a working relationship, as joint work does
            tie = self.ties[source, target]
            warm &= (self.rng.random(who.size) < tie) & (tie >= self.params.relations.joint_work_min_tie)
        if warm.any():
            self.tally["warm_handoffs"] += int(warm.sum())
            np.add.at(self.joint_work, (source[warm], target[warm]), 1.0)
            self._arrivals.append((who[warm], target[warm].astype(np.int16), domain[warm], False))
        cold = ~warm
        if cold.any():
            self.tally["signposts"] += int(cold.sum())
            self.referral_target[who[cold]] = target[cold]
            self.referral_domain[who[cold]] = domain[cold]
            self.referral_weeks[who[cold]] = 0
            self._remember_failure(who[cold], domain[cold], kind)

    # --- 7 --------------------------------------------------------------------------------------------------------
    def update_resident_trust(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        for rows, cols, good in (*self._trust_events_bad, *self._trust_events_good):
            if rows.size == 0:
                continue
            rate = np.where(cols == self.org_trust_column, rel.trust_gain_rate * rel.community_trust_multiplier,
                            rel.trust_gain_rate).astype(np.float32)
            t = self.trust[rows, cols]
            self.trust[rows, cols] = (rules.gain_trust(t, rate) if good
                                      else rules.lose_trust(t, rate, world.trust_loss_gain_ratio))
        self._trust_events_good.clear()
        self._trust_events_bad.clear()
        if self.steps % WEEKS_PER_MONTH == 0:
            rules.word_of_mouth(self.trust, self.adjacency, self.degree, rel.word_of_mouth_rate)

    def update_provider_ties(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        joint = self.joint_work + self.joint_work.T
        rt = np.where(self.provider_open, self.relationship_time, 0.0)
        self.ties = rules.update_ties(self.ties, joint, rt, world.relationship_build_rate, rel.tie_decay_rate)
        left = np.flatnonzero(self.rng.random(self.n_providers) < world.p_staff_turnover)
        if left.size:
            self.ties = rules.break_ties(self.ties, left, rel.turnover_tie_loss)
        closed = np.flatnonzero(~self.provider_open)
        if closed.size:
            self.ties = rules.break_ties(self.ties, closed, 1.0)
        self.joint_work[:] = 0.0

    # --- 8. learning ------------------------------------------------------------------------------------------------
    def learn_practice(self) -> None:
        """A learning cycle: every provider's staff and code learn by March's (1991) rules (ODD 7.12).

        The code learns from staff who do better on the provider's learning signal: resident outcomes (reality),
        or output targets, which reward what helps only on the ``target_alignment`` share of dimensions. Staff are
        socialised to the code at ``p_socialisation``; with ``learning_along_ties`` a partner whose code knows
        more teaches yours. Staff turnover and shifts in what helps (``p_needs_shift``) complete the cycle.
        Practice knowledge then sets how effective each provider's support is.
        """
        world, rel = self.params.uncertainty, self.params.relations
        weeks = self.steps - self.last_learning_week
        self.last_learning_week = self.steps
        reality = self._reality_rows()
        outcomes = self.accountability.learning_signal == "outcomes"
        signal = reality if outcomes else np.where(self.target_aligned, reality, -reality)
        scores = learning.matches(learning.act(self.staff_beliefs, self.rng), signal)
        code = learning.learn_code(self.code, self.staff_beliefs, scores, signal, self.p_code_learning, self.rng)
        beliefs = learning.socialise(self.staff_beliefs, self.code, self.p_socialisation, self.rng)
        if self.staff_development.learning_along_ties:
            code = learning.share_along_ties(code, reality, self.ties, rel.joint_work_min_tie,
                                             self.p_code_learning, self.rng)
        beliefs = learning.replace_staff(beliefs, 1.0 - (1.0 - world.p_staff_turnover) ** weeks, self.rng)
        p_shift = 1.0 - (1.0 - world.p_needs_shift) ** (weeks / WEEKS_PER_YEAR)
        self.reality = learning.shift_reality(self.reality[None, :], p_shift, self.rng)[0]
        self.staff_beliefs, self.code = beliefs, code
        self.knowledge = learning.practice_knowledge(beliefs, self._reality_rows())
        self._learning_event = None
        self._schedule_learning()

    def _schedule_learning(self) -> None:
        """The next learning cycle, ``staff_development.learning_cycle_weeks`` after the last (a Mesa event)."""
        if self._learning_event is not None:
            self._learning_event.cancel()
        due = max(self.last_learning_week + self.staff_development.learning_cycle_weeks, int(self.time) + 1)
        self._learning_event = self.schedule_event(self.learn_practice, at=due)

    def _reality_rows(self) -> np.ndarray:
        return np.broadcast_to(self.reality, (self.n_providers, self.reality.size))

    # --- 9. spread of practice, infrastructure and the route ----------------------------------------------------------
    def spread_practice(self) -> None:
        """Quarterly spread of the new way of working along working relationships (ODD 7.15).

        Adopters slip back to the usual way with probability ``p_slip_back`` times the share of infrastructure not
        yet reformed. A provider adopts when its exposure - the sum over adopting partners of tie strength times
        the partner's visible results (its share of cases closed well this quarter, relative to the place's) -
        reaches ``adoption_threshold`` (Granovetter; Centola & Macy), and only where commissioning permits. With
        ``p_leader_adoption``, permitted providers also adopt without exposure. Both rules read the quarter's
        starting state.
        """
        world, rel, route = self.params.uncertainty, self.params.relations, self.params.scenario
        if self.route_started:
            open_ = self.provider_open
            before = self.adopted & open_
            visible = rules.visible_results(self.good_closures_quarter, self.closures_quarter, open_,
                                            rel.results_weight)
            exposure = rules.adoption_exposure(self.ties, before, visible)
            permitted = self.permitted() & open_
            adopted = rules.threshold_adoption(before, exposure, world.adoption_threshold, permitted)
            kept = rules.slip_back(before, world.p_slip_back * (1.0 - self.reformed_share()), self.rng)
            adopted = np.where(before, kept, adopted)
            if route.p_leader_adoption > 0:
                leads = permitted & ~adopted & ~before & (self.rng.random(self.n_providers) < route.p_leader_adoption)
                adopted |= leads
            self.tally["adoptions"] += int((adopted & ~before).sum())
            self.tally["slips_back"] += int((before & ~adopted).sum())
            self.adopted = adopted
            self.set_practice()
        self.closures_quarter[:] = 0.0
        self.good_closures_quarter[:] = 0.0

    def reformed_share(self) -> float:
        """Share of the four parts of infrastructure reformed so far."""
        return sum(self.reformed.values()) / len(self.reformed)

    def permitted(self) -> np.ndarray:
        """Providers that may work the new way: all once commissioning permits it, else the licensed ones."""
        if self.commissioning.permits_new_practice:
            return np.ones(self.n_providers, dtype=bool)
        return self.licensed.copy()

    def set_practice(self) -> None:
        """Per-provider practice levers from ``adopted``: the new way for adopters, the usual way for the rest."""
        usual, new = self.params.practice.usual, self.params.practice.new

        def pick(name: str) -> np.ndarray:
            return np.where(self.adopted, getattr(new, name), getattr(usual, name))

        self.no_wrong_door = pick("no_wrong_door").astype(bool)
        self.bespoke = pick("bespoke_support").astype(bool)
        self.warm_handoff = pick("referral") == "warm_handoff"
        self.episode_weeks = pick("episode_weeks")
        self.max_case_weeks = pick("max_case_weeks")
        self.relationship_time = pick("relationship_time_share").astype(float)
        self.p_socialisation = pick("p_socialisation").astype(float)
        self.p_code_learning = pick("p_code_learning").astype(float)

    def enact_route(self, year: int) -> None:
        """The scenario's route, at the start of evaluated year ``year`` (called by the commissioner each year).

        In year 0 the first adopters start working the new way, the licensed providers are allowed to, and a
        shared vision raises every tie between providers. In its year, each part of infrastructure is reformed.
        """
        route = self.params.scenario
        if year == 0:
            self.route_started = True
            first = self.provider_mask(route.first_adopters)
            self.licensed = self.provider_mask(route.licensed) | first
            self.adopted |= first & self.provider_open
            if route.shared_vision > 0:
                both = self.provider_open[:, None] & self.provider_open[None, :]
                self.ties = np.where(both, np.minimum(self.ties + route.shared_vision, 1.0), self.ties)
                np.fill_diagonal(self.ties, 0.0)
        for part in INFRASTRUCTURE_PARTS:
            if getattr(route.reform, part) == year:
                self.reform(part)
        self.set_practice()

    def reform(self, part: str) -> None:
        """One part of infrastructure takes its reformed settings for the whole place from now on.

        Commissioning reform resets eligibility thresholds to the new base; contracts already let run to their end
        and are re-let on the new terms. Staff-development reform moves the next learning cycle.
        """
        self.reformed[part] = True
        setattr(self, part, getattr(self.params.infrastructure.after, part))
        if part == "commissioning":
            self.threshold[: self.n_services] = self.commissioning.eligibility_threshold
        if part == "staff_development" and self._learning_event is not None:
            self._schedule_learning()

    def provider_mask(self, names: list[str]) -> np.ndarray:
        """Providers named by service domain, ``community`` (every organisation) or ``all``."""
        mask = np.zeros(self.n_providers, dtype=bool)
        for name in names:
            if name == ALL:
                mask[:] = True
            elif name == COMMUNITY:
                mask[self.n_services:] = True
            else:
                mask[self.domains.index(name)] = True
        return mask

    # --- money --------------------------------------------------------------------------------------------------
    def account_spending(self) -> None:
        """Pay the week's staff (salaried: paid whether busy or not); set next week's capacity from what is left."""
        s = self.n_services
        staff = self._allowance()
        self.tally["staff_utilisation"] = float(
            np.minimum(self.load + self.contact_load, self.capacity).sum() / max(self.capacity.sum(), 1e-9))
        self.budget_remaining -= staff
        self.tally["spend_support"] += float(staff[:s].sum())
        self.tally["spend_community"] += float(staff[s:].sum())
        self.weeks_left_in_year = max(self.weeks_left_in_year - 1, 1)
        demand = self.load + self.contact_load
        self.set_capacity()
        self.stretch = np.where(demand > self.capacity, self.capacity / np.maximum(demand, 1e-9), 1.0)
        self.contact_load[:] = 0.0

    def _allowance(self) -> np.ndarray:
        allowance = rules.weekly_allowance(self.budget_year, self.budget_remaining, self.weeks_left_in_year)
        allowance[~self.provider_open] = 0.0
        return allowance

    def set_capacity(self) -> None:
        """Staff case units each provider can field next week, from its affordable weekly spend."""
        self.capacity = rules.staff_capacity(self._allowance(), self.unit_cost, self.relationship_time)

    def _handle_contacts(self, provider: np.ndarray) -> None:
        """Every contact and chase takes staff time (Seddon: failure demand consumes capacity)."""
        self.contact_load += self.params.relations.contact_handling_units * np.bincount(
            provider, minlength=self.n_providers)

    # --- structural changes (called by the commissioner) ----------------------------------------------------------------
    def change_provider(self, providers: np.ndarray) -> None:
        """A retendered contract or grant goes to a newcomer: its relationships are gone, residents do not know it.

        The newcomer's staff bring their own beliefs and its code starts neutral. Cases and waiting lists
        transfer to the newcomer. Residents' trust in a new service, or in a new local
        community organisation, starts again from the starting level of their neighbourhood.
        """
        self.ties = rules.break_ties(self.ties, providers, 1.0)
        rel = self.params.relations
        self.staff_beliefs[providers] = learning.new_beliefs(
            providers.size, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        self.code[providers] = 0
        self.knowledge = learning.practice_knowledge(self.staff_beliefs, self._reality_rows())
        self.adopted[providers] = False  # a newcomer works the usual way until it adopts
        self.set_practice()
        start = (self.params.relations.initial_trust * (
            1.0 - self.params.relations.trust_deprivation_gradient * self.place.overall_deprivation[self.home]
        )).astype(np.float32)
        for p in providers:
            if p < self.n_services:
                self.trust[:, p] = start
            else:
                local = self.org_of_neighbourhood[self.home] == p
                self.trust[local, self.org_trust_column] = start[local]
        self.tally["provider_changes"] += providers.size

    def close_org(self, org: CommunityOrganisation) -> None:
        """A community organisation closes: its cases and waiting list end unresolved; its ties are gone."""
        i = org.index
        self.provider_open[i] = False
        self.adopted[i] = False
        self.set_practice()
        self.budget_remaining[i] = 0.0
        self.budget_year[i] = 0.0
        dropped = np.flatnonzero((self.case_provider == i) | (self.wait_provider == i))
        self.case_provider[dropped] = NONE
        self.wait_provider[dropped] = NONE
        if dropped.size:
            need = self.need[dropped]
            r, c = np.nonzero(need > self.params.relations.resolved_level)
            self._remember_failure(dropped[r], c, rules.EARLY_CLOSURE)
        self.ties = rules.break_ties(self.ties, np.array([i]), 1.0)

    # --- bookkeeping helpers ------------------------------------------------------------------------------------------
    def _idle(self, who: np.ndarray) -> np.ndarray:
        return (self.case_provider[who] < 0) & (self.wait_provider[who] < 0) & (self.referral_target[who] < 0)

    def _trust_column(self, provider: np.ndarray) -> np.ndarray:
        return np.minimum(provider, self.org_trust_column).astype(np.intp)

    def _count_contacts(self, who: np.ndarray, domain: np.ndarray) -> None:
        """Classify each contact as it happens: failure demand if an earlier failure about that domain is recent."""
        failed = self.failure_until[who, domain] > self.steps
        self.tally["contacts_value"] += int((~failed).sum())
        self.tally["contacts_failure"] += int(failed.sum())
        if failed.any():
            kinds = np.bincount(self.failure_kind[who[failed], domain[failed]], minlength=len(rules.FAILURE_KINDS) + 1)
            for k, name in enumerate(rules.FAILURE_KINDS, start=1):
                self.tally[f"failure_{name}"] += int(kinds[k])

    def _remember_failure(self, who: np.ndarray, domain: np.ndarray, kind: int) -> None:
        self.failure_until[who, domain] = self.steps + self.params.relations.failure_memory_weeks
        self.failure_kind[who, domain] = kind

    def _good(self, who: np.ndarray, column: np.ndarray) -> None:
        self._trust_events_good.append((who, np.asarray(column, np.intp), True))

    def _bad(self, who: np.ndarray, column: np.ndarray) -> None:
        self._trust_events_bad.append((who, np.asarray(column, np.intp), False))

    # --- 10. observation ----------------------------------------------------------------------------------------------
    def observe(self) -> None:
        if self.steps % WEEKS_PER_MONTH == 0:
            self.behaviour_scores = score_behaviours(self, month_counts(self))
        self.weekly[self.steps - 1] = observe_week(self)
        if self.steps % WEEKS_PER_MONTH == 0:
            self.neighbourhood_rows.append(neighbourhood_month(self))
            self.crises_by_neighbourhood[:] = 0.0
        # counts made by this week's scheduled events (learning, reviews, spread, commissioning) go to next week
        self.tally.reset()

    # --- running ---------------------------------------------------------------------------------------------------------
    def run(self, progress=None) -> None:
        """Run every week of the horizon; ``progress(weeks_done)`` is called after each week if given."""
        while self.steps < self.n_weeks:
            self.step()
            if progress is not None:
                progress(self.steps)

    def timeseries(self) -> pd.DataFrame:
        """Weekly model-level indicators, one row per week (tidy)."""
        frame = pd.DataFrame(self.weekly[: self.steps], columns=list(WEEKLY_COLUMNS))
        frame.insert(0, "week", np.arange(1, self.steps + 1))
        frame.insert(1, "year", (frame["week"] - 1) // WEEKS_PER_YEAR - self.params.burn_in_years)
        return frame

    def neighbourhoods(self) -> pd.DataFrame:
        """Per neighbourhood per month (four weeks): wellbeing, unmet need, trust, crises, deprivation."""
        if not self.neighbourhood_rows:
            return pd.DataFrame(columns=["month", "neighbourhood", "code", *NEIGHBOURHOOD_COLUMNS])
        k = self.place.n_neighbourhoods
        months = len(self.neighbourhood_rows)
        frame = pd.DataFrame(np.vstack(self.neighbourhood_rows), columns=list(NEIGHBOURHOOD_COLUMNS))
        frame.insert(0, "month", np.repeat(np.arange(1, months + 1), k))
        frame.insert(1, "neighbourhood", np.tile(np.arange(k), months))
        frame.insert(2, "code", np.tile(np.array(self.place.codes, dtype=object), months))
        return frame

    def summary(self) -> dict:
        """Headline outcomes over the evaluation period (after burn-in); see docs/ODD.md for each definition."""
        return summarise(self.timeseries(), self.neighbourhoods(), self)


class _RowView:
    """Rows of a per-neighbourhood array looked up through residents' homes, without an (N, D) copy."""

    def __init__(self, table: np.ndarray, index: np.ndarray) -> None:
        self.table, self.index = table, index

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.table[self.index[rows]]

