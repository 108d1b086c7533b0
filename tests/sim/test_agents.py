"""The commissioner (sim/agents.py, docs/ODD.md 7.10) and the model methods it calls (change_provider,
close_org, enact_route, reform): retendering, community grants and closures, the prevention cut after an
overspend, and quarterly rationing and pooling. Commissioner methods are mostly called directly on a freshly
built model, whose construction has already run year 0's commissioning.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import PlaceModel
from sim.agents import Commissioner
from sim.indicators import WEEKLY_COLUMNS
from sim.rules import change, failure, money, trust

MONEY = 3  # the money service: domains are health, mental_health, housing, money, work, safety
LOSS = "infrastructure__before__commissioning__p_retender_loss"
YEARS = "infrastructure__before__commissioning__contract_years"


def build(small_params, **overrides) -> PlaceModel:
    return PlaceModel(small_params(residents=800, **overrides), resident_agents=False)


def starting_trust(model: PlaceModel) -> np.ndarray:
    rel = model.params.relations
    return trust.starting_trust(rel.initial_trust, rel.trust_deprivation_gradient,
                                model.place.overall_deprivation[model.residents.home]).astype(np.float32)


def mark_relationships(model: PlaceModel) -> None:
    """Give every provider something a newcomer would not have: ties, a code and low trust."""
    model.providers.ties = np.full_like(model.providers.ties, 0.5)
    np.fill_diagonal(model.providers.ties, 0.0)
    model.providers.code[:] = 1
    model.residents.trust[:] = 0.01


# --- (a) retendering ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [
    {"scenario": "prototype"},
    {"scenario": "behaviours_without_infrastructure", "scenario__protected": "[money]"},
], ids=["prototype", "protected_override"])
def test_every_unprotected_contract_is_lost_when_retender_loss_is_certain(small_params, overrides):
    """Certain loss, one-year contracts: all but money get a newcomer (no ties, no code, usual way)."""
    model = build(small_params, **overrides, **{LOSS: 1, YEARS: 1})
    assert model.tally["provider_changes"] == 0
    mark_relationships(model)
    model.commissioner.commission_year()  # evaluated year 0: the route starts, then contracts are retendered
    p, s = model.n_providers, model.n_services
    lost = np.flatnonzero(np.arange(p) != MONEY)
    assert model.tally["provider_changes"] == p - 1
    assert not model.providers.ties[lost].any() and not model.providers.ties[:, lost].any()
    assert not model.providers.code[lost].any()
    assert (model.providers.code[MONEY] == 1).all()  # control: the protected in-house team keeps its code
    assert not model.practice.adopted[lost].any()
    assert model.practice.adopted[MONEY]  # the first adopter, protected, still works the new way
    assert (model.practice.p_socialisation[lost] == model.params.practice.usual.p_socialisation).all()
    fresh = starting_trust(model)
    for service in range(s):
        expected = np.full_like(fresh, 0.01) if service == MONEY else fresh
        np.testing.assert_array_equal(model.residents.trust[:, service], expected, err_msg=str(service))
    np.testing.assert_array_equal(model.residents.trust[:, model.org_trust_column], fresh)
    model.step()  # counts made by scheduled events are recorded in the next week's row
    assert model.weekly[0, WEEKLY_COLUMNS.index("provider_changes")] == p - 1


def test_nobody_is_replaced_when_retender_loss_is_zero(small_params):
    """p_retender_loss 0: contracts fall due but every incumbent keeps its ties, code and practice."""
    model = build(small_params, scenario="behaviours_without_infrastructure", **{LOSS: 0, YEARS: 1})
    mark_relationships(model)
    ties = model.providers.ties.copy()
    model.commissioner.commission_year()
    assert model.tally["provider_changes"] == 0
    np.testing.assert_array_equal(model.providers.ties, ties)
    assert (model.providers.code == 1).all()
    assert model.practice.adopted.all()
    assert (model.residents.trust == np.float32(0.01)).all()


def test_contracts_are_retendered_only_when_they_end(small_params):
    """Two-year contracts let in year 0 are not retendered at year 1 even at certain loss, but at year 2."""
    model = build(small_params, **{LOSS: 1, YEARS: 2})
    model.commissioner.commission_year()
    assert model.tally["provider_changes"] == 0
    model.commissioner.commission_year()
    assert model.tally["provider_changes"] == model.n_providers


# --- (b) grants and closures --------------------------------------------------------------------------------
def org_grants(model: PlaceModel) -> np.ndarray:
    return model.providers.budget_year[model.n_services:]


def test_year_0_grants_are_shared_by_residents_served(small_params):
    """Year 0: grants = grant share x budget, split by residents served; services share the rest equally."""
    model = build(small_params)
    world, funding = model.params.uncertainty, model.params.infrastructure.before.funding
    total = world.budget_per_resident * model.n_residents
    grants = org_grants(model)
    assert grants.sum() == pytest.approx(funding.community_grant_share * total)
    np.testing.assert_allclose(grants / grants.sum(), model.org_residents / model.org_residents.sum())
    assert len(set(model.org_residents.tolist())) > 1  # the split is not trivially equal
    np.testing.assert_allclose(model.providers.budget_remaining[model.n_services:], grants)
    services = model.providers.budget_year[: model.n_services]
    np.testing.assert_allclose(services, (total - grants.sum()) / model.n_services)
    assert model.budget_year_total == pytest.approx(total - grants.sum())


def test_later_grants_follow_the_budget_change_and_prevention_factor(small_params):
    """Year 1: grants = share x per_resident x N x (1 + change) x prevention factor, by residents served."""
    model = build(small_params, uncertainty__budget_change_per_year=-0.2)
    first = org_grants(model).copy()
    model.commissioner.prevention_factor = 0.8  # as if an earlier overspend had cut prevention
    model.commissioner.commission_year()
    assert model.commissioner.prevention_factor == 0.8  # no overspend this year: no further cut
    world, funding = model.params.uncertainty, model.params.infrastructure.before.funding
    total = world.budget_per_resident * model.n_residents * 0.8
    assert model.providers.open.all()
    assert org_grants(model).sum() == pytest.approx(funding.community_grant_share * total * 0.8)
    np.testing.assert_allclose(org_grants(model), first * 0.8 * 0.8)


@pytest.mark.parametrize(("change", "closes"), [(-0.4, False), (-0.6, True), (-0.9, True)])
def test_an_organisation_closes_when_its_grant_falls_below_the_viability_share(small_params, change, closes):
    """Below org_viability_share of their first grant organisations close: no cases, waits, ties or budget."""
    # grants at 60 % of the first keep organisations open (viability 50 %); at 40 % or 10 % they close; the
    # services are untouched either way
    model = build(small_params, scenario="behaviours_without_infrastructure",
                  uncertainty__budget_change_per_year=change)
    s, p = model.n_services, model.n_providers
    orgs = np.arange(s, p)
    model.residents.case_provider[:20] = np.resize(orgs, 20)
    model.residents.wait_provider[20:40] = np.resize(orgs, 20)
    model.residents.case_provider[40:50] = MONEY
    model.residents.wait_provider[50:60] = MONEY
    model.commissioner.commission_year()  # year 1 (evaluated year 0): everyone adopts, then grants
    assert model.providers.open[:s].all()
    assert model.providers.open[s:].tolist() == [not closes] * len(orgs)
    assert (model.residents.case_provider[40:50] == MONEY).all()
    assert (model.residents.wait_provider[50:60] == MONEY).all()
    assert model.practice.adopted[:s].all()
    assert (model.providers.ties[:s, :s][~np.eye(s, dtype=bool)] > 0).all()
    if closes:
        assert not (model.residents.case_provider >= s).any() and not (model.residents.wait_provider >= s).any()
        assert not model.providers.ties[orgs].any() and not model.providers.ties[:, orgs].any()
        assert not org_grants(model).any() and not model.providers.budget_remaining[s:].any()
        assert not model.practice.adopted[s:].any()
        assert not model.providers.capacity[s:].any()
    else:
        np.testing.assert_array_equal(model.residents.case_provider[:20], np.resize(orgs, 20))
        np.testing.assert_array_equal(model.residents.wait_provider[20:40], np.resize(orgs, 20))
        assert (model.providers.ties[orgs][:, :s] > 0).all()
        assert (org_grants(model) > 0).all()
        assert model.practice.adopted[s:].all()
    model.step()
    assert model.weekly[0, WEEKLY_COLUMNS.index("community_orgs_open")] == (0 if closes else len(orgs))


def test_signposts_to_an_organisation_that_closes_lapse_as_lost_referrals(small_params):
    """A signpost to a closed door can never be acted on: it lapses at the closure, as a lost referral, and a
    later contact about that need is failure demand; signposts to services are untouched (the control)."""
    model = build(small_params, scenario="behaviours_without_infrastructure", uncertainty__budget_change_per_year=-0.9)
    s = model.n_services
    model.residents.referral_target[:10] = s  # the first organisation
    model.residents.referral_domain[:10] = 2
    model.residents.referral_target[10:15] = MONEY
    model.commissioner.commission_year()
    assert not model.providers.open[s]
    assert (model.residents.referral_target[:10] == -1).all()
    assert (model.residents.referral_target[10:15] == MONEY).all()
    assert model.tally["lost_referrals"] == 10
    assert (model.residents.failure_kind[:10, 2] == failure.LOST_REFERRAL).all()
    assert (model.residents.failure_until[:10, 2] > model.steps).all()


# --- (c) prevention cut after an overspend ------------------------------------------------------------------
@pytest.fixture
def overspend_spy(monkeypatch):
    """Record (commissioner year, services' overspend ratio) each time commission_year starts."""
    seen: list[tuple[int, float]] = []
    real = Commissioner.commission_year

    def spy(self):
        m = self.model
        overspend = max(0.0, -float(m.providers.budget_remaining[: m.n_services].sum())) / max(m.budget_year_total, 1.0)
        seen.append((self.year, overspend))
        return real(self)

    monkeypatch.setattr(Commissioner, "commission_year", spy)
    return seen


@pytest.mark.parametrize("response", [0.2, 1.0, 0.0])
def test_prevention_is_cut_after_an_emergency_overspend(small_params, overspend_spy, response):
    """After an emergency overspend prevention falls to 1 - min(1, response x overspend); at 0 it stays 1."""
    model = PlaceModel(small_params(residents=1000, years=1, uncertainty__budget_per_resident=20,
                                    relations__emergency_cost=2000,
                                    infrastructure__before__funding__prevention_cut_response=response),
                       resident_agents=False)
    for _ in range(52):
        model.step()
    year, overspend = overspend_spy[-1]
    assert year == 1 and overspend > 0.2  # the emergencies did overspend
    factor = model.commissioner.prevention_factor
    assert factor == pytest.approx(max(0.0, 1.0 - response * overspend))
    assert factor == pytest.approx(money.prevention_after_overspend(1.0, overspend, response))
    if response == 0:
        assert factor == 1.0
    else:
        assert factor < 1.0
    share = model.params.infrastructure.before.funding.community_grant_share
    grant_pot = share * 20 * model.n_residents * factor
    if factor >= model.params.relations.org_viability_share:
        assert model.providers.open.all()
        assert org_grants(model).sum() == pytest.approx(grant_pot)
    else:
        assert not model.providers.open[model.n_services:].any()


def test_no_cut_without_an_overspend(small_params, overspend_spy):
    """With a budget far above the year's emergencies there is no overspend and prevention is not cut."""
    model = build(small_params, years=1, uncertainty__budget_per_resident=1000)
    for _ in range(52):
        model.step()
    assert overspend_spy[-1] == (1, 0.0)
    assert model.commissioner.prevention_factor == 1.0


# --- (d) quarterly review -----------------------------------------------------------------------------------
def queue(model: PlaceModel, waits: dict[int, int]) -> None:
    start = 0
    for provider, count in waits.items():
        model.residents.wait_provider[start:start + count] = provider
        start += count


def test_rationing_raises_thresholds_where_waiting_lists_exceed_capacity(small_params):
    """review_quarter: threshold += 0.05 x response x (waiting / capacity - 1), within [base, 0.85]."""
    model = build(small_params)
    s = model.n_services
    base = model.params.infrastructure.before.commissioning.eligibility_threshold
    response = model.params.infrastructure.before.accountability.rationing_response
    capacity = model.providers.capacity[:s].copy()
    assert (capacity > 1.0).all() and (capacity < 5.0).all()
    queue(model, {1: 10, 2: 400, MONEY: 1})  # mental health over capacity, housing far over, money under
    model.providers.arrivals_quarter[:] = 7.0
    model.commissioner.review_quarter()
    expected = np.full(s, base)
    expected[1] = base + 0.05 * response * (10 / capacity[1] - 1.0)
    expected[2] = 0.85
    np.testing.assert_allclose(model.providers.threshold[:s], expected)
    assert model.providers.threshold[1] > base
    assert not model.providers.arrivals_quarter.any()
    model.commissioner.review_quarter()  # the pressure persists: thresholds keep rising
    assert model.providers.threshold[1] == pytest.approx(expected[1] + 0.05 * response * (10 / capacity[1] - 1.0))


@pytest.mark.parametrize("overrides", [
    {"infrastructure__before__accountability__rationing_response": 0},
    {"scenario": "whole_system"},  # accountability reformed in year 0: rationing_response 0
], ids=["no_response", "reformed_accountability"])
def test_no_rationing_response_keeps_thresholds_at_base(small_params, overrides):
    """With rationing_response 0 in force, thresholds stay at base however long the waiting lists."""
    model = build(small_params, **overrides)
    if overrides.get("scenario") == "whole_system":
        model.commissioner.commission_year()  # evaluated year 0: the reforms are enacted
        assert model.route.accountability.rationing_response == 0
    base = model.route.commissioning.eligibility_threshold
    queue(model, {1: 10, 2: 400})
    model.commissioner.review_quarter()
    model.commissioner.review_quarter()
    assert (model.providers.threshold[: model.n_services] == base).all()


def test_a_pooled_budget_follows_the_cost_of_demand(small_params):
    """Pooled funding re-splits open providers' budgets by (arrivals + 1) x unit cost; silo funding not."""
    pooled = build(small_params, scenario="whole_system")
    pooled.commissioner.commission_year()
    assert pooled.route.funding.pooled_budget
    silo = build(small_params)
    for model in (pooled, silo):
        model.providers.budget_remaining[:] *= 0.5  # part-way through the year
        model.providers.arrivals_quarter[:] = np.arange(model.n_providers, dtype=float)
    remaining, year = silo.providers.budget_remaining.copy(), silo.providers.budget_year.copy()
    silo.commissioner.review_quarter()
    np.testing.assert_array_equal(silo.providers.budget_remaining, remaining)
    np.testing.assert_array_equal(silo.providers.budget_year, year)

    remaining, year = pooled.providers.budget_remaining.copy(), pooled.providers.budget_year.copy()
    weights = (np.arange(pooled.n_providers) + 1.0) * pooled.providers.unit_cost
    pooled.commissioner.review_quarter()
    np.testing.assert_allclose(pooled.providers.budget_remaining, remaining.sum() * weights / weights.sum())
    np.testing.assert_allclose(pooled.providers.budget_year, year.sum() * weights / weights.sum())
    training = change.training_share(pooled.practice.since, pooled.steps,
                                     pooled.params.uncertainty.change_time_share * pooled.practice.extent,
                                     pooled.params.relations.change_weeks)
    assert (training > 0).all()  # every provider has just started the new way: it is retraining (ODD 7.16)
    expected = money.staff_capacity(
        money.weekly_allowance(pooled.providers.budget_year, pooled.providers.budget_remaining,
                               pooled.weeks_left_in_year),
        pooled.providers.unit_cost, pooled.relationship_time() + training)
    np.testing.assert_allclose(pooled.providers.capacity, expected)
