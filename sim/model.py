"""PlaceModel: residents, services, community organisations and a commissioner, week by week (ODD 3).

The weekly schedule is :meth:`PlaceModel.step`, eleven phases numbered as docs/ODD.md section 3 numbers them;
each phase is one method that calls the rule functions of :mod:`sim.rules` on whole arrays and applies what
they decide. Residents' state lives in NumPy arrays owned by the model; Mesa agents (:mod:`sim.agents`) are
handles onto it. Learning cycles, quarterly reviews, the spread of practice and annual commissioning are Mesa
events (``schedule_recurring``) that run after the week's step. The route - which way each provider works and
the infrastructure in force - is :class:`sim.route.Route`. Observation is read-only (:mod:`sim.indicators`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mesa import Model
from mesa.time import Priority, Schedule

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
from .journeys import JourneyRecorder
from .network import neighbourhood_small_world
from .params import Params, parse_coupling_links, validate
from .place import allocate_residents, build_place
from .route import Route
from .rules import change, failure, learning, money, needs, referral, seeking, support, ties, triage, trust
from .rules.arrays import row_argmax, row_max, row_sum

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
        self.hazard_by_neighbourhood = needs.life_event_hazard(
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
        # The route (ODD 7.15): which way each provider works, and the infrastructure in force.
        self.route = Route(params, self.domains, p)
        self.practice = self.route.practice
        self.threshold = np.zeros(p, dtype=np.float64)
        self.threshold[:s] = self.route.commissioning.eligibility_threshold
        self.budget_remaining = np.zeros(p)
        self.budget_year = np.zeros(p)  # planned annual budget per provider
        self.contact_load = np.zeros(p)  # staff units spent this week handling contacts and chases
        self.arrivals_quarter = np.zeros(p)  # people arriving at each provider: the demand commissioners see
        self.arrivals_year = np.zeros(p)
        self.capacity = np.zeros(p)
        self.load = np.zeros(p)
        self.stretch = np.ones(p)  # min(1, capacity / load): staff spread thin when over capacity
        self.unit_cost = np.r_[np.full(s, rel.case_week_cost), np.full(n_orgs, rel.community_case_week_cost)]
        self.relet_week = np.full(p, -1, dtype=np.int64)  # when a contract last changed hands (ODD 7.16)
        self.ties = np.full((p, p), rel.initial_tie_strength)
        np.fill_diagonal(self.ties, 0.0)
        # Learning (ODD 7.12): what helps people here (reality), each provider's staff beliefs and code
        self.reality = learning.new_reality(1, rel.learning_dimensions, self.rng)[0]
        self.staff_beliefs = learning.new_beliefs(p, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        self.code = np.zeros((p, rel.learning_dimensions), np.int8)
        self.target_aligned = self.rng.random((p, rel.learning_dimensions)) < world.target_alignment
        self.knowledge = learning.practice_knowledge(self.staff_beliefs, self.reality_rows())
        self.coupling = needs.coupling_matrix(parse_coupling_links(rel.coupling_links, self.domains), d,
                                              world.need_coupling)

        # Trust: one column per service, then one for the resident's local community organisation.
        start_trust = trust.starting_trust(rel.initial_trust, rel.trust_deprivation_gradient, overall[self.home])
        noise = self.rng.normal(0.0, 0.05, size=(n, s + 1))
        self.trust = np.clip(start_trust[:, None] + noise, 0.01, 1.0).astype(np.float32)
        self.org_trust_column = s

        # Case status; week stamps and durations are 32-bit so that a run of any length cannot overflow them
        self.case_provider = np.full(n, NONE, np.int16)
        self.case_domain = np.full(n, NONE, np.int8)  # the domain of a standardised episode; -1 = whole person
        self.case_weeks = np.zeros(n, np.int32)
        self.case_units = np.zeros(n, np.float32)
        self.wait_provider = np.full(n, NONE, np.int16)
        self.wait_domain = np.zeros(n, np.int8)
        self.wait_weeks = np.zeros(n, np.int32)
        self.referral_target = np.full(n, NONE, np.int16)
        self.referral_domain = np.zeros(n, np.int8)
        self.referral_weeks = np.zeros(n, np.int32)
        self.failure_until = np.zeros((n, d), np.int32)  # contacts about d before this week are failure demand
        self.failure_kind = np.zeros((n, d), np.int8)
        self.crisis_until = np.zeros(n, np.int32)
        self._arrivals: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []
        self._addressed_rows = np.empty(0, np.int64)
        self._addressed = np.empty((0, d), np.float32)
        self._need_max, self._need_argmax = row_argmax(self.need)
        self.joint_work = np.zeros((p, p))
        self.tally = Tally()
        # (rows, trust columns) of this week's good and bad experiences, applied together in phase 8
        self._trust_events_good: list[tuple[np.ndarray, np.ndarray]] = []
        self._trust_events_bad: list[tuple[np.ndarray, np.ndarray]] = []
        self.unmet_by_resident = np.zeros(n, np.float32)
        self.wellbeing = needs.wellbeing(self.need, self.connection)
        self.multiple_disadvantage = np.zeros(n, bool)
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

        # Observation buffers (ODD 7.11); behaviour scores start from the initial state
        self.behaviour_scores = score_behaviours(self, dict.fromkeys(MONTH_COUNTS, 0.0))
        self.n_weeks = WEEKS_PER_YEAR * (params.years + params.burn_in_years)
        self.weekly = np.zeros((self.n_weeks, len(WEEKLY_COLUMNS)))
        self.neighbourhood_rows: list[np.ndarray] = []
        self.journeys: JourneyRecorder | None = None  # residents followed week by week (observation; see follow)

    # ------------------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One week (ODD 3); learning cycles, quarterly reviews and annual commissioning follow as scheduled events."""
        self.apply_life_events()  # 1. shocks raise needs, more in deprived places; strengths aid recovery
        self.couple_needs()  # 2. unmet need in one domain feeds linked domains
        self.respond_to_crises()  # 3. needs past the crisis threshold get a costly emergency response
        self.seek_help()  # 4. residents ask for help, act on signposts, chase while waiting
        self.triage()  # 5. right door? eligible? onto a waiting list, brief help, a referral or a refusal
        self.admit()  # 6. the longest-waiting start support where staff capacity is free
        self.provide_support()  # 7. standardised or bespoke support; cases close; referrals onward
        self.update_resident_trust()  # 8. asymmetric trust from experience; word of mouth monthly
        self.update_provider_ties()  # 9. ties grow with joint work, decay, break with staff turnover
        self.account_spending()  # 10. the week's staff are paid; next week's capacity is set
        self.observe()  # 11. indicators

    # --- 1 --------------------------------------------------------------------------------------------------------
    def apply_life_events(self) -> None:
        rel = self.params.relations
        needs.relax_strengths(self.resilience, self.resilience_base, rel.strength_decay_rate)
        needs.relax_strengths(self.connection, self.connection_base, rel.strength_decay_rate)
        recovery = needs.recovery_rate(rel.natural_recovery_rate, self.resilience, self.connection)
        self.tally["life_events"] += needs.apply_life_events(
            self.need, self.hazard, _RowView(self.domain_cumweights_by_neighbourhood, self.home),
            rel.shock_size, recovery, self.rng,
        )

    # --- 2 --------------------------------------------------------------------------------------------------------
    def couple_needs(self) -> None:
        rel = self.params.relations
        excess = needs.unmet_excess(self.need, rel.coupling_floor, self._addressed_rows, self._addressed)
        self.unmet_by_resident = row_sum(excess)
        self.tally["unmet_need"] = float(self.unmet_by_resident.mean())
        needs.couple_needs(self.need, excess, self.coupling)

    # --- 3 --------------------------------------------------------------------------------------------------------
    def respond_to_crises(self) -> None:
        rel = self.params.relations
        week = self.steps
        self._need_max, self._need_argmax = row_argmax(self.need)
        crisis = needs.in_crisis(self._need_max, self.crisis_until, week, rel.crisis_threshold)
        if crisis.size == 0:
            return
        domain = self._need_argmax[crisis]
        self.need[crisis, domain] = np.maximum(self.need[crisis, domain] - rel.crisis_relief, 0.0)
        self.crisis_until[crisis] = week + rel.crisis_cooldown_weeks
        self._count_contacts(crisis, domain)
        self.tally["crises"] += crisis.size
        self.tally["spend_emergency"] += rel.emergency_cost * crisis.size
        np.subtract.at(self.budget_remaining, domain, rel.emergency_cost)  # declared emergency spend
        self.crises_by_neighbourhood += np.bincount(self.home[crisis], minlength=self.place.n_neighbourhoods)
        if self.journeys is not None:
            self.journeys.note(week, "crisis", crisis, domain=domain)
        idle = crisis[self._idle(crisis)]
        if idle.size:  # emergency services refer urgently to the service for the crisis domain
            self._arrivals.append((idle, self._need_argmax[idle].astype(np.int16), self._need_argmax[idle], False))

    # --- 4 --------------------------------------------------------------------------------------------------------
    def seek_help(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        candidates = np.flatnonzero(
            (self._need_max >= rel.seek_floor)
            & (self.case_provider < 0) & (self.wait_provider < 0) & (self.referral_target < 0)
        )
        if candidates.size:
            domain = self._need_argmax[candidates]
            org = self.org_of_neighbourhood[self.home[candidates]]
            door, to_org = seeking.choose_door(domain, org, self.provider_open[org], self.n_services,
                                               rel.p_community_door, world.p_wrong_door, self.rng)
            column = np.where(to_org, self.org_trust_column, door)
            p_seek = seeking.seek_probability(
                self._need_max[candidates], self.trust[candidates, column], rel.seek_rate, rel.seek_floor
            )
            asks = self.rng.random(candidates.size) < p_seek
            if asks.any():
                who = candidates[asks]
                self._count_contacts(who, domain[asks])
                if self.journeys is not None:
                    self._note_contacts(who, door[asks], domain[asks])
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
        acts = seeking.acts_on_signpost(self.trust[holders, column], rel.p_signpost_take_up, self.rng)
        who = holders[acts]
        if who.size:
            domain = self.referral_domain[who].astype(np.intp)
            self._count_contacts(who, domain)
            if self.journeys is not None:
                self._note_contacts(who, self.referral_target[who], domain)
            self._arrivals.append((who, self.referral_target[who].copy(), domain, True))
            self.referral_target[who] = NONE
        lapsed = holders[~acts & (self.referral_weeks[holders] >= rel.referral_expiry_weeks)]
        if lapsed.size:
            self.tally["lost_referrals"] += lapsed.size
            if self.journeys is not None:
                self.journeys.note(self.steps, "lost_referral", lapsed, self.referral_target[lapsed],
                                   self.referral_domain[lapsed])
            self._remember_failure(lapsed, self.referral_domain[lapsed].astype(np.intp), failure.LOST_REFERRAL)
            self.referral_target[lapsed] = NONE

    def _chase(self) -> None:
        rel = self.params.relations
        waiting = np.flatnonzero(self.wait_provider >= 0)
        if waiting.size == 0:
            return
        self.wait_weeks[waiting] += 1
        # people who recover while waiting leave the list
        recovered = self.need[waiting, self.wait_domain[waiting]] < rel.resolved_level
        if self.journeys is not None:
            left = waiting[recovered]
            self.journeys.note(self.steps, "left_list", left, self.wait_provider[left], self.wait_domain[left])
        self.wait_provider[waiting[recovered]] = NONE
        self.tally["left_waiting_recovered"] += int(recovered.sum())
        waiting = waiting[~recovered]
        due = waiting[self.wait_weeks[waiting] >= rel.chase_after_weeks]
        chasers = due[seeking.chases(due.size, rel.p_chase, self.rng)]
        if chasers.size:
            self._handle_contacts(self.wait_provider[chasers].astype(np.intp))
            self.tally["contacts_failure"] += chasers.size
            self.tally["failure_chasing"] += chasers.size
            if self.journeys is not None:
                self.journeys.note(self.steps, "chased", chasers, self.wait_provider[chasers],
                                   self.wait_domain[chasers])
            self._bad(chasers, self._trust_column(self.wait_provider[chasers]))

    # --- 5 --------------------------------------------------------------------------------------------------------
    def triage(self) -> None:
        """Every arrival is assessed (``rules.triage.triage``): a waiting list, brief help, a referral or a refusal."""
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
        at_service = door < self.n_services
        self.tally["triaged"] += int(at_service.sum())
        self._handle_contacts(door)
        arrived = np.bincount(door, minlength=self.n_providers)
        self.arrivals_quarter += arrived
        self.arrivals_year += arrived
        local_org = self.org_of_neighbourhood[self.home[who]]
        practice = self.practice
        t = triage.triage(at_service, domain == door, self.need[who, domain], self.threshold[door],
                          practice.bespoke[door], practice.no_wrong_door[door], self.provider_open[local_org],
                          rel.org_case_ceiling, rel.brief_help_below, practice.proportionate[door])
        if self.journeys is not None:
            for kind, mask in (("bounced", t.bounced), ("refused", t.refused), ("brief_help", t.brief_help),
                               ("queued", t.queue)):
                self.journeys.note(self.steps, kind, who[mask], door[mask], domain[mask])
        if t.bounced.any():
            self.tally["bounces"] += int(t.bounced.sum())
            self._bad(who[t.bounced], door[t.bounced])
        if t.refused.any():
            self.tally["refusals"] += int(t.refused.sum())
            self._bad(who[t.refused], door[t.refused])
            self._remember_failure(who[t.refused], domain[t.refused], failure.BOUNCE)
        if t.refer_service.any():
            onward = t.refer_service
            self.refer(who[onward], door[onward], domain[onward], domain[onward], failure.BOUNCE)
        if t.refer_community.any():
            on = t.refer_community
            self.refer(who[on], door[on], local_org[on], domain[on], failure.BOUNCE)
        if t.brief_help.any():
            self.give_brief_help(who[t.brief_help], domain[t.brief_help], door[t.brief_help])
        self.wait_provider[who[t.queue]] = door[t.queue]
        self.wait_domain[who[t.queue]] = domain[t.queue]
        self.wait_weeks[who[t.queue]] = 0

    def give_brief_help(self, who: np.ndarray, domain: np.ndarray, provider: np.ndarray) -> None:
        """On-the-spot help - at a community organisation, or at a door whose practice gives a proportionate first
        response: a need eased and a connection made, no case opened."""
        rel = self.params.relations
        self.need[who, domain] = np.maximum(self.need[who, domain] - rel.brief_help_effect, 0.0)
        needs.build_strengths(self.connection, who, rel.strength_build_rate)
        self.tally["brief_help"] += who.size
        self._good(who, self._trust_column(provider))

    # --- 6 --------------------------------------------------------------------------------------------------------
    def admit(self) -> None:
        waiting = np.flatnonzero(self.wait_provider >= 0)
        if waiting.size == 0:
            return
        provider = self.wait_provider[waiting].astype(np.intp)
        free = np.where(self.provider_open, self.capacity - self.load - self.contact_load, 0.0)
        wait = self.wait_weeks[waiting]
        by_need = self.practice.by_need[provider]
        priority = triage.waiting_priority(by_need, wait, row_max(self.need[waiting])) if by_need.any() else None
        admitted = waiting[triage.admit_ranked(provider, wait, free, priority)]
        if admitted.size == 0:
            return
        p = self.wait_provider[admitted].astype(np.intp)
        standard = (p < self.n_services) & ~self.practice.bespoke[p]
        self.case_provider[admitted] = p
        self.case_domain[admitted] = np.where(standard, self.wait_domain[admitted], NONE)
        self.case_weeks[admitted] = 0
        self.case_units[admitted] = 1.0
        self.load += np.bincount(p, minlength=self.n_providers)
        self.tally["admissions"] += admitted.size
        if self.journeys is not None:
            self.journeys.note(self.steps, "admitted", admitted, p, self.wait_domain[admitted])
        self.tally["wait_weeks_admitted"] += int(self.wait_weeks[admitted].sum())
        self.wait_provider[admitted] = NONE
        self._good(admitted, self._trust_column(p))

    # --- 7 --------------------------------------------------------------------------------------------------------
    def provide_support(self) -> None:
        """Support lowers needs (``rules.support.support_week``); then cases close (``close_cases``)."""
        rel, world = self.params.relations, self.params.uncertainty
        s = self.n_services
        rows = np.flatnonzero(self.case_provider >= 0)
        self._addressed_rows = rows
        if rows.size == 0:
            self._addressed = np.empty((0, len(self.domains)), np.float32)
            self.load[:] = 0.0
            return
        p = self.case_provider[rows].astype(np.intp)
        quality = support.quality(self.trust[rows, self._trust_column(p)], self.stretch[p])
        # whole-person support reaches its full effect only once the new way is learned (ODD 7.16)
        ramp = change.practice_ramp(self.practice.since, self.steps, world.practice_ramp_weeks, rel.standardised_fit)
        knowledge = self.knowledge[p]
        if (ramp < 1.0).any():  # bespoke cases at services still learning the new way
            knowledge = np.where((self.case_domain[rows] < 0) & (p < s), knowledge * ramp[p], knowledge)
        supported = support.support_week(
            self.need[rows], p, self.case_domain[rows].astype(np.intp), quality, knowledge,
            self.ties[p, :s], support_effect_rate=rel.support_effect_rate, standardised_fit=rel.standardised_fit,
            generalist_share=rel.generalist_share, community_effect_rate=rel.community_effect_rate,
            coordination_cost=world.coordination_cost, joint_work_min_tie=rel.joint_work_min_tie,
            resolved_level=rel.resolved_level,
        )
        self.need[rows] = np.maximum(self.need[rows] - supported.effect, 0.0)
        self._addressed = supported.addressed
        whole_person = rows[self.case_domain[rows] < 0]  # bespoke and community support build strengths
        needs.build_strengths(self.resilience, whole_person, rel.strength_build_rate)
        needs.build_strengths(self.connection, whole_person, rel.strength_build_rate)
        self.case_units[rows] = supported.units
        self.load = np.bincount(p, weights=supported.units, minlength=self.n_providers)
        # joint work costs the partner's staff time too (the meeting has two sides)
        case, partner = np.nonzero(supported.engaged)
        if case.size:
            np.add.at(self.joint_work, (p[case], partner), 1.0)
            self.load += world.coordination_cost * np.bincount(partner, minlength=self.n_providers)
        self.case_weeks[rows] += 1
        self._close_cases(rows, p)

    def _close_cases(self, rows: np.ndarray, p: np.ndarray) -> None:
        rel = self.params.relations
        longest = np.where(p >= self.n_services, rel.community_case_weeks, self.practice.max_case_weeks[p])
        c = support.close_cases(self.need[rows], self.case_weeks[rows], self.case_domain[rows].astype(np.intp),
                                self.practice.episode_weeks[p], longest, rel.resolved_level, rel.need_threshold)
        if not c.closes.any():
            return
        who, p = rows[c.closes], p[c.closes]
        standard = self.case_domain[who] >= 0
        r_early, c_early = np.nonzero(c.early)
        self._remember_failure(who[r_early], c_early, failure.EARLY_CLOSURE)
        r_link, c_link = np.nonzero(c.linked)
        self._remember_failure(who[r_link], c_link, failure.LINKED_NEED)
        self.tally["closures"] += who.size
        self.tally["closures_on_resolution"] += int((c.resolved & ~standard).sum())
        self.tally["early_closures"] += int(c.early.any(axis=1).sum())
        good = ~c.early.any(axis=1)
        if self.journeys is not None:
            self.journeys.note(self.steps, "closed", who[good], p[good], self.case_domain[who[good]])
            self.journeys.note(self.steps, "closed_early", who[~good], p[~good], self.case_domain[who[~good]])
        self.route.record_closures(p, good)
        self._good(who[good], self._trust_column(p[good]))
        self._bad(who[~good], self._trust_column(p[~good]))
        self.case_provider[who] = NONE
        self.case_domain[who] = NONE
        onward = np.flatnonzero(c.onward >= 0)  # a standardised episode refers on the highest linked need it left
        if onward.size:
            target = c.onward[onward]
            self.refer(who[onward], p[onward], target, target, failure.LINKED_NEED)

    def refer(self, who: np.ndarray, source: np.ndarray, target: np.ndarray, domain: np.ndarray, kind: int) -> None:
        """Referral (ODD 7.8): a warm hand-off puts the resident in front of ``target`` next week without a new
        contact and counts as joint work; a signpost (or a failed hand-off) leaves the resident to self-refer,
        and that later contact is failure demand of ``kind``."""
        target = np.asarray(target, np.intp)
        warm = referral.warm_handoffs(self.practice.warm_handoff[source], self.ties[source, target],
                                      self.params.relations.joint_work_min_tie, self.rng)
        if self.journeys is not None:
            self.journeys.note(self.steps, "warm_handoff", who[warm], target[warm], domain[warm])
            self.journeys.note(self.steps, "signposted", who[~warm], target[~warm], domain[~warm])
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

    # --- 8 --------------------------------------------------------------------------------------------------------
    def update_resident_trust(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        events = [(rows, cols, False) for rows, cols in self._trust_events_bad]
        events += [(rows, cols, True) for rows, cols in self._trust_events_good]
        for rows, cols, good in events:
            if rows.size == 0:
                continue
            rate = np.where(cols == self.org_trust_column, rel.trust_gain_rate * rel.community_trust_multiplier,
                            rel.trust_gain_rate).astype(np.float32)
            t = self.trust[rows, cols]
            self.trust[rows, cols] = (trust.gain_trust(t, rate) if good
                                      else trust.lose_trust(t, rate, world.trust_loss_gain_ratio))
        self._trust_events_good.clear()
        self._trust_events_bad.clear()
        if self.steps % WEEKS_PER_MONTH == 0:
            trust.word_of_mouth(self.trust, self.adjacency, self.degree, rel.word_of_mouth_rate)

    # --- 9 --------------------------------------------------------------------------------------------------------
    def update_provider_ties(self) -> None:
        rel, world = self.params.relations, self.params.uncertainty
        joint = self.joint_work + self.joint_work.T
        rt = np.where(self.provider_open, self.practice.relationship_time, 0.0)
        self.ties = ties.update_ties(self.ties, joint, rt, world.relationship_build_rate, rel.tie_decay_rate)
        left = np.flatnonzero(self.rng.random(self.n_providers) < world.p_staff_turnover)
        if left.size:
            self.ties = ties.break_ties(self.ties, left, rel.turnover_tie_loss)
        closed = np.flatnonzero(~self.provider_open)
        if closed.size:
            self.ties = ties.break_ties(self.ties, closed, 1.0)
        self.joint_work[:] = 0.0

    # --- 10 -------------------------------------------------------------------------------------------------------
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
        allowance = money.weekly_allowance(self.budget_year, self.budget_remaining, self.weeks_left_in_year)
        allowance[~self.provider_open] = 0.0
        return allowance

    def set_capacity(self) -> None:
        """Staff case units each provider can field next week, from its affordable weekly spend, less the staff time
        given to relationships, to training and redesign while it changes its way of working, and to mobilising
        after taking over a re-let contract (ODD 7.16)."""
        world, rel = self.params.uncertainty, self.params.relations
        week = self.steps
        away = self.practice.relationship_time + change.training_share(
            self.practice.since, week, world.change_time_share * self.practice.extent, rel.change_weeks)
        mobilising = change.mobilisation_loss(self.relet_week, week, world.relet_disruption_share,
                                              rel.mobilisation_weeks)
        capacity = money.staff_capacity(self._allowance(), self.unit_cost, np.minimum(away, 1.0))
        self.capacity = capacity * (1.0 - mobilising) if mobilising.any() else capacity

    def _handle_contacts(self, provider: np.ndarray) -> None:
        """Every contact and chase takes staff time (Seddon: failure demand consumes capacity)."""
        self.contact_load += self.params.relations.contact_handling_units * np.bincount(
            provider, minlength=self.n_providers)

    # --- 11 -------------------------------------------------------------------------------------------------------
    def observe(self) -> None:
        """Derived state for the week (wellbeing, multiple disadvantage), then the read-only indicators."""
        rel = self.params.relations
        if self.steps % WEEKS_PER_MONTH == 0:
            self.behaviour_scores = score_behaviours(self, month_counts(self))
        self.wellbeing = needs.wellbeing(self.need, self.connection)
        self.multiple_disadvantage = needs.multiple_disadvantage(self.need, rel.need_threshold,
                                                                 rel.multiple_disadvantage_domains)
        self.weekly[self.steps - 1] = observe_week(self)
        if self.journeys is not None:
            self.journeys.snapshot(self)
        if self.steps % WEEKS_PER_MONTH == 0:
            self.neighbourhood_rows.append(neighbourhood_month(self))
            self.crises_by_neighbourhood[:] = 0.0
        # counts made by this week's scheduled events (learning, reviews, spread, commissioning) go to next week
        self.tally.reset()

    # --- scheduled: learning (ODD 7.12) ---------------------------------------------------------------------------
    def learn_practice(self) -> None:
        """A learning cycle: every provider's staff and code learn by March's (1991) rules (ODD 7.12).

        The code learns from staff who do better on the provider's learning signal: resident outcomes (reality),
        or output targets, which reward what helps only on the ``target_alignment`` share of dimensions. Staff are
        socialised to the code at ``p_socialisation``; with ``learning_along_ties`` a partner whose code knows
        more teaches yours. Staff turnover and shifts in what helps (``p_needs_shift``) complete the cycle.
        Practice knowledge then sets how effective each provider's support is.
        """
        world, rel = self.params.uncertainty, self.params.relations
        practice = self.practice
        weeks = self.steps - self.last_learning_week
        self.last_learning_week = self.steps
        reality = self.reality_rows()
        outcomes = self.route.accountability.learning_signal == "outcomes"
        signal = reality if outcomes else np.where(self.target_aligned, reality, -reality)
        actions = learning.act(self.staff_beliefs, self.rng)
        beliefs = learning.socialise(self.staff_beliefs, self.code, practice.p_socialisation, self.rng)
        code = learning.learn_code(self.code, actions, learning.score(actions, signal), signal,
                                   practice.p_code_learning, self.rng)
        if self.route.staff_development.learning_along_ties:
            code = learning.share_along_ties(code, reality, self.ties, rel.joint_work_min_tie,
                                             practice.p_code_learning, self.rng)
        beliefs = learning.replace_staff(beliefs, 1.0 - (1.0 - world.p_staff_turnover) ** weeks, self.rng)
        p_shift = 1.0 - (1.0 - world.p_needs_shift) ** (weeks / WEEKS_PER_YEAR)
        self.reality = learning.shift_reality(self.reality[None, :], p_shift, self.rng)[0]
        self.staff_beliefs, self.code = beliefs, code
        self.knowledge = learning.practice_knowledge(beliefs, self.reality_rows())
        self._learning_event = None
        self._schedule_learning()

    def _schedule_learning(self) -> None:
        """The next learning cycle, ``staff_development.learning_cycle_weeks`` after the last (a Mesa event)."""
        if self._learning_event is not None:
            self._learning_event.cancel()
        cycle = self.route.staff_development.learning_cycle_weeks
        due = max(self.last_learning_week + cycle, int(self.time) + 1)
        self._learning_event = self.schedule_event(self.learn_practice, at=due)

    def reality_rows(self) -> np.ndarray:
        """What helps, as one (read-only) row per provider: the ``reality`` argument of the learning rules."""
        return np.broadcast_to(self.reality, (self.n_providers, self.reality.size))

    # --- scheduled: the route (ODD 7.15) --------------------------------------------------------------------------
    def spread_practice(self) -> None:
        """Quarterly: the new way spreads along working ties, and adopters slip back (``Route.spread``)."""
        adoptions, slips = self.route.spread(self.ties, self.provider_open, self.rng, self.steps)
        self.tally["adoptions"] += adoptions
        self.tally["slips_back"] += slips

    def enact_route(self, year: int) -> None:
        """The scenario's route, at the start of evaluated year ``year`` (called by the commissioner each year).

        In year 0 the first adopters start working the new way, the licensed providers are allowed to, and a
        shared vision raises every tie between providers. In its year, each part of infrastructure is reformed.
        """
        if year == 0:
            self.route.start(self.provider_open, self.steps)
            self.ties = ties.share_vision(self.ties, self.provider_open, self.params.scenario.shared_vision)
        for part in self.route.reforms_due(year):
            self.reform(part)

    def reform(self, part: str) -> None:
        """One part of infrastructure takes its reformed settings for the whole place from now on.

        Commissioning reform resets eligibility thresholds to the new base; contracts already let run to their end
        and are re-let on the new terms. Accountability reform ends rationing, so thresholds that rationing raised
        fall back to the base too (else they would stay frozen wherever the last quarter left them).
        Staff-development reform moves the next learning cycle.
        """
        self.route.reform(part)
        if part in ("commissioning", "accountability"):
            self.threshold[: self.n_services] = self.route.commissioning.eligibility_threshold
        if part == "staff_development" and self._learning_event is not None:
            self._schedule_learning()

    # --- structural changes (called by the commissioner) ----------------------------------------------------------
    def change_provider(self, providers: np.ndarray) -> None:
        """A retendered contract or grant goes to a newcomer: its relationships are gone, residents do not know it.

        The newcomer's staff bring their own beliefs and its code starts neutral; it works the usual way until it
        adopts. Cases and waiting lists transfer to the newcomer. Residents' trust in a new service, or in a new
        local community organisation, starts again from the starting level of their neighbourhood.
        """
        rel = self.params.relations
        self.ties = ties.break_ties(self.ties, providers, 1.0)
        self.staff_beliefs[providers] = learning.new_beliefs(
            providers.size, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        self.code[providers] = 0
        self.knowledge = learning.practice_knowledge(self.staff_beliefs, self.reality_rows())
        self.practice.revert(providers)
        self.relet_week[providers] = self.steps
        start = trust.starting_trust(rel.initial_trust, rel.trust_deprivation_gradient,
                                     self.place.overall_deprivation[self.home]).astype(np.float32)
        for p in providers:
            if p < self.n_services:
                self.trust[:, p] = start
            else:
                local = self.org_of_neighbourhood[self.home] == p
                self.trust[local, self.org_trust_column] = start[local]
        self.tally["provider_changes"] += providers.size

    def close_org(self, org: CommunityOrganisation) -> None:
        """A community organisation closes: its cases and waiting list end unresolved, signposts to it lapse as
        lost referrals, and its ties are gone."""
        i = org.index
        self.provider_open[i] = False
        self.practice.revert([i])
        self.budget_remaining[i] = 0.0
        self.budget_year[i] = 0.0
        dropped = np.flatnonzero((self.case_provider == i) | (self.wait_provider == i))
        self.case_provider[dropped] = NONE
        self.wait_provider[dropped] = NONE
        if dropped.size:
            r, c = np.nonzero(self.need[dropped] > self.params.relations.resolved_level)
            self._remember_failure(dropped[r], c, failure.EARLY_CLOSURE)
        holding = np.flatnonzero(self.referral_target == i)  # sent to a door that has closed
        if holding.size:
            self.tally["lost_referrals"] += holding.size
            self._remember_failure(holding, self.referral_domain[holding].astype(np.intp), failure.LOST_REFERRAL)
            self.referral_target[holding] = NONE
        self.ties = ties.break_ties(self.ties, np.array([i]), 1.0)

    # --- bookkeeping helpers --------------------------------------------------------------------------------------
    def _idle(self, who: np.ndarray) -> np.ndarray:
        return (self.case_provider[who] < 0) & (self.wait_provider[who] < 0) & (self.referral_target[who] < 0)

    def _trust_column(self, provider: np.ndarray) -> np.ndarray:
        return np.minimum(provider, self.org_trust_column).astype(np.intp)

    def _count_contacts(self, who: np.ndarray, domain: np.ndarray) -> None:
        """Classify each contact as it happens (ODD 7.5): failure demand if a failure about that domain is recent."""
        value, failed, kinds = failure.classify_contacts(self.failure_until[who, domain],
                                                         self.failure_kind[who, domain], self.steps)
        self.tally["contacts_value"] += value
        self.tally["contacts_failure"] += failed
        for name, count in zip(failure.FAILURE_KINDS, kinds.tolist(), strict=True):
            self.tally[f"failure_{name}"] += count

    def _note_contacts(self, who: np.ndarray, door: np.ndarray, domain: np.ndarray) -> None:
        """Followed residents' contacts, as value or failure demand (as ``_count_contacts`` classifies them)."""
        failed = self.failure_until[who, domain] > self.steps
        self.journeys.note(self.steps, "asked", who[~failed], door[~failed], domain[~failed])
        self.journeys.note(self.steps, "failure_contact", who[failed], door[failed], domain[failed])

    def follow(self, rows) -> JourneyRecorder:
        """Follow residents ``rows`` from now on (:mod:`sim.journeys`): read-only, changes no result."""
        self.journeys = JourneyRecorder(self, np.asarray(rows))
        return self.journeys

    def _remember_failure(self, who: np.ndarray, domain: np.ndarray, kind: int) -> None:
        self.failure_until[who, domain] = self.steps + self.params.relations.failure_memory_weeks
        self.failure_kind[who, domain] = kind

    def _good(self, who: np.ndarray, column: np.ndarray) -> None:
        self._trust_events_good.append((who, np.asarray(column, np.intp)))

    def _bad(self, who: np.ndarray, column: np.ndarray) -> None:
        self._trust_events_bad.append((who, np.asarray(column, np.intp)))

    # --- running --------------------------------------------------------------------------------------------------
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
        """Headline outcomes over the evaluation period (after burn-in); see sim/outcomes.py and docs/ODD.md."""
        return summarise(self.timeseries(), self.neighbourhoods(), self)


class _RowView:
    """Rows of a per-neighbourhood array looked up through residents' homes, without an (N, D) copy."""

    def __init__(self, table: np.ndarray, index: np.ndarray) -> None:
        self.table, self.index = table, index

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.table[self.index[rows]]
