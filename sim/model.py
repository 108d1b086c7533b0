"""PlaceModel: residents, services, community organisations and a commissioner, week by week (ODD 3).

The weekly schedule is :meth:`PlaceModel.step`, twelve phases numbered as docs/ODD.md section 3 numbers them;
each phase is one method that calls the rule functions of :mod:`sim.rules` on whole arrays and applies what
they decide. Residents' and providers' state lives in structures of NumPy arrays owned by the model
(:mod:`sim.state`); Mesa agents (:mod:`sim.agents`) are handles onto it. Learning cycles, quarterly reviews,
the spread of practice and annual commissioning are Mesa events (``schedule_recurring``) that run after the
week's step. The route - which way each provider works and the infrastructure in force - is
:class:`sim.route.Route`. Observation is read-only (:mod:`sim.indicators`).
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
    Persistence,
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
from .rules import (
    change,
    failure,
    learning,
    money,
    needs,
    population,
    referral,
    seeking,
    support,
    ties,
    triage,
    trust,
)
from .rules.arrays import row_argmax, row_max, row_sum
from .state import LONG_STANDING, NONE, Providers, Residents

WEEKS_PER_YEAR = 52
WEEKS_PER_MONTH = 4  # "month" = four weeks, 13 to a year


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

        # Place and residents (ODD 5): one row per resident, stored in neighbourhood order
        self.place = build_place(params.place, self.domains, self.rng)
        counts = allocate_residents(self.place.population, params.residents)
        self.residents_per_neighbourhood = counts
        self.n_residents = n = int(counts.sum())
        self.n_services = s = d  # services 0..S-1 (service s serves domain s), then community organisations
        self.org_trust_column = s  # trust: one column per service, then one for the local community organisation
        self.residents = r = Residents(np.repeat(np.arange(self.place.n_neighbourhoods, dtype=np.int32), counts),
                                       d, s + 1)
        dep = self.place.deprivation.astype(np.float32)
        overall = self.place.overall_deprivation
        # who lives here: every resident, at the start and whenever a newcomer moves in, is drawn from the profile
        # of their neighbourhood (ODD 5, 7.18, 7.19)
        self.profile = population.Profile(
            need_mean=rel.initial_need_scale * (0.15 + dep), overall=overall,
            p_entrenched=population.entrenched_probability(overall, world.entrenched_share,
                                                           rel.entrenched_deprivation_gradient),
            chronic_domains=np.isin(self.domains, rel.entrenched_domains), p_chronic_domain=rel.p_chronic_domain,
            chronic_level=rel.chronic_level, entrenchment_recovery_rate=world.entrenchment_recovery_rate,
            initial_trust=rel.initial_trust, trust_deprivation_gradient=rel.trust_deprivation_gradient,
        )
        self.leave_factor_by_neighbourhood = population.relative_by_deprivation(overall,
                                                                                rel.leave_deprivation_gradient)
        # residents here at the start have lived here a while: an entrenched resident's hazard of leaving
        settled = population.leave_hazard(np.full(n, rel.chronic_level), self.leave_factor_by_neighbourhood[r.home],
                                          world.leave_rate, rel.leave_need_gradient)
        self.move_in(np.arange(n), LONG_STANDING, settled_hazard=settled)
        self.spell_domains = np.isin(np.arange(d), [self.domains.index(x) for x in rel.spell_domains])
        self.hazard_by_neighbourhood = needs.life_event_hazard(
            overall, world.shock_rate, world.deprivation_shock_gradient, world.demand_level
        )
        r.hazard[:] = self.hazard_by_neighbourhood[r.home]
        # Life events hit domains in proportion to the neighbourhood's deprivation in each (plus a floor).
        self.domain_weights_by_neighbourhood = dep + 0.1
        self.domain_cumweights_by_neighbourhood = np.cumsum(self.domain_weights_by_neighbourhood, axis=1)
        self._base_hazard_by_neighbourhood = self.hazard_by_neighbourhood
        self.demand_change_domains = np.isin(self.domains, rel.demand_change_domains)
        self.adjacency = neighbourhood_small_world(counts, rel.social_degree, rel.p_social_rewire, self.rng)
        self.degree = np.asarray(self.adjacency.sum(axis=1)).ravel().astype(np.float32)

        # Providers: services 0..S-1, then community organisations S..P-1.
        n_orgs = self.place.n_orgs
        self.n_providers = p = s + n_orgs
        self.org_of_neighbourhood = (s + self.place.org_cluster).astype(np.int32)
        self.org_residents = np.bincount(self.place.org_cluster, weights=counts, minlength=n_orgs)
        self.providers = pr = Providers(p, rel.staff_per_provider, rel.learning_dimensions)
        # The route (ODD 7.15): which way each provider works, and the infrastructure in force.
        self.route = Route(params, self.domains, p)
        self.practice = self.route.practice
        pr.threshold[:s] = self.route.commissioning.eligibility_threshold
        pr.unit_cost[:] = np.r_[np.full(s, rel.case_week_cost), np.full(n_orgs, rel.community_case_week_cost)]
        pr.ties[:] = rel.initial_tie_strength
        np.fill_diagonal(pr.ties, 0.0)
        # Learning (ODD 7.12): what helps people here (reality), each provider's staff beliefs and code
        self.reality = learning.new_reality(1, rel.learning_dimensions, self.rng)[0]
        pr.staff_beliefs[:] = learning.new_beliefs(p, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        pr.target_aligned[:] = self.rng.random((p, rel.learning_dimensions)) < world.target_alignment
        pr.knowledge[:] = learning.practice_knowledge(pr.staff_beliefs, self.reality_rows())
        self.coupling = needs.coupling_matrix(parse_coupling_links(rel.coupling_links, self.domains), d,
                                              world.need_coupling)

        self._arrivals: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []
        self._addressed_rows = np.empty(0, np.int64)
        self._addressed = np.empty((0, d), np.float32)
        self._need_max, self._need_argmax = row_argmax(r.need)
        self.tally = Tally()
        # (rows, trust columns) of this week's good and bad experiences, applied together in phase 8
        self._trust_events_good: list[tuple[np.ndarray, np.ndarray]] = []
        self._trust_events_bad: list[tuple[np.ndarray, np.ndarray]] = []
        self.crises_by_neighbourhood = np.zeros(self.place.n_neighbourhoods)

        self.last_learning_week = 0
        self._learning_event = None  # the next learning cycle, a Mesa event (scheduled below)

        # Mesa agents: the model's face (a newcomer gets a new handle: ``move_in``)
        self.resident_handles = [Resident(self, row) for row in range(n)] if resident_agents else None
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
        self.burn_in_weeks = WEEKS_PER_YEAR * params.burn_in_years
        self.persistence = Persistence()  # of severe and multiple disadvantage, year on year (ODD 7.11)
        self.observers: list[JourneyRecorder] = []  # observation only: residents followed week by week (follow)

    # ------------------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One week (ODD 3); learning cycles, quarterly reviews and annual commissioning follow as scheduled events."""
        self.move_in_and_out()  # 1. residents leave (moving away or dying); newcomers take their homes
        self.apply_life_events()  # 2. shocks raise needs, more in deprived places; strengths aid recovery
        self.couple_needs()  # 3. unmet need in one domain feeds linked domains
        self.respond_to_crises()  # 4. crises get a costly emergency response; emergency spells cost until they end
        self.seek_help()  # 5. residents ask for help, act on signposts, chase while waiting
        self.triage()  # 6. right door? eligible? onto a waiting list, brief help, a referral or a refusal
        self.admit()  # 7. the longest-waiting start support where staff capacity is free
        self.provide_support()  # 8. standardised or bespoke support; cases close; referrals onward
        self.update_resident_trust()  # 9. asymmetric trust from experience; word of mouth monthly
        self.update_provider_ties()  # 10. ties grow with joint work, decay, break with staff turnover
        self.account_spending()  # 11. the week's staff are paid; next week's capacity is set
        self.observe()  # 12. indicators

    # --- 1 --------------------------------------------------------------------------------------------------------
    def move_in_and_out(self) -> None:
        """Residents leave with a weekly hazard that rises with their largest need and their neighbourhood's
        deprivation (``rules.population.leave_hazard``); each leaver's home is taken by a newcomer (ODD 7.18)."""
        rel, world, r = self.params.relations, self.params.uncertainty, self.residents
        if world.leave_rate <= 0:
            return
        factor = self.leave_factor_by_neighbourhood
        ceiling = float(population.leave_hazard(np.ones(1), factor.max(keepdims=True), world.leave_rate,
                                                rel.leave_need_gradient)[0])
        leavers = population.who_leaves(self.n_residents, ceiling, lambda rows: population.leave_hazard(
            row_max(r.need[rows]), factor[r.home[rows]], world.leave_rate, rel.leave_need_gradient), self.rng)
        if leavers.size:
            self.move_out(leavers)
            self.move_in(leavers, self.steps)

    def move_out(self, rows: np.ndarray) -> None:
        """Residents ``rows`` leave the place: their cases, waiting lists, signposts and emergency spells end with
        them (no failure is recorded: nobody is left to come back), and help already on its way to them lapses."""
        self.tally["left"] += rows.size
        self._emit("left", rows)
        gone = np.zeros(self.n_residents, bool)
        gone[rows] = True
        self._arrivals = [(who[~gone[who]], door[~gone[who]], domain[~gone[who]], flag)
                          for who, door, domain, flag in self._arrivals]
        if self._addressed_rows.size:  # support given last week shields the leaver's needs, not the newcomer's
            self._addressed[gone[self._addressed_rows]] = 0.0

    def move_in(self, rows: np.ndarray, week: int, settled_hazard: np.ndarray | None = None) -> None:
        """Rows ``rows`` hold new residents from ``week``: no history (``Residents.reset``), and needs, strengths,
        trust and entrenchment drawn from the profile of the neighbourhood they move into
        (``rules.population.draw_people``; ``settled_hazard`` for those here before the start)."""
        r = self.residents
        r.reset(rows)
        person = population.draw_people(r.home[rows], self.profile, self.n_services + 1, self.rng, settled_hazard)
        r.need[rows] = person.need
        r.resilience_base[rows] = r.resilience[rows] = person.resilience
        r.connection_base[rows] = r.connection[rows] = person.connection
        r.trust[rows] = person.trust
        r.entrenchment[rows] = person.entrenchment
        r.chronic[rows] = person.chronic
        r.arrived_week[rows] = week
        r.wellbeing[rows] = needs.wellbeing(person.need, person.connection)
        if week != LONG_STANDING:
            self.tally["arrived"] += rows.size
            if self.resident_handles is not None:
                for row in rows.tolist():
                    self.resident_handles[row].remove()
                    self.resident_handles[row] = Resident(self, row)

    # --- 2 --------------------------------------------------------------------------------------------------------
    def apply_life_events(self) -> None:
        rel, r = self.params.relations, self.residents
        needs.relax_strengths(r.resilience, r.resilience_base, rel.strength_decay_rate)
        needs.relax_strengths(r.connection, r.connection_base, rel.strength_decay_rate)
        recovery = needs.recovery_rate(rel.natural_recovery_rate, r.resilience, r.connection)
        self.tally["life_events"] += needs.apply_life_events(
            r.need, r.hazard, _RowView(self.domain_cumweights_by_neighbourhood, r.home), rel.shock_size, recovery,
            self.rng,
        )
        entrenched = np.flatnonzero(r.entrenchment > 0)  # their chronic needs return; entrenchment rarely ends
        if entrenched.size:
            population.recover_entrenchment(r.entrenchment, entrenched,
                                            self.params.uncertainty.entrenchment_recovery_rate, self.rng)
            floor = population.chronic_floor(r.entrenchment[entrenched], r.chronic[entrenched], rel.chronic_level)
            needs.return_to_chronic(r.need, entrenched, floor, recovery)

    # --- 3 --------------------------------------------------------------------------------------------------------
    def couple_needs(self) -> None:
        rel, r = self.params.relations, self.residents
        excess = needs.unmet_excess(r.need, rel.coupling_floor, self._addressed_rows, self._addressed)
        r.unmet_by_resident[:] = row_sum(excess)
        self.tally["unmet_need"] = float(r.unmet_by_resident.mean())
        needs.couple_needs(r.need, excess, self.coupling)

    # --- 4 --------------------------------------------------------------------------------------------------------
    def respond_to_crises(self) -> None:
        """Emergency spells whose need is resolved end; crises get an emergency response (and, in a spell domain,
        start a spell); every spell under way costs its week (ODD 7.3)."""
        rel, r = self.params.relations, self.residents
        week = self.steps
        self._need_max, self._need_argmax = row_argmax(r.need)
        self._end_spells()
        crisis = needs.in_crisis(self._need_max, r.crisis_until, week, rel.crisis_threshold)
        if crisis.size:
            self._respond(crisis)
        self._pay_for_spells()

    def _respond(self, crisis: np.ndarray) -> None:
        rel, r = self.params.relations, self.residents
        week = self.steps
        domain = self._need_argmax[crisis]
        r.need[crisis, domain] = np.maximum(r.need[crisis, domain] - rel.crisis_relief, 0.0)
        r.crisis_until[crisis] = week + rel.crisis_cooldown_weeks
        self._count_contacts(crisis, domain)
        self.tally["crises"] += crisis.size
        self.tally["spend_emergency"] += rel.emergency_cost * crisis.size
        np.subtract.at(self.providers.budget_remaining, domain, rel.emergency_cost)  # declared emergency spend
        np.add.at(self.providers.emergency_year, domain, rel.emergency_cost)
        self.crises_by_neighbourhood += np.bincount(r.home[crisis], minlength=self.place.n_neighbourhoods)
        self._emit("crisis", crisis, domain=domain)
        starts = self.spell_domains[domain] & (r.spell_domain[crisis] < 0)  # e.g. temporary accommodation
        if starts.any():
            r.spell_domain[crisis[starts]] = domain[starts]
            self.tally["spells_started"] += int(starts.sum())
            self._emit("spell_started", crisis[starts], domain=domain[starts])
        idle = crisis[r.idle(crisis)]
        if idle.size:  # emergency services refer urgently to the service for the crisis domain
            self._arrivals.append((idle, self._need_argmax[idle].astype(np.int16), self._need_argmax[idle], False))

    def _end_spells(self) -> None:
        """An emergency spell ends when the need that started it is resolved (the resident can move on)."""
        r = self.residents
        in_spell = np.flatnonzero(r.spell_domain >= 0)
        if in_spell.size:
            ended = in_spell[r.need[in_spell, r.spell_domain[in_spell]] < self.params.relations.resolved_level]
            self._emit("spell_ended", ended, domain=r.spell_domain[ended])
            r.spell_domain[ended] = NONE

    def _pay_for_spells(self) -> None:
        """Every emergency spell under way costs ``spell_week_cost`` this week, charged to the budget of the service
        for its domain (declared emergency spend, like a crisis)."""
        r = self.residents
        spells = np.bincount(r.spell_domain[r.spell_domain >= 0], minlength=self.n_services)
        if spells.any():
            cost = self.params.relations.spell_week_cost * spells
            self.providers.budget_remaining[: self.n_services] -= cost
            self.providers.emergency_year[: self.n_services] += cost
            self.tally["spend_emergency"] += float(cost.sum())

    # --- 5 --------------------------------------------------------------------------------------------------------
    def seek_help(self) -> None:
        rel, world, r = self.params.relations, self.params.uncertainty, self.residents
        candidates = np.flatnonzero(
            (self._need_max >= rel.seek_floor) & (r.case_provider < 0) & (r.wait_provider < 0)
            & (r.referral_target < 0)
        )
        if candidates.size:
            domain = self._need_argmax[candidates]
            org = self.org_of_neighbourhood[r.home[candidates]]
            # a newcomer does not yet know which door is right (ODD 7.18)
            newcomer = self.steps - r.arrived_week[candidates] < rel.newcomer_weeks
            p_wrong = np.where(newcomer, max(world.p_wrong_door, rel.p_wrong_door_newcomer), world.p_wrong_door)
            door, to_org = seeking.choose_door(domain, org, self.providers.open[org], self.n_services,
                                               rel.p_community_door, p_wrong, self.rng)
            column = np.where(to_org, self.org_trust_column, door)
            p_seek = seeking.seek_probability(
                self._need_max[candidates], r.trust[candidates, column], rel.seek_rate, rel.seek_floor
            )
            asks = self.rng.random(candidates.size) < p_seek
            if asks.any():
                who = candidates[asks]
                self._count_contacts(who, domain[asks], door[asks])
                self._arrivals.append((who, door[asks], domain[asks], True))
        self._act_on_signposts()
        self._chase()

    def _act_on_signposts(self) -> None:
        rel, r = self.params.relations, self.residents
        holders = np.flatnonzero(r.referral_target >= 0)
        if holders.size == 0:
            return
        r.referral_weeks[holders] += 1
        column = self._trust_column(r.referral_target[holders])
        acts = seeking.acts_on_signpost(r.trust[holders, column], rel.p_signpost_take_up, self.rng)
        who = holders[acts]
        if who.size:
            domain = r.referral_domain[who].astype(np.intp)
            self._count_contacts(who, domain, r.referral_target[who])
            self._arrivals.append((who, r.referral_target[who].copy(), domain, True))
            r.referral_target[who] = NONE
        lapsed = holders[~acts & (r.referral_weeks[holders] >= rel.referral_expiry_weeks)]
        if lapsed.size:
            self.tally["lost_referrals"] += lapsed.size
            self._emit("lost_referral", lapsed, r.referral_target[lapsed], r.referral_domain[lapsed])
            self._remember_failure(lapsed, r.referral_domain[lapsed].astype(np.intp), failure.LOST_REFERRAL)
            r.referral_target[lapsed] = NONE

    def _chase(self) -> None:
        rel, r = self.params.relations, self.residents
        waiting = np.flatnonzero(r.wait_provider >= 0)
        if waiting.size == 0:
            return
        r.wait_weeks[waiting] += 1
        # people who recover while waiting leave the list
        recovered = r.need[waiting, r.wait_domain[waiting]] < rel.resolved_level
        left = waiting[recovered]
        self._emit("left_list", left, r.wait_provider[left], r.wait_domain[left])
        r.wait_provider[left] = NONE
        self.tally["left_waiting_recovered"] += left.size
        waiting = waiting[~recovered]
        due = waiting[r.wait_weeks[waiting] >= rel.chase_after_weeks]
        chasers = due[seeking.chases(due.size, rel.p_chase, self.rng)]
        if chasers.size:
            self._handle_contacts(r.wait_provider[chasers].astype(np.intp))
            self.tally["contacts_failure"] += chasers.size
            self.tally["failure_chasing"] += chasers.size
            self._emit("chased", chasers, r.wait_provider[chasers], r.wait_domain[chasers])
            self._bad(chasers, self._trust_column(r.wait_provider[chasers]))

    # --- 6 --------------------------------------------------------------------------------------------------------
    def triage(self) -> None:
        """Every arrival is assessed (``rules.triage.triage``): a waiting list, brief help, a referral or a refusal."""
        if not self._arrivals:
            return
        rel, r, pr = self.params.relations, self.residents, self.providers
        who = np.concatenate([a[0] for a in self._arrivals])
        door = np.concatenate([a[1] for a in self._arrivals]).astype(np.intp)
        domain = np.concatenate([a[2] for a in self._arrivals]).astype(np.intp)
        self._arrivals = []
        # one assessment per resident per week, and none for anyone already waiting or supported
        who, first = np.unique(who, return_index=True)
        door, domain = door[first], domain[first]
        fresh = r.idle(who) & pr.open[door]  # a closed door helps no one
        who, door, domain = who[fresh], door[fresh], domain[fresh]
        if who.size == 0:
            return
        at_service = door < self.n_services
        self.tally["triaged"] += int(at_service.sum())
        self._handle_contacts(door)
        arrived = np.bincount(door, minlength=self.n_providers)
        pr.arrivals_quarter += arrived
        pr.arrivals_year += arrived
        local_org = self.org_of_neighbourhood[r.home[who]]
        practice = self.practice
        t = triage.triage(at_service, domain == door, r.need[who, domain], pr.threshold[door],
                          practice.bespoke[door], practice.no_wrong_door[door], pr.open[local_org],
                          rel.org_case_ceiling, rel.brief_help_below, practice.proportionate[door])
        for kind, mask in (("bounced", t.bounced), ("refused", t.refused), ("brief_help", t.brief_help),
                           ("queued", t.queue)):
            self._emit(kind, who[mask], door[mask], domain[mask])
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
        r.wait_provider[who[t.queue]] = door[t.queue]
        r.wait_domain[who[t.queue]] = domain[t.queue]
        r.wait_weeks[who[t.queue]] = 0

    def give_brief_help(self, who: np.ndarray, domain: np.ndarray, provider: np.ndarray) -> None:
        """On-the-spot help - at a community organisation, or at a door whose practice gives a proportionate first
        response: a need eased and a connection made, no case opened."""
        rel, r = self.params.relations, self.residents
        r.need[who, domain] = np.maximum(r.need[who, domain] - rel.brief_help_effect, 0.0)
        needs.build_strengths(r.connection, who, rel.strength_build_rate)
        self.tally["brief_help"] += who.size
        self._good(who, self._trust_column(provider))

    # --- 7 --------------------------------------------------------------------------------------------------------
    def admit(self) -> None:
        r, pr = self.residents, self.providers
        waiting = np.flatnonzero(r.wait_provider >= 0)
        if waiting.size == 0:
            return
        provider = r.wait_provider[waiting].astype(np.intp)
        free = np.where(pr.open, pr.capacity - pr.load - pr.contact_load, 0.0)
        wait = r.wait_weeks[waiting]
        by_need = self.practice.by_need[provider]
        priority = triage.waiting_priority(by_need, wait, row_max(r.need[waiting])) if by_need.any() else None
        admitted = waiting[triage.admit_ranked(provider, wait, free, priority)]
        if admitted.size == 0:
            return
        p = r.wait_provider[admitted].astype(np.intp)
        standard = (p < self.n_services) & ~self.practice.bespoke[p]
        r.case_provider[admitted] = p
        r.case_domain[admitted] = np.where(standard, r.wait_domain[admitted], NONE)
        r.case_weeks[admitted] = 0
        r.case_units[admitted] = 1.0
        pr.load += np.bincount(p, minlength=self.n_providers)
        self.tally["admissions"] += admitted.size
        self._emit("admitted", admitted, p, r.wait_domain[admitted])
        self.tally["wait_weeks_admitted"] += int(r.wait_weeks[admitted].sum())
        r.wait_provider[admitted] = NONE
        self._good(admitted, self._trust_column(p))

    # --- 8 --------------------------------------------------------------------------------------------------------
    def provide_support(self) -> None:
        """Support lowers needs (``rules.support.support_week``); then cases close (``close_cases``)."""
        rel, world, r, pr = self.params.relations, self.params.uncertainty, self.residents, self.providers
        s = self.n_services
        rows = np.flatnonzero(r.case_provider >= 0)
        self._addressed_rows = rows
        if rows.size == 0:
            self._addressed = np.empty((0, len(self.domains)), np.float32)
            pr.load[:] = 0.0
            return
        p = r.case_provider[rows].astype(np.intp)
        case_domain = r.case_domain[rows].astype(np.intp)
        quality = support.quality(r.trust[rows, self._trust_column(p)], pr.stretch[p])
        # whole-person support reaches its full effect only once the new way is learned (ODD 7.16)
        ramp = change.practice_ramp(self.practice.since, self.steps, world.practice_ramp_weeks, rel.standardised_fit)
        knowledge = pr.knowledge[p]
        if (ramp < 1.0).any():  # bespoke cases at services still learning the new way
            knowledge = np.where((case_domain < 0) & (p < s), knowledge * ramp[p], knowledge)
        supported = support.support_week(
            r.need[rows], p, case_domain, quality, knowledge, pr.ties[p, :s],
            support_effect_rate=rel.support_effect_rate, standardised_fit=rel.standardised_fit,
            generalist_share=rel.generalist_share, community_effect_rate=rel.community_effect_rate,
            coordination_cost=world.coordination_cost, joint_work_min_tie=rel.joint_work_min_tie,
            resolved_level=rel.resolved_level,
        )
        r.need[rows] = np.maximum(r.need[rows] - supported.effect, 0.0)
        self._addressed = supported.addressed
        whole_person = case_domain < 0  # bespoke and community support build strengths and heal entrenchment
        needs.build_strengths(r.resilience, rows[whole_person], rel.strength_build_rate)
        needs.build_strengths(r.connection, rows[whole_person], rel.strength_build_rate)
        population.heal(r.entrenchment, rows[whole_person], world.relational_healing_rate, quality[whole_person],
                        self.rng)
        r.case_units[rows] = supported.units
        pr.load[:] = np.bincount(p, weights=supported.units, minlength=self.n_providers)
        # joint work costs the partner's staff time too (the meeting has two sides)
        case, partner = np.nonzero(supported.engaged)
        if case.size:
            np.add.at(pr.joint_work, (p[case], partner), 1.0)
            pr.load += world.coordination_cost * np.bincount(partner, minlength=self.n_providers)
        r.case_weeks[rows] += 1
        self._close_cases(rows, p)

    def _close_cases(self, rows: np.ndarray, p: np.ndarray) -> None:
        rel, r = self.params.relations, self.residents
        longest = np.where(p >= self.n_services, rel.community_case_weeks, self.practice.max_case_weeks[p])
        c = support.close_cases(r.need[rows], r.case_weeks[rows], r.case_domain[rows].astype(np.intp),
                                self.practice.episode_weeks[p], longest, rel.resolved_level, rel.need_threshold)
        if not c.closes.any():
            return
        who, p = rows[c.closes], p[c.closes]
        standard = r.case_domain[who] >= 0
        r_early, c_early = np.nonzero(c.early)
        self._remember_failure(who[r_early], c_early, failure.EARLY_CLOSURE)
        r_link, c_link = np.nonzero(c.linked)
        self._remember_failure(who[r_link], c_link, failure.LINKED_NEED)
        self.tally["closures"] += who.size
        self.tally["closures_on_resolution"] += int((c.resolved & ~standard).sum())
        self.tally["early_closures"] += int(c.early.any(axis=1).sum())
        good = ~c.early.any(axis=1)
        self._emit("closed", who[good], p[good], r.case_domain[who[good]])
        self._emit("closed_early", who[~good], p[~good], r.case_domain[who[~good]])
        self.route.record_closures(p, good)
        self._good(who[good], self._trust_column(p[good]))
        self._bad(who[~good], self._trust_column(p[~good]))
        r.case_provider[who] = NONE
        r.case_domain[who] = NONE
        onward = np.flatnonzero(c.onward >= 0)  # a standardised episode refers on the highest linked need it left
        if onward.size:
            target = c.onward[onward]
            self.refer(who[onward], p[onward], target, target, failure.LINKED_NEED)

    def refer(self, who: np.ndarray, source: np.ndarray, target: np.ndarray, domain: np.ndarray, kind: int) -> None:
        """Referral (ODD 7.8): a warm hand-off puts the resident in front of ``target`` next week without a new
        contact and counts as joint work; a signpost (or a failed hand-off) leaves the resident to self-refer,
        and that later contact is failure demand of ``kind``."""
        r = self.residents
        target = np.asarray(target, np.intp)
        warm = referral.warm_handoffs(self.practice.warm_handoff[source], self.providers.ties[source, target],
                                      self.params.relations.joint_work_min_tie, self.rng)
        self._emit("warm_handoff", who[warm], target[warm], domain[warm])
        self._emit("signposted", who[~warm], target[~warm], domain[~warm])
        if warm.any():
            self.tally["warm_handoffs"] += int(warm.sum())
            np.add.at(self.providers.joint_work, (source[warm], target[warm]), 1.0)
            self._arrivals.append((who[warm], target[warm].astype(np.int16), domain[warm], False))
        cold = ~warm
        if cold.any():
            self.tally["signposts"] += int(cold.sum())
            r.referral_target[who[cold]] = target[cold]
            r.referral_domain[who[cold]] = domain[cold]
            r.referral_weeks[who[cold]] = 0
            self._remember_failure(who[cold], domain[cold], kind)

    # --- 9 --------------------------------------------------------------------------------------------------------
    def update_resident_trust(self) -> None:
        rel, world, r = self.params.relations, self.params.uncertainty, self.residents
        events = [(rows, cols, False) for rows, cols in self._trust_events_bad]
        events += [(rows, cols, True) for rows, cols in self._trust_events_good]
        for rows, cols, good in events:
            if rows.size == 0:
                continue
            rate = np.where(cols == self.org_trust_column, rel.trust_gain_rate * rel.community_trust_multiplier,
                            rel.trust_gain_rate).astype(np.float32)
            t = r.trust[rows, cols]
            r.trust[rows, cols] = (trust.gain_trust(t, rate) if good
                                   else trust.lose_trust(t, rate, world.trust_loss_gain_ratio))
        self._trust_events_good.clear()
        self._trust_events_bad.clear()
        if self.steps % WEEKS_PER_MONTH == 0:
            trust.word_of_mouth(r.trust, self.adjacency, self.degree, rel.word_of_mouth_rate)

    # --- 10 -------------------------------------------------------------------------------------------------------
    def update_provider_ties(self) -> None:
        rel, world, pr = self.params.relations, self.params.uncertainty, self.providers
        joint = pr.joint_work + pr.joint_work.T
        rt = np.where(pr.open, self.relationship_time(), 0.0)
        pr.ties = ties.update_ties(pr.ties, joint, rt, world.relationship_build_rate, rel.tie_decay_rate)
        left = np.flatnonzero(self.rng.random(self.n_providers) < world.p_staff_turnover)
        if left.size:
            pr.ties = ties.break_ties(pr.ties, left, rel.turnover_tie_loss)
        closed = np.flatnonzero(~pr.open)
        if closed.size:
            pr.ties = ties.break_ties(pr.ties, closed, 1.0)
        pr.joint_work[:] = 0.0

    # --- 11 -------------------------------------------------------------------------------------------------------
    def account_spending(self) -> None:
        """Pay the week's staff (salaried: paid whether busy or not); set next week's capacity from what is left."""
        s, pr = self.n_services, self.providers
        staff = self._allowance()
        self.tally["staff_utilisation"] = float(
            np.minimum(pr.load + pr.contact_load, pr.capacity).sum() / max(pr.capacity.sum(), 1e-9))
        pr.budget_remaining -= staff
        self.tally["spend_support"] += float(staff[:s].sum())
        self.tally["spend_community"] += float(staff[s:].sum())
        self.weeks_left_in_year = max(self.weeks_left_in_year - 1, 1)
        demand = pr.load + pr.contact_load
        self.set_capacity()
        pr.stretch[:] = np.where(demand > pr.capacity, pr.capacity / np.maximum(demand, 1e-9), 1.0)
        pr.contact_load[:] = 0.0

    def _allowance(self) -> np.ndarray:
        pr = self.providers
        allowance = money.weekly_allowance(pr.budget_year, pr.budget_remaining, self.weeks_left_in_year)
        allowance[~pr.open] = 0.0
        return allowance

    def set_demand(self, factor: float) -> None:
        """A period's demand (ODD 7.1): life events in ``relations.demand_change_domains`` become ``factor`` times
        as frequent as at the start (``rules.needs.demand_path``); the commissioner's year sets it with the
        budget."""
        self.hazard_by_neighbourhood, self.domain_cumweights_by_neighbourhood = needs.demand_path(
            self._base_hazard_by_neighbourhood, self.domain_weights_by_neighbourhood, self.demand_change_domains,
            factor)
        self.residents.hazard[:] = self.hazard_by_neighbourhood[self.residents.home]

    def set_capacity(self) -> None:
        """Staff case units each provider can field next week, from its affordable weekly spend, less the staff time
        given to relationships, to training and redesign while it changes its way of working, and to mobilising
        after taking over a re-let contract (ODD 7.16)."""
        world, rel, pr = self.params.uncertainty, self.params.relations, self.providers
        week = self.steps
        away = self.relationship_time() + change.training_share(
            self.practice.since, week, world.change_time_share * self.practice.extent, rel.change_weeks)
        mobilising = change.mobilisation_loss(pr.relet_week, week, world.relet_disruption_share,
                                              rel.mobilisation_weeks)
        capacity = money.staff_capacity(self._allowance(), pr.unit_cost, np.minimum(away, 1.0))
        pr.capacity[:] = capacity * (1.0 - mobilising) if mobilising.any() else capacity

    def relationship_time(self) -> np.ndarray:
        """Staff time each provider gives to relationships with other providers: its practice's share, cut under
        budget pressure (``money.relationship_time``: staff time for joint work is the first thing cut)."""
        pr = self.providers
        return money.relationship_time(self.practice.relationship_time, pr.budget_year, pr.budget_remaining,
                                       self.weeks_left_in_year, self.params.relations.pressure_relationship_cut)

    def _handle_contacts(self, provider: np.ndarray) -> None:
        """Every contact and chase takes staff time (Seddon: failure demand consumes capacity)."""
        self.providers.contact_load += self.params.relations.contact_handling_units * np.bincount(
            provider, minlength=self.n_providers)

    # --- 12 -------------------------------------------------------------------------------------------------------
    def observe(self) -> None:
        """Derived state for the week (wellbeing, multiple disadvantage), then the read-only indicators and the
        observers (followed residents' journeys)."""
        rel, r = self.params.relations, self.residents
        if self.steps % WEEKS_PER_MONTH == 0:
            self.behaviour_scores = score_behaviours(self, month_counts(self))
        r.wellbeing[:] = needs.wellbeing(r.need, r.connection)
        r.multiple_disadvantage[:] = needs.multiple_disadvantage(r.need, rel.need_threshold,
                                                                 rel.multiple_disadvantage_domains)
        if self.steps >= self.burn_in_weeks and (self.steps - self.burn_in_weeks) % WEEKS_PER_YEAR == 0:
            self.persistence.mark(self)
        self.weekly[self.steps - 1] = observe_week(self)
        for observer in self.observers:
            observer.end_week(self)
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
        world, rel, pr = self.params.uncertainty, self.params.relations, self.providers
        practice = self.practice
        weeks = self.steps - self.last_learning_week
        self.last_learning_week = self.steps
        reality = self.reality_rows()
        outcomes = self.route.accountability.learning_signal == "outcomes"
        signal = reality if outcomes else np.where(pr.target_aligned, reality, -reality)
        actions = learning.act(pr.staff_beliefs, self.rng)
        beliefs = learning.socialise(pr.staff_beliefs, pr.code, practice.p_socialisation, self.rng)
        code = learning.learn_code(pr.code, actions, learning.score(actions, signal), signal,
                                   practice.p_code_learning, self.rng)
        if self.route.staff_development.learning_along_ties:
            code = learning.share_along_ties(code, reality, pr.ties, rel.joint_work_min_tie,
                                             practice.p_code_learning, self.rng)
        beliefs = learning.replace_staff(beliefs, 1.0 - (1.0 - world.p_staff_turnover) ** weeks, self.rng)
        p_shift = 1.0 - (1.0 - world.p_needs_shift) ** (weeks / WEEKS_PER_YEAR)
        self.reality = learning.shift_reality(self.reality[None, :], p_shift, self.rng)[0]
        pr.staff_beliefs, pr.code = beliefs, code
        pr.knowledge[:] = learning.practice_knowledge(beliefs, self.reality_rows())
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
        adoptions, slips = self.route.spread(self.providers.ties, self.providers.open, self.rng, self.steps)
        self.tally["adoptions"] += adoptions
        self.tally["slips_back"] += slips

    def enact_route(self, year: int) -> None:
        """The scenario's route, at the start of evaluated year ``year`` (called by the commissioner each year).

        In year 0 the first adopters start working the new way, the licensed providers are allowed to, and a
        shared vision raises every tie between providers. In its year, each part of infrastructure is reformed.
        """
        if year == 0:
            self.route.start(self.providers.open, self.steps)
            pr = self.providers
            pr.ties = ties.share_vision(pr.ties, pr.open, self.params.scenario.shared_vision)
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
            self.providers.threshold[: self.n_services] = self.route.commissioning.eligibility_threshold
        if part == "staff_development" and self._learning_event is not None:
            self._schedule_learning()

    # --- structural changes (called by the commissioner) ----------------------------------------------------------
    def change_provider(self, providers: np.ndarray) -> None:
        """A retendered contract or grant goes to a newcomer: its relationships are gone, residents do not know it.

        The newcomer's staff bring their own beliefs and its code starts neutral; it works the usual way until it
        adopts. Cases and waiting lists transfer to the newcomer. Residents' trust in a new service, or in a new
        local community organisation, starts again from the starting level of their neighbourhood.
        """
        rel, r, pr = self.params.relations, self.residents, self.providers
        pr.ties = ties.break_ties(pr.ties, providers, 1.0)
        pr.staff_beliefs[providers] = learning.new_beliefs(
            providers.size, rel.staff_per_provider, rel.learning_dimensions, self.rng)
        pr.code[providers] = 0
        pr.knowledge[:] = learning.practice_knowledge(pr.staff_beliefs, self.reality_rows())
        self.practice.revert(providers)
        pr.relet_week[providers] = self.steps
        start = trust.starting_trust(rel.initial_trust, rel.trust_deprivation_gradient,
                                     self.place.overall_deprivation[r.home]).astype(np.float32)
        for p in providers:
            if p < self.n_services:
                r.trust[:, p] = start
            else:
                local = self.org_of_neighbourhood[r.home] == p
                r.trust[local, self.org_trust_column] = start[local]
        self.tally["provider_changes"] += providers.size

    def close_org(self, org: CommunityOrganisation) -> None:
        """A community organisation closes: its cases and waiting list end unresolved, signposts to it lapse as
        lost referrals, and its ties are gone."""
        r, pr = self.residents, self.providers
        i = org.index
        pr.open[i] = False
        self.practice.revert([i])
        pr.budget_remaining[i] = 0.0
        pr.budget_year[i] = 0.0
        dropped = np.flatnonzero((r.case_provider == i) | (r.wait_provider == i))
        r.case_provider[dropped] = NONE
        r.wait_provider[dropped] = NONE
        if dropped.size:
            rows, cols = np.nonzero(r.need[dropped] > self.params.relations.resolved_level)
            self._remember_failure(dropped[rows], cols, failure.EARLY_CLOSURE)
        holding = np.flatnonzero(r.referral_target == i)  # sent to a door that has closed
        if holding.size:
            self.tally["lost_referrals"] += holding.size
            self._remember_failure(holding, r.referral_domain[holding].astype(np.intp), failure.LOST_REFERRAL)
            r.referral_target[holding] = NONE
        pr.ties = ties.break_ties(pr.ties, np.array([i]), 1.0)

    # --- bookkeeping helpers --------------------------------------------------------------------------------------
    def _trust_column(self, provider: np.ndarray) -> np.ndarray:
        return np.minimum(provider, self.org_trust_column).astype(np.intp)

    def _count_contacts(self, who: np.ndarray, domain: np.ndarray, door: np.ndarray | None = None) -> None:
        """Classify each contact as it happens (ODD 7.5): failure demand if a failure about that domain is recent.
        A contact at a ``door`` is reported to observers as asking for help, or asking again."""
        r = self.residents
        value, failed, kinds = failure.classify_contacts(r.failure_until[who, domain], r.failure_kind[who, domain],
                                                         self.steps)
        self.tally["contacts_value"] += value
        self.tally["contacts_failure"] += failed
        for name, count in zip(failure.FAILURE_KINDS, kinds.tolist(), strict=True):
            self.tally[f"failure_{name}"] += count
        if door is not None and self.observers:
            again = r.failure_until[who, domain] > self.steps
            self._emit("asked", who[~again], door[~again], domain[~again])
            self._emit("failure_contact", who[again], door[again], domain[again])

    def _emit(self, kind: str, who: np.ndarray, provider=None, domain=None) -> None:
        """Tell the observers (``follow``) what happened to residents ``who`` this week (a key of
        ``sim.journeys.EVENTS``). Observation only: nothing here changes the model."""
        for observer in self.observers:
            observer.note(self.steps, kind, who, provider, domain)

    def follow(self, rows) -> JourneyRecorder:
        """Follow residents ``rows`` from now on (:mod:`sim.journeys`): read-only, changes no result."""
        self.observers = [o for o in self.observers if not isinstance(o, JourneyRecorder)]
        self.observers.append(JourneyRecorder(self, np.asarray(rows)))
        return self.observers[-1]

    @property
    def journeys(self) -> JourneyRecorder | None:
        """The residents followed week by week, if any (``follow``)."""
        return next((o for o in self.observers if isinstance(o, JourneyRecorder)), None)

    def _remember_failure(self, who: np.ndarray, domain: np.ndarray, kind: int) -> None:
        self.residents.failure_until[who, domain] = self.steps + self.params.relations.failure_memory_weeks
        self.residents.failure_kind[who, domain] = kind

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
